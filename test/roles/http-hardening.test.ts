import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { createHttpApp, type App } from '../../src/lib/http-app.ts';
import { Metrics } from '../../src/roles/metrics.ts';
import { opsRoutes } from '../../src/roles/ops-routes.ts';
import { contentSecurityPolicy, webRoutes } from '../../src/roles/web.ts';

const log = pino({ level: 'silent' });
const limits = { maxConnections: 100, headersTimeoutMs: 5000, requestTimeoutMs: 30_000 };

async function opsApp(options: { metricsAllowFrom?: string[]; trustProxy?: number } = {}): Promise<App> {
  const app = createHttpApp({ log, limits, bodyLimitBytes: 1024, trustProxy: options.trustProxy ?? false });
  opsRoutes(app, {
    registry: new Metrics().registry,
    log,
    ...(options.metricsAllowFrom === undefined ? {} : { metricsAllowFrom: options.metricsAllowFrom }),
  });
  await app.ready();
  return app;
}

describe('/metrics is for the operator: served only to server.metricsAllowFrom', () => {
  test('by default loopback scrapes; any other address gets 403 METRICS_FORBIDDEN', async () => {
    const app = await opsApp();
    try {
      const local = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
      assert.equal(local.statusCode, 200);
      assert.match(local.body, /amphi_process_cpu_seconds_total/);
      const outside = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.5' });
      assert.equal(outside.statusCode, 403);
      assert.equal(outside.json().error.code, 'METRICS_FORBIDDEN');
      assert.doesNotMatch(outside.body, /amphi_process/);
      // /healthz stays public: load balancers need it.
      assert.equal((await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.5' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  test('a CIDR lets a Prometheus on the LAN in; behind a proxy the client address decides, not the proxy', async () => {
    const lan = await opsApp({ metricsAllowFrom: ['10.0.0.0/8'] });
    try {
      assert.equal((await lan.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' })).statusCode, 200);
      assert.equal((await lan.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 403);
    } finally {
      await lan.close();
    }
    const proxied = await opsApp({ trustProxy: 1 });
    try {
      const viaProxy = { 'x-forwarded-for': '203.0.113.5' };
      const res = await proxied.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: viaProxy });
      assert.equal(res.statusCode, 403, 'a public client behind the local proxy is not loopback');
    } finally {
      await proxied.close();
    }
    const none = await opsApp({ metricsAllowFrom: [] });
    try {
      assert.equal((await none.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 403);
    } finally {
      await none.close();
    }
  });
});

describe('pages and assets carry the browser hardening headers', () => {
  const dist = mkdtempSync(join(tmpdir(), 'amphi-web-'));
  after(() => rmSync(dist, { recursive: true, force: true }));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
  const origins = { stage: 'http://127.0.0.1:8081', edges: ['https://edge.example/l'] };

  test('pages: a CSP without unsafe-inline naming the stage and edge, no frames, nosniff, no Referer', async () => {
    const app = createHttpApp({ log, limits, bodyLimitBytes: 1024 });
    await webRoutes(app, { distDir: dist, origins: () => origins, log, publicUrl: null });
    try {
      const embed = await app.inject({ method: 'GET', url: '/embed/sp_000000000001' });
      assert.equal(embed.statusCode, 200);
      assert.match(
        String(embed.headers['content-security-policy']),
        /frame-ancestors \*(;|$)/,
        'the player is made to be framed',
      );
      assert.equal(embed.headers['x-frame-options'], undefined);
      for (const url of ['/', '/s/sp_000000000001', '/r/sp_000000000001']) {
        const page = await app.inject({ method: 'GET', url });
        assert.equal(page.statusCode, 200, url);
        const csp = String(page.headers['content-security-policy']);
        assert.equal(csp, contentSecurityPolicy(origins));
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.match(csp, /connect-src 'self' http:\/\/127\.0\.0\.1:8081 https:\/\/edge\.example(;|$)/);
        assert.match(csp, /media-src 'self' blob: http:\/\/127\.0\.0\.1:8081 https:\/\/edge\.example(;|$)/);
        assert.equal(page.headers['x-frame-options'], 'DENY');
        assert.equal(page.headers['x-content-type-options'], 'nosniff');
        assert.equal(page.headers['referrer-policy'], 'no-referrer');
      }
      const asset = await app.inject({ method: 'GET', url: '/assets/app-1234.js' });
      assert.equal(asset.statusCode, 200);
      assert.equal(asset.headers['x-content-type-options'], 'nosniff');
    } finally {
      await app.close();
    }
  });
});
