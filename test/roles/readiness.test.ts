import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { OriginClient } from '../../src/edge/edge.ts';
import { WatchedOrigin } from '../../src/edge/origin-client.ts';
import { loadConfig } from '../../src/config/load.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { keyList, TokenSigner } from '../../src/lib/signed-token.ts';
import { startEdge } from '../../src/roles/edge.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { startLiveServer, TEST_SIGNING_KEY } from '../helpers/server.ts';

/** `/readyz` components that follow another process or listener: the stage's port, an edge's origin. */

/** A Space id in the listener door's shape. */
const SPACE = 'sp_abcdefghijkl';

const response = { status: 200 as const, contentType: 'video/mp4', cacheControl: 'no-store', body: new Uint8Array(4) };

/** An origin client that answers with whatever the test queues: a response, or an error to throw. */
function scripted() {
  const next: (Error | 'ok')[] = [];
  const client: OriginClient = {
    get: () => {
      const step = next.shift() ?? 'ok';
      return step === 'ok' ? Promise.resolve(response) : Promise.reject(step);
    },
  };
  return { client, next };
}

async function settled(p: Promise<unknown>): Promise<void> {
  await p.catch(() => undefined);
}

describe('WatchedOrigin', () => {
  test('fails after three failed fetches in a row; an answer, even a 404, makes it ready again', async () => {
    const clock = new ManualClock();
    const { client, next } = scripted();
    const watched = new WatchedOrigin(client, clock);
    const get = () => settled(watched.get('sp_1', 'init.mp4', {}));
    next.push(new AmphiError('SERVICE_UNAVAILABLE'), new AmphiError('SERVICE_UNAVAILABLE'));
    await get();
    await get();
    assert.deepEqual(watched.readiness(), { ok: true }, 'two failures are not yet an outage');
    next.push(new Error('ECONNRESET'));
    await get();
    const failing = watched.readiness();
    assert.equal(failing.ok, false);
    assert.ok(!failing.ok);
    assert.equal(failing.failuresInRow, 3);
    assert.equal(failing.lastOkAt, null, 'it never answered');
    assert.match(failing.reason, /last 3 origin fetches failed \(Error: ECONNRESET\)/);
    next.push(new AmphiError('SPACE_NOT_FOUND'));
    await get();
    assert.deepEqual(watched.readiness(), { ok: true }, 'a 404 is the origin answering');
  });

  test('a stalled Space is no origin failure; a failure stops counting once it is old', async () => {
    const clock = new ManualClock();
    const { client, next } = scripted();
    const watched = new WatchedOrigin(client, clock, { failuresInRow: 2, holdMs: 10_000 });
    const get = () => settled(watched.get('sp_1', 'media.m3u8', {}));
    next.push(new AmphiError('HLS_NOT_YET_AVAILABLE'), new AmphiError('HLS_NOT_YET_AVAILABLE'));
    await get();
    await get();
    assert.deepEqual(watched.readiness(), { ok: true });
    next.push(new AmphiError('INTERNAL'), new AmphiError('OVERLOADED'));
    await get();
    await get();
    assert.equal(watched.readiness().ok, false);
    clock.advance(9_999);
    assert.equal(watched.readiness().ok, false);
    clock.advance(1);
    assert.deepEqual(watched.readiness(), { ok: true }, 'out of rotation, it gets no fetches to prove itself: it tries again');
  });
});

/** A stand-in origin for `amphi edge`: drops every connection while down, answers 200 while up. */
async function fakeOrigin(): Promise<{ server: Server; url: string; setUp: (up: boolean) => void }> {
  let up = false;
  const server = createServer((_request, res) => {
    if (!up) {
      res.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'video/mp4', 'cache-control': 'no-store' }).end(Buffer.alloc(8));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, setUp: (u) => (up = u) };
}

describe('amphi edge: /readyz follows its origin', { timeout: 60_000 }, () => {
  test('503 naming origin while every fetch fails, 200 once the origin answers', async () => {
    const cleanup = new Cleanup();
    try {
      const origin = await fakeOrigin();
      cleanup.add('origin', () => new Promise((resolve) => origin.server.close(resolve)));
      const config = loadConfig({
        overrides: { server: { port: 0 }, tokens: { signingKey: TEST_SIGNING_KEY }, edge: { originUrl: origin.url } },
      });
      const edge = cleanup.use('edge', await startEdge(config, { log: pino({ level: 'silent' }) }), (e) => e.close());
      const readyz = async () => {
        const r = await fetch(`${edge.url}/readyz`);
        return { status: r.status, json: (await r.json()) as { components: Record<string, { ok: boolean; reason?: string }> } };
      };
      const token = new TokenSigner(keyList(TEST_SIGNING_KEY)).sign({ t: 'l', s: SPACE, u: 'an_1' }, Date.now() + 60_000);
      const listen = async (file: string) => (await fetch(`${edge.url}/l/${token}/${SPACE}/${file}`)).status;

      const before = await readyz();
      assert.equal(before.status, 200, 'no fetch yet: nothing known to fail');
      assert.deepEqual(before.json.components.origin, { ok: true });
      for (const file of ['init.mp4', 'p0.1.m4s', 'p0.2.m4s']) assert.equal(await listen(file), 503);
      const down = await readyz();
      assert.equal(down.status, 503);
      assert.equal(down.json.components.origin!.ok, false);
      assert.match(down.json.components.origin!.reason!, /origin fetches failed \(SERVICE_UNAVAILABLE\)/);
      assert.deepEqual(down.json.components.edge, { ok: true }, 'the edge itself is fine');

      origin.setUp(true);
      assert.equal(await listen('init.mp4'), 200);
      const back = await readyz();
      assert.equal(back.status, 200);
      assert.deepEqual(back.json.components, { edge: { ok: true }, origin: { ok: true } });
    } finally {
      await cleanup.run();
    }
  });
});

describe('amphi start: /readyz lists the stage listener', { timeout: 60_000 }, () => {
  test('the stage is a component, ready while its port listens', async () => {
    const server = await startLiveServer();
    try {
      const ready = await server.api('GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json.components.stage, { ok: true });
      assert.deepEqual(Object.keys(ready.json.components as object).sort(), ['admission', 'media', 'stage', 'storage']);
    } finally {
      await server.shutdown();
    }
  });
});
