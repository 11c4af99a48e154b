import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/defaults.ts';
import { Edge } from '../../src/edge/edge.ts';
import { listenerDoor } from '../../src/edge/http.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { hint, part, playlist, scriptedOrigin } from './scripted-origin.ts';

const SPACE = 'sp_DOORLIMIT001';
const signer = new TokenSigner([{ id: 'k', secret: 'a-door-limits-test-key-long-enough!!' }]);
/** Real sockets: every test is bounded. */
const BOUNDED = { timeout: 30_000 };

/** The listener door alone on a real socket, over a scripted live origin and a manual clock. */
async function door(cleanup: Cleanup, options: { authPerAddress?: { capacity: number; refillPerSecond: number } } = {}) {
  const clock = new ManualClock();
  const origin = scriptedOrigin(playlist(part('p3.0'), part('p3.1'), hint('p3.2')));
  const log = pino({ level: 'silent' });
  const edge = new Edge({ signer, clock, origin: origin.client, log, cacheMaxBytes: 1 << 20 });
  const handle = listenerDoor(edge, { log, clock, limits: defaultConfig.admission.limits, ...options });
  const server = createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add('door server', () => {
    edge.close();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = (subject: string) => signer.sign({ t: 'l', s: SPACE, u: subject }, clock.now() + 3_600_000);
  return { clock, edge, base, token };
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
  test('a fourth live.mp4 on one token is 429 TOO_MANY_STREAMS; hanging one up frees its place', BOUNDED, async () => {
    const cleanup = new Cleanup();
    try {
      const { edge, base, token } = await door(cleanup);
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
    } finally {
      await cleanup.run();
    }
  });

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
});
