import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Parser from 'rss-parser';
import type { RecordingFile, RecordingFiles } from '../../../src/control/http/types.ts';
import type { App } from '../../../src/lib/http-app.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';
import { withRecordingFiles } from '../../helpers/recording-app.ts';

/** A finished recording of `size` bytes and `durationMs` (the feed reads only these). */
const recording = (size: number, durationMs: number): RecordingFile => ({
  size,
  durationMs,
  etag: `"r${size}"`,
  read: () => (async function* () {})(), // the feed never reads the bytes
});

describe("a host's replays as a podcast feed", () => {
  let test_: TestApp;
  let app: App;
  const files = new Map<string, RecordingFile>();
  const recordings: RecordingFiles = {
    open: (id) => Promise.resolve(files.get(id)),
    chapters: () => Promise.resolve(undefined),
    cutClip: () => Promise.resolve(undefined),
    clip: () => Promise.resolve(undefined),
  };
  before(async () => {
    test_ = await makeTestApp({ server: { publicUrl: 'https://amphi.example' } });
    app = await withRecordingFiles(test_, recordings);
  });
  after(async () => {
    await app.close();
    await test_.close();
  });

  const show = async (token: string, title: string, o: { anonymous?: boolean; minutes: number; recorded?: boolean }) => {
    const id = (await test_.call('POST', '/api/spaces', { token, body: { title, allowAnonymous: o.anonymous ?? true } })).json
      .space.id as string;
    await test_.call('POST', `/api/spaces/${id}/start`, { token });
    test_.clock.advance(o.minutes * 60_000);
    await test_.call('POST', `/api/spaces/${id}/end`, { token });
    if (o.recorded ?? true) files.set(id, recording(1_000_000 + o.minutes, o.minutes * 60_000));
    test_.clock.advance(60_000);
    return id;
  };

  test('RSS 2.0 with iTunes tags, read by a real parser: one episode per public recorded replay, newest first', async () => {
    const host = await test_.signUp('pod_host');
    const first = await show(host.token, 'Episode one & "friends"', { minutes: 42 });
    const second = await show(host.token, 'Episode two', { minutes: 5 });
    await show(host.token, 'Members only', { minutes: 3, anonymous: false });
    await show(host.token, 'Not recorded', { minutes: 2, recorded: false });
    const other = await test_.signUp('pod_other');
    await show(other.token, "Someone else's", { minutes: 1 });
    const live = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'Still live' } })).json.space
      .id as string;
    await test_.call('POST', `/api/spaces/${live}/start`, { token: host.token });

    const res = await app.inject({ method: 'GET', url: '/api/accounts/by-handle/pod_host/replays.rss' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/rss+xml; charset=utf-8');
    assert.match(res.body, /xmlns:itunes="http:\/\/www\.itunes\.com\/dtds\/podcast-1\.0\.dtd"/);
    const feed = await new Parser().parseString(res.body);
    assert.equal(feed.title, '@pod_host on Amphi');
    assert.equal(feed.itunes?.author, '@pod_host');
    assert.deepEqual(
      feed.items.map((i) => i.title),
      ['Episode two', 'Episode one & "friends"'],
      'public, recorded, ended, this host: newest first',
    );
    const [two, one] = feed.items as [
      Parser.Item & { itunes?: { duration?: string } },
      Parser.Item & { itunes?: { duration?: string } },
    ];
    assert.equal(one.guid, first);
    assert.equal(one.link, `https://amphi.example/r/${first}`);
    const { url, length, type } = one.enclosure ?? {};
    assert.deepEqual(
      { url, length, type },
      {
        url: `https://amphi.example/api/spaces/${first}/recording.m4a`,
        length: '1000042',
        type: 'audio/mp4',
      },
    );
    assert.equal(one.itunes?.duration, '42:00');
    assert.equal(two.guid, second);
    assert.ok(Date.parse(two.pubDate ?? '') > Date.parse(one.pubDate ?? ''));
  });

  test('an unknown host is 404 with a code; an empty feed is still a valid feed', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/accounts/by-handle/nobody_at_all/replays.rss' });
    assert.equal(missing.statusCode, 404);
    assert.equal(JSON.parse(missing.body).error.code, 'ACCOUNT_NOT_FOUND');
    await test_.signUp('pod_quiet');
    const empty = await app.inject({ method: 'GET', url: '/api/accounts/by-handle/pod_quiet/replays.rss' });
    const feed = await new Parser().parseString(empty.body);
    assert.equal(feed.items.length, 0);
  });
});
