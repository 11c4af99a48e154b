import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { makeTestApp } from '../helpers/app.ts';

const AFTER_MS = 600_000;

describe('a live Space that nobody hosts ends by itself (on the test clock)', async () => {
  const onStage = new Map<string, string[]>();
  const app = await makeTestApp({ spaces: { abandonedAfterMs: AFTER_MS } }, { onStage: (spaceId) => onStage.get(spaceId) ?? [] });
  after(() => app.close());
  const watch = app.abandonment!;
  const host = await app.signUp('abandon_host');
  const cohost = await app.signUp('abandon_cohost');
  const speaker = await app.signUp('abandon_speaker');

  async function liveSpace(): Promise<string> {
    const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Left alone' } })).json.space
      .id as string;
    assert.equal((await app.call('POST', `/api/spaces/${id}/start`, { token: host.token })).status, 200);
    return id;
  }
  const view = async (id: string) => (await app.call('GET', `/api/spaces/${id}`)).json.space;

  test('listeners are told when it will end; it ends then, and its replay follows the usual path', async () => {
    const id = await liveSpace();
    onStage.set(id, [host.id]);
    await watch.sweep();
    assert.equal(watch.endsAt(id), undefined, 'the host is on stage');
    onStage.set(id, []);
    await watch.sweep();
    const endsAt = app.clock.now() + AFTER_MS;
    assert.equal(watch.endsAt(id), endsAt);
    app.clock.advance(1000); // past the view's cache
    assert.equal((await view(id)).endsAt, new Date(endsAt).toISOString(), 'warned in the public view (and the room state)');
    app.clock.advance(AFTER_MS - 2000);
    await watch.sweep();
    assert.equal((await view(id)).state, 'live', 'not a moment early');
    app.clock.advance(1000);
    await watch.sweep();
    app.clock.advance(1000);
    const ended = await view(id);
    assert.equal(ended.state, 'ended');
    assert.equal(ended.endsAt, null);
  });

  test('a co-host on stage counts as a host; a speaker alone does not; coming back cancels the countdown', async () => {
    const id = await liveSpace();
    for (const who of [cohost, speaker]) {
      await app.call('POST', `/api/spaces/${id}/invitations`, { token: host.token, body: { accountId: who.id } });
      await app.call('POST', `/api/spaces/${id}/invitations/me/accept`, { token: who.token });
    }
    assert.equal((await app.call('POST', `/api/spaces/${id}/members/${cohost.id}/cohost`, { token: host.token })).status, 200);
    app.clock.advance(1000);
    onStage.set(id, [speaker.id]);
    await watch.sweep();
    assert.ok(watch.endsAt(id) !== undefined, 'only a speaker on stage: the countdown runs');
    app.clock.advance(AFTER_MS - 1000);
    onStage.set(id, [speaker.id, cohost.id]);
    await watch.sweep();
    assert.equal(watch.endsAt(id), undefined, 'the co-host came back in time');
    app.clock.advance(AFTER_MS * 2);
    await watch.sweep();
    app.clock.advance(1000);
    assert.equal((await view(id)).state, 'live');
  });
});
