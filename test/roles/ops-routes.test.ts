import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createHttpApp } from '../../src/lib/http-app.ts';
import { admissionReadiness, listeningReadiness, opsRoutes, type HealthCheck, type OpsDeps } from '../../src/roles/ops-routes.ts';
import { makeTestApp } from '../helpers/app.ts';

const log = pino({ level: 'silent' });
const limits = { maxConnections: 100, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

/** The operator's routes on a bare app, with the components given. */
async function ops(deps: Omit<OpsDeps, 'registry' | 'log'>) {
  const app = createHttpApp({ log, limits, bodyLimitBytes: 1024 });
  opsRoutes(app, { registry: new Registry(), log, ...deps });
  await app.ready();
  const get = async (url: string) => {
    const r = await app.inject({ method: 'GET', url });
    return { status: r.statusCode, json: r.json<Record<string, unknown>>() };
  };
  return { get, close: () => app.close() };
}

const down = (): Promise<void> => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
const failing = (reason: string): HealthCheck => ({ ok: false, reason });

describe('/livez, /readyz and /healthz', () => {
  test('all ready: /readyz is 200 and names each component', async () => {
    const o = await ops({
      ping: () => Promise.resolve(),
      checks: () => ({ media: { ok: true } }),
      ready: () => ({ admission: { ok: true } }),
    });
    try {
      const r = await o.get('/readyz');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, {
        status: 'ready',
        components: { storage: { ok: true }, media: { ok: true }, admission: { ok: true } },
      });
      assert.deepEqual((await o.get('/livez')).json, { status: 'alive' });
    } finally {
      await o.close();
    }
  });

  test('storage that throws: /readyz is 503 naming storage and why; /livez still 200; /healthz 503 as before', async () => {
    const o = await ops({ ping: down, ready: () => ({ admission: { ok: true } }) });
    try {
      const r = await o.get('/readyz');
      assert.equal(r.status, 503);
      assert.equal(r.json.status, 'unready');
      const components = r.json.components as Record<string, HealthCheck>;
      assert.deepEqual(components.admission, { ok: true }, 'the others are still listed');
      assert.equal(components.storage!.ok, false);
      assert.match((components.storage as { reason: string }).reason, /ECONNREFUSED/);
      assert.equal((await o.get('/livez')).status, 200, 'liveness does not depend on the database');
      assert.deepEqual(await o.get('/healthz'), { status: 503, json: { status: 'degraded', storage: 'unreachable' } });
    } finally {
      await o.close();
    }
  });

  test('a failing part that still serves listeners: /healthz 200 degraded (unchanged), /readyz 503', async () => {
    const o = await ops({ ping: () => Promise.resolve(), checks: () => ({ media: failing('ENOSPC: disk full') }) });
    try {
      const health = await o.get('/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, { status: 'degraded', failing: { media: { reason: 'ENOSPC: disk full' } }, storage: 'ok' });
      const ready = await o.get('/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.json.components, { storage: { ok: true }, media: { ok: false, reason: 'ENOSPC: disk full' } });
    } finally {
      await o.close();
    }
  });

  test('a component only readiness knows (admission shedding joins) fails /readyz alone', async () => {
    const shedding = { level: 2, current: { joinsToWaitingRoom: true } };
    const o = await ops({ ready: () => ({ admission: admissionReadiness(shedding) }) });
    try {
      const ready = await o.get('/readyz');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.json.components, {
        admission: { ok: false, reason: 'shedding at level 2: new joins wait in line' },
      });
      assert.deepEqual(await o.get('/healthz'), { status: 200, json: { status: 'ok' } });
      assert.deepEqual(admissionReadiness({ level: 1, current: { joinsToWaitingRoom: false } }), { ok: true });
    } finally {
      await o.close();
    }
  });
});

describe('the control role wires its components into /readyz', () => {
  test('storage and admission are listed; a database outage makes it 503 and it recovers by itself', async () => {
    const app = await makeTestApp();
    try {
      const ok = await app.call('GET', '/readyz');
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.json, { status: 'ready', components: { storage: { ok: true }, admission: { ok: true } } });
      app.storageDown(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
      const outage = await app.call('GET', '/readyz');
      assert.equal(outage.status, 503);
      assert.equal(outage.json.components.storage.ok, false);
      assert.equal((await app.call('GET', '/livez')).status, 200);
      app.storageDown(undefined);
      assert.equal((await app.call('GET', '/readyz')).status, 200);
    } finally {
      await app.close();
    }
  });
});

describe('a listener as a readiness component', () => {
  test('the stage not yet listening, then listening, then closed: 503, 200, 503 naming stage', async () => {
    const stage = createServer();
    const o = await ops({ ready: () => ({ stage: listeningReadiness('the stage (WHIP, stage.port)', stage) }) });
    try {
      const before = await o.get('/readyz');
      assert.equal(before.status, 503);
      assert.deepEqual(before.json.components, { stage: { ok: false, reason: 'the stage (WHIP, stage.port) is not listening' } });
      await new Promise<void>((resolve) => stage.listen(0, '127.0.0.1', resolve));
      assert.deepEqual(await o.get('/readyz'), { status: 200, json: { status: 'ready', components: { stage: { ok: true } } } });
      await new Promise((resolve) => stage.close(resolve));
      const after = await o.get('/readyz');
      assert.equal(after.status, 503);
      assert.equal((after.json.components as Record<string, HealthCheck>).stage!.ok, false);
    } finally {
      if (stage.listening) stage.close();
      await o.close();
    }
  });
});
