import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/defaults.ts';
import { Edge } from '../../src/edge/edge.ts';
import { listenerDoor } from '../../src/edge/http.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { rawDoorInFront } from '../../src/lib/raw-request.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { hint, part, playlist, scriptedOrigin } from './scripted-origin.ts';

const SPACE = 'sp_DOORLIMIT001';
const signer = new TokenSigner([{ id: 'k', secret: 'a-door-limits-test-key-long-enough!!' }]);
/** Real sockets: every test is bounded. */
const BOUNDED = { timeout: 30_000 };

/** The listener door alone on a real socket, over a scripted live origin and a manual clock. */
async function door(
  cleanup: Cleanup,
  options: { authPerAddress?: { capacity: number; refillPerSecond: number } } = {},
  raw = false,
) {
  const clock = new ManualClock();
  const origin = scriptedOrigin(playlist(part('p3.0'), part('p3.1'), hint('p3.2')));
  const log = pino({ level: 'silent' });
  const edge = new Edge({ signer, clock, origin: origin.client, log, cacheMaxBytes: 1 << 20 });
  const handle = listenerDoor(edge, { log, clock, limits: defaultConfig.admission.limits, ...options });
  const viaHttp: string[] = [];
  const server = createServer((req, res) => {
    viaHttp.push(req.url ?? '');
    if (!handle.door(req, res)) res.writeHead(404).end();
  });
  if (raw) rawDoorInFront(server, handle.rawDoor, 5000);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add('door server', () => {
    edge.close();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = (subject: string) => signer.sign({ t: 'l', s: SPACE, u: subject }, clock.now() + 3_600_000);
  return { clock, edge, base, token, viaHttp };
}

/** Opens a GET and resolves with the response as soon as its head arrives (a held stream stays open). */
function open(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ res: IncomingMessage; body: () => Promise<string>; hangUp: () => void }>((resolve, reject) => {
    const req = request(url, { headers }, (res) =>
      resolve({
        res,
        body: async () => {
          let text = '';
          for await (const chunk of res) text += String(chunk);
          return text;
        },
        hangUp: () => req.destroy(),
      }),
    );
    req.on('error', reject);
    req.end();
  });
}

describe('listener door limits (real sockets)', () => {
  for (const raw of [false, true])
    test(
      `a fourth live.mp4 on one token is 429 TOO_MANY_STREAMS; hanging one up frees its place${raw ? ' (raw door)' : ''}`,
      BOUNDED,
      async () => {
        const cleanup = new Cleanup();
        try {
          const { edge, base, token, viaHttp } = await door(cleanup, {}, raw);
          const url = `${base}/l/${token('an_oneticket01')}/${SPACE}/live.mp4`;
          const held = [await open(url), await open(url), await open(url)];
          for (const h of held) assert.equal(h.res.statusCode, 200);
          const refused = await open(url);
          assert.equal(refused.res.statusCode, 429);
          assert.equal((JSON.parse(await refused.body()) as { error: { code: string } }).error.code, 'TOO_MANY_STREAMS');
          held[0]!.hangUp();
          await eventually('the hung-up stream’s place is free', () => edge.streaming === 2);
          const again = await open(url);
          assert.equal(again.res.statusCode, 200);
          for (const h of [...held, again]) h.hangUp();
          await eventually('every place is free once all hung up', () => edge.retained.heldSubjects === 0);
          assert.equal(viaHttp.length, raw ? 0 : 5, 'each stream held by the door it was meant for');
        } finally {
          await cleanup.run();
        }
      },
    );

  test('/edge/auth is rate-limited per client address: 429 with Retry-After, good and bad tokens alike', BOUNDED, async () => {
    const cleanup = new Cleanup();
    try {
      const { clock, base, token } = await door(cleanup, { authPerAddress: { capacity: 3, refillPerSecond: 1 } });
      const good = token('an_authcheck01');
      const check = async (tok: string) => {
        const r = await open(`${base}/edge/auth`, { 'x-original-uri': `/l/${tok}/${SPACE}/media.m3u8` });
        await r.body();
        return r.res;
      };
      assert.equal((await check(good)).statusCode, 204);
      assert.equal((await check('not-a-token-at-all')).statusCode, 401);
      assert.equal((await check(`${good}x`)).statusCode, 401);
      const limited = await check(good);
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.headers['retry-after'], '1');
      clock.advance(1000);
      assert.equal((await check(good)).statusCode, 204, 'the bucket refills on the clock');
      assert.equal((await check(good)).statusCode, 429);
    } finally {
      await cleanup.run();
    }
  });

  test(
    'the raw door answers refusals as the HTTP door does, and leaves every other first request to the HTTP server',
    BOUNDED,
    async () => {
      const cleanup = new Cleanup();
      try {
        const viaRaw = await door(cleanup, {}, true);
        const viaNode = await door(cleanup, {}, false);
        const bad = (base: string) => open(`${base}/l/not-a-good-token-at-all/${SPACE}/live.mp4`);
        const [r, n] = [await bad(viaRaw.base), await bad(viaNode.base)];
        assert.deepEqual([r.res.statusCode, await r.body()], [n.res.statusCode, await n.body()], 'the same 401 and body');
        assert.equal(r.res.statusCode, 401);
        assert.equal(r.res.headers['content-type'], n.res.headers['content-type']);
        assert.deepEqual(viaRaw.viaHttp, [], 'refused on the bare socket');
        // Not a stream, or not a plain head: the HTTP server answers (404 from this test's fallback).
        const other = await open(`${viaRaw.base}/not-the-listener-door`);
        assert.equal(other.res.statusCode, 404);
        const split = await rawExchange(viaRaw.base, [
          `GET /l/${viaRaw.token('an_split00001')}/${SPACE}/live.mp4 HTTP/1.1\r\nhost: a\r\n`,
          '\r\n',
        ]);
        assert.match(split, /^HTTP\/1\.1 200 /, "a head split over two packets is the HTTP server's, and still a stream");
        assert.equal(viaRaw.viaHttp.length, 2);
        const body = await rawExchange(viaRaw.base, [
          `GET /l/${viaRaw.token('an_body000001')}/${SPACE}/live.mp4 HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n`,
        ]);
        assert.match(body, /^HTTP\/1\.1 200 /);
        assert.equal(viaRaw.viaHttp.length, 3, 'a content-length header is left to the HTTP server');
      } finally {
        await cleanup.run();
      }
    },
  );
});

/** Writes `parts` on one connection, a tick apart, and resolves with the first bytes answered. */
function rawExchange(base: string, parts: readonly string[]): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      void (async () => {
        for (const p of parts) {
          socket.write(p);
          await new Promise((tick) => setTimeout(tick, 20));
        }
      })();
    });
    socket.once('data', (d: Buffer) => {
      resolve(d.toString('latin1'));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
