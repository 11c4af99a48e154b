import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { post, quietDataDir, startAmphi, stop } from '../helpers/amphi-process.ts';
import { Cleanup } from '../helpers/cleanup.ts';

/** A removal is for good, through a restart of the real `amphi start` process on the same data directory. */
describe('a removed listener stays removed after a restart', () => {
  test('the token they held (not yet expired) is refused by the edge of the next process too', { timeout: 120_000 }, async () => {
    const cleanup = new Cleanup();
    const { args } = quietDataDir(cleanup, 'bans');
    try {
      const first = await startAmphi(cleanup, args);
      const host = (await post(`${first.url}/api/accounts`, { handle: 'ban_host', password: 'a real password' })).json;
      const fan = (await post(`${first.url}/api/accounts`, { handle: 'ban_fan', password: 'a real password' })).json;
      const spaceId = (await post(`${first.url}/api/spaces`, { title: 'Bans' }, host.token as string)).json.space.id as string;
      assert.equal((await post(`${first.url}/api/spaces/${spaceId}/start`, {}, host.token as string)).status, 200);
      const joined = await post(`${first.url}/api/spaces/${spaceId}/join`, {}, fan.token as string);
      assert.equal(joined.status, 200, JSON.stringify(joined.json));
      const path = new URL(joined.json.playlistUrl as string).pathname;
      assert.equal((await fetch(`${first.url}${path}`)).status, 200, 'the listener plays');
      const fanId = fan.account.id as string;
      assert.equal(
        (await post(`${first.url}/api/spaces/${spaceId}/members/${fanId}/remove`, {}, host.token as string)).status,
        200,
      );
      assert.equal((await fetch(`${first.url}${path}`)).status, 401, 'removed: refused at once');
      assert.equal(await stop(first, 'SIGTERM'), 0);

      const second = await startAmphi(cleanup, args);
      assert.equal((await fetch(`${second.url}${path}`)).status, 401, 'still refused after the restart');
      const other = (await post(`${second.url}/api/accounts`, { handle: 'ban_other', password: 'a real password' })).json;
      const still = await post(`${second.url}/api/spaces/${spaceId}/join`, {}, other.token as string);
      const otherPath = new URL(still.json.playlistUrl as string).pathname;
      assert.equal((await fetch(`${second.url}${otherPath}`)).status, 200, 'others still listen: the Space went on');
    } finally {
      await cleanup.run();
    }
  });
});
