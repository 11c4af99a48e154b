import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { startEdge, type RunningEdge } from '../../src/roles/edge.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { startLiveServer, TEST_SIGNING_KEY, type LiveServer } from '../helpers/server.ts';
import { publishTone } from '../helpers/whip-client.ts';

/** `amphi edge --origin URL`: a separate edge process shape, fetching from the origin over HTTP. */
/** Real sockets: the suite and each hook (a suite's timeout does not cover its hooks) are bounded. */
const HOOK = { timeout: 30_000 };

describe('a separate edge in front of the origin', { timeout: 120_000 }, () => {
  /** What `before` started, closed in `after` even if it stopped half-way. */
  const cleanup = new Cleanup();
  let origin: LiveServer;
  let edge: RunningEdge;
  before(async () => {
    origin = cleanup.use('origin', await startLiveServer(), (o) => o.shutdown()); // the machine's load is not under test
    const config = loadConfig({
      overrides: { server: { port: 0 }, tokens: { signingKey: TEST_SIGNING_KEY }, edge: { originUrl: origin.url } },
    });
    edge = cleanup.use('edge', await startEdge(config, { log: pino({ level: 'silent' }) }), (e) => e.close());
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  test('serves listeners from the origin with an edge credential; the origin refuses everyone else', async () => {
    const { spaceId, host } = await origin.liveSpace(0);
    const pub = await publishTone({ ...(await origin.stageToken(spaceId, host.token)), frequencyHz: 440 });
    try {
      await pub.connected();
      const { token } = (await origin.api('POST', `/api/spaces/${spaceId}/join`)).json as { token: string };
      const base = `${edge.url}/l/${token}/${spaceId}/`;
      const playlist = await fetch(`${base}media.m3u8?_HLS_msn=0&_HLS_part=1`);
      assert.equal(playlist.status, 200);
      assert.match(await playlist.text(), /p0\.1\.m4s/);
      const init = await fetch(`${base}init.mp4`);
      assert.equal(init.status, 200);
      assert.equal(init.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      await Promise.all(Array.from({ length: 50 }, () => fetch(`${base}p0.1.m4s`).then((r) => r.arrayBuffer())));
      const fetchesBefore = edge.edge.originFetches;
      await Promise.all(Array.from({ length: 50 }, () => fetch(`${base}p0.1.m4s`).then((r) => r.arrayBuffer())));
      assert.equal(edge.edge.originFetches, fetchesBefore, 'served from the edge cache');

      for (const authorization of [undefined, `Bearer ${token}`, 'Bearer nonsense']) {
        const direct = await fetch(`${origin.url}/origin/${spaceId}/init.mp4`, {
          headers: authorization === undefined ? {} : { authorization },
        });
        assert.equal(direct.status, 401);
        assert.equal(((await direct.json()) as { error: { code: string } }).error.code, 'EDGE_CREDENTIAL_INVALID');
      }
      const forged = await fetch(`${edge.url}/l/${token}x/${spaceId}/init.mp4`);
      assert.equal(forged.status, 401);
    } finally {
      await pub.close();
    }
  });
});
