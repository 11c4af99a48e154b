import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pageHead, shareMeta } from '../../../src/control/http/share.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

describe('shared links: oEmbed and the page head', () => {
  let app: TestApp;
  let spaceId: string;
  before(async () => {
    app = await makeTestApp({ server: { publicUrl: 'https://amphi.example' } });
    const host = await app.signUp('share_host');
    const made = await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Tea & "talk" <live>' } });
    spaceId = made.json.space.id as string;
  });
  after(() => app.close());

  const oembed = (url: string, extra = '') => app.call('GET', `/api/oembed?url=${encodeURIComponent(url)}&format=json${extra}`);

  test('oEmbed: a rich embed of /embed/:id for a page, replay or embed link; sized within maxwidth/maxheight', async () => {
    for (const page of ['s', 'r', 'embed']) {
      const res = await oembed(`https://amphi.example/${page}/${spaceId}`);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.type, 'rich');
      assert.equal(res.json.version, '1.0');
      assert.equal(res.json.title, 'Tea & "talk" <live>');
      assert.equal(res.json.author_name, '@share_host');
      assert.equal(
        res.json.html,
        `<iframe src="https://amphi.example/embed/${spaceId}" width="480" height="180" title="Tea &amp; &quot;talk&quot; &lt;live&gt;" allow="autoplay" style="border:0"></iframe>`,
      );
    }
    const small = await oembed(`https://amphi.example/s/${spaceId}`, '&maxwidth=300&maxheight=100');
    assert.deepEqual([small.json.width, small.json.height], [300, 100]);
  });

  test('oEmbed refuses links elsewhere and names no Space it does not have', async () => {
    assert.equal((await oembed(`https://evil.example/s/${spaceId}`)).json.error.code, 'VALIDATION_FAILED');
    assert.equal((await oembed('not a url')).json.error.code, 'VALIDATION_FAILED');
    assert.equal((await oembed('https://amphi.example/settings')).json.error.code, 'SPACE_NOT_FOUND');
    assert.equal((await oembed('https://amphi.example/s/sp_AAAAAAAAAAAA')).status, 404);
    assert.equal((await app.call('GET', `/api/oembed?url=x&format=xml`)).json.error.code, 'VALIDATION_FAILED');
  });

  test('the page head says title, host and state, escaped; og:audio only for a replay', () => {
    const view = {
      id: 'sp_AAAAAAAAAAAA',
      title: '<script>x</script>',
      state: 'ended',
      host: { handle: 'h' },
      listenerCount: 0,
      scheduledStart: null,
      replay: { available: true, durationSeconds: 1500 },
    } as unknown as Parameters<typeof shareMeta>[0];
    const meta = shareMeta(view, 'https://a.example');
    assert.equal(meta.description, 'Replay · 25 min · hosted by @h on Amphi');
    assert.equal(meta.pageUrl, 'https://a.example/r/sp_AAAAAAAAAAAA');
    const head = pageHead(meta);
    assert.ok(!head.includes('<script>'), head);
    assert.match(
      head,
      /<meta property="og:audio" content="https:\/\/a\.example\/api\/spaces\/sp_AAAAAAAAAAAA\/recording\.m4a" \/>/,
    );
    const live = shareMeta(
      { ...view, state: 'live', listenerCount: 12, replay: { available: false, durationSeconds: null } },
      'https://a.example',
    );
    assert.equal(live.description, 'Live now · 12 listening · hosted by @h on Amphi');
    assert.equal(live.pageUrl, 'https://a.example/s/sp_AAAAAAAAAAAA');
    assert.doesNotMatch(pageHead(live), /og:audio/);
    const soon = shareMeta({ ...view, state: 'scheduled', scheduledStart: '2026-12-01T18:30:00.000Z' }, 'https://a.example');
    assert.equal(soon.description, 'Starts 2026-12-01 18:30 UTC · hosted by @h on Amphi');
  });
});
