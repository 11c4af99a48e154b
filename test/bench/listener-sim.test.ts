import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { simulateListeners } from '../../bench/listener-sim.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { publishTone } from '../helpers/whip-client.ts';

/** The benchmark must be able to fail: it sees stalls when parts stop, and errors when tokens are bad. */
describe('listener simulator', () => {
  let fake: Server;
  let fakeUrl: string;
  before(async () => {
    // An LL-HLS origin that produces parts for 1.2 s, then stops (blocking requests hang, as a stalled Space would).
    const started = Date.now();
    const produced = () => Math.min(Math.floor((Date.now() - started) / 200), 6);
    const playlist = () => {
      const n = produced();
      const parts = Array.from({ length: n }, (_, i) => `#EXT-X-PART:DURATION=0.200,URI="p0.${i}.m4s",INDEPENDENT=YES`);
      return [
        '#EXTM3U',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-PART-INF:PART-TARGET=0.200',
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600',
        `#EXT-X-PROGRAM-DATE-TIME:${new Date(started).toISOString()}`,
        ...parts,
        `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p0.${n}.m4s"`,
        '',
      ].join('\n');
    };
    fake = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.endsWith('index.m3u8') || (url.pathname.endsWith('media.m3u8') && !url.searchParams.has('_HLS_part'))) {
        res.end(playlist());
        return;
      }
      if (url.pathname.endsWith('media.m3u8')) {
        const want = Number(url.searchParams.get('_HLS_part'));
        const answer = () => {
          if (res.destroyed) return; // the client gave up
          if (produced() > want) res.end(playlist());
          else setTimeout(answer, 20);
        };
        answer();
        return;
      }
      res.end(Buffer.alloc(100));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    fakeUrl = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
  });
  after(() => {
    fake.closeAllConnections();
    fake.close();
  });

  test('parts that stop coming are counted as stalls', async () => {
    const result = await simulateListeners({
      playlistUrls: Array.from({ length: 5 }, (_, i) => `${fakeUrl}/l/t${i}/sp_AAAAAAAAAAAA/index.m3u8`),
      seconds: 3,
      rampPerSecond: 100,
      roomState: false,
      sourceAddresses: ['127.0.0.1', '127.0.0.2'],
    });
    assert.ok(result.parts >= 5, `parts ${result.parts}`);
    assert.equal(
      result.stalledListeners,
      5,
      `every listener ran dry after the parts stopped: ${JSON.stringify({ ...result, timeline: undefined })}`,
    );
    assert.ok(result.stallRate > 0);
  });

  describe('against Amphi', () => {
    let server: LiveServer;
    before(async () => {
      server = await startLiveServer();
    });
    after(() => server.shutdown());

    test('bad tokens are errors by kind; good ones play without stalls', async () => {
      const { spaceId, host } = await server.liveSpace(0);
      const pub = await publishTone({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440 });
      try {
        await pub.connected();
        await server.programFrames(spaceId, 75); // 1.5 s of program: a few parts to start from
        const good = ((await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { token: string }).token;
        const urls = [good, good, `${good}x`, 'not-a-token-at-all'].map((t) => `${server.url}/l/${t}/${spaceId}/index.m3u8`);
        const result = await simulateListeners({
          playlistUrls: urls,
          seconds: 3,
          rampPerSecond: 100,
          roomState: true,
          sourceAddresses: ['127.0.0.3'],
        });
        assert.equal(result.errors.http_401, 2, JSON.stringify(result.errors));
        assert.equal(result.stalls, 0);
        assert.ok(result.parts >= 8, `parts ${result.parts}`);
        assert.ok(result.partLatencyMs.p95 < 1000, JSON.stringify(result.partLatencyMs));
      } finally {
        await pub.close();
      }
    });
  });
});
