import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { createHttpApp } from '../../src/lib/http-app.ts';
import { startEdge } from '../../src/roles/edge.ts';

const log = pino({ level: 'silent' });
const limits = { maxConnections: 100, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

/** Every listener of every role answers through the one factory: the same shapes for the same mistakes. */
// The second test opens real sockets: bounded, and closed in `finally`.
describe('the one HTTP app factory', { timeout: 60_000 }, () => {
  test("unknown routes, bad JSON and oversized bodies get catalogue errors, not the framework's", async () => {
    const app = createHttpApp({ log, limits, bodyLimitBytes: 1024 });
    app.post('/echo', (request) => request.body);
    await app.ready();
    try {
      const missing = await app.inject({ method: 'GET', url: '/nope' });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error.code, 'ROUTE_NOT_FOUND');
      const badJson = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: '{',
      });
      assert.equal(badJson.statusCode, 400);
      assert.equal(badJson.json().error.code, 'INVALID_JSON');
      const big = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ x: 'y'.repeat(2000) }),
      });
      assert.equal(big.statusCode, 413);
      assert.equal(big.json().error.code, 'BODY_TOO_LARGE');
    } finally {
      await app.close();
    }
  });

  test('`amphi edge` answers an unknown path with the catalogue 404 over a real socket', async () => {
    const edge = await startEdge(
      loadConfig({
        overrides: {
          server: { port: 0 },
          tokens: { signingKey: 'an-edge-factory-test-key-0123456789' },
          edge: { originUrl: 'http://127.0.0.1:9' },
        },
      }),
      { log },
    );
    try {
      const res = await fetch(`${edge.url}/nothing/here`);
      assert.equal(res.status, 404);
      assert.deepEqual(((await res.json()) as { error: { code: string } }).error.code, 'ROUTE_NOT_FOUND');
      const health = await fetch(`${edge.url}/healthz`);
      assert.deepEqual(await health.json(), { status: 'ok', role: 'edge', originFetches: 0, draining: false });
      const metrics = await (await fetch(`${edge.url}/metrics`)).text();
      assert.match(metrics, /^amphi_edge_listeners 0$/m);
    } finally {
      await edge.close();
    }
  });
});
