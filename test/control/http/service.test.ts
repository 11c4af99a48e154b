import { STALE_SNAPSHOT_MAX_MS } from '../../../src/control/snapshots.ts';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/** Every API route, written out: a route added, dropped or left undocumented fails the OpenAPI test. */
const API_ROUTES = [
  'POST /api/accounts',
  'GET /api/accounts/by-handle/:handle',
  'GET /api/accounts/by-handle/:handle/calendar.ics',
  'GET /api/accounts/by-handle/:handle/replays.rss',
  'POST /api/sessions',
  'GET /api/sessions/current',
  'DELETE /api/sessions/current',
  'GET /api/me',
  'GET /api/me/reminders',
  'GET /api/me/email',
  'PUT /api/me/email',
  'DELETE /api/me/email',
  'GET /api/email/verify',
  'GET /api/email/unsubscribe',
  'POST /api/email/unsubscribe',
  'GET /api/push/key',
  'POST /api/me/push-subscriptions',
  'DELETE /api/me/push-subscriptions',
  'GET /api/me/webhooks',
  'POST /api/me/webhooks',
  'DELETE /api/me/webhooks/:webhookId',
  'POST /api/spaces',
  'GET /api/spaces',
  'DELETE /api/me/avatar',
  'DELETE /api/me/blocks/:accountId',
  'DELETE /api/spaces/:id/bans/:subject',
  'DELETE /api/users/:handle/follow',
  'GET /api/admin/audit',
  'GET /api/admin/reports',
  'GET /api/me/blocks',
  'GET /api/me/notices',
  'GET /api/spaces/:id/analytics',
  'GET /api/spaces/:id/audience',
  'GET /api/spaces/:id/audit',
  'GET /api/transcripts/search',
  'GET /api/users/:handle',
  'GET /api/users/:handle/avatar',
  'PATCH /api/me/profile',
  'POST /api/admin/reports/:id/decision',
  'POST /api/reports',
  'POST /api/spaces/:id/handover',
  'PUT /api/me/avatar',
  'PUT /api/me/blocks/:accountId',
  'PUT /api/users/:handle/follow',
  'GET /api/spaces/:id',
  'PATCH /api/spaces/:id',
  'GET /api/spaces/:id/me',
  'POST /api/spaces/:id/start',
  'POST /api/spaces/:id/end',
  'POST /api/spaces/:id/stage',
  'POST /api/spaces/:id/join',
  'GET /api/spaces/:id/line',
  'GET /api/spaces/:id/recording.m4a',
  'DELETE /api/spaces/:id/recording',
  'GET /api/spaces/:id/chapters',
  'GET /api/spaces/:id/chapters.vtt',
  'GET /api/oembed',
  'POST /api/spaces/:id/clips',
  'GET /api/clips/:clipId',
  'GET /api/clips/:clipId/audio.m4a',
  'GET /api/spaces/:id/calendar.ics',
  'POST /api/spaces/:id/reactions',
  'PUT /api/spaces/:id/reminder',
  'DELETE /api/spaces/:id/reminder',
  'PUT /api/spaces/:id/pin',
  'DELETE /api/spaces/:id/pin',
  'POST /api/spaces/:id/requests',
  'GET /api/spaces/:id/requests',
  'GET /api/spaces/:id/transcript',
  'GET /api/spaces/:id/transcript.txt',
  'GET /api/spaces/:id/transcript.vtt',
  'DELETE /api/spaces/:id/requests/me',
  'POST /api/spaces/:id/requests/:accountId/accept',
  'POST /api/spaces/:id/requests/:accountId/decline',
  'POST /api/spaces/:id/invitations',
  'POST /api/spaces/:id/invitations/me/accept',
  'POST /api/spaces/:id/invitations/me/decline',
  'POST /api/spaces/:id/members/:accountId/mute',
  'POST /api/spaces/:id/members/:accountId/unmute',
  'POST /api/spaces/:id/members/:accountId/audience',
  'POST /api/spaces/:id/members/:accountId/remove',
  'POST /api/spaces/:id/members/:accountId/cohost',
  'DELETE /api/spaces/:id/members/:accountId/cohost',
] as const;

/**
 * `METHOD /path` for every route in fastify's `printRoutes({ commonPrefix: false })` tree (a child's
 * text continues its parent's path), without the HEAD routes fastify adds to each GET.
 */
function registeredRoutes(tree: string): string[] {
  const paths: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    const path = (paths[depth - 1] ?? '') + m[2]!;
    paths.length = depth;
    paths.push(path);
    for (const method of (m[3] ?? '').split(', ')) if (method !== '' && method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes;
}

describe('OpenAPI, health and metrics', () => {
  let app: TestApp;
  before(async () => {
    app = await makeTestApp();
  });
  after(() => app.close());

  test('the OpenAPI document lists every API route with its schemas and error responses', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json;
    assert.equal(doc.openapi, '3.1.0');
    // The API's own paths; the others (probes, metrics, listener media, WHIP) are described by hand
    // (openapi-extra.ts) and checked in openapi-document.test.ts.
    const apiPaths = Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>).filter(([p]) =>
      p.startsWith('/api/'),
    );
    const documented = apiPaths.flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replaceAll(/\{(\w+)\}/g, ':$1')}`),
    );
    const registered = registeredRoutes(app.app.printRoutes({ commonPrefix: false }));
    assert.ok(
      registered.includes('GET /healthz') && registered.includes('POST /api/spaces/:id/join'),
      'the route table was read',
    );
    const api = registered.filter((r) => r.includes(' /api/') && r !== 'GET /api/openapi.json');
    assert.deepEqual([...documented].sort(), [...API_ROUTES].sort(), 'the document lists exactly the API');
    assert.deepEqual(api.sort(), [...API_ROUTES].sort(), 'the server serves exactly the API');
    const join = doc.paths['/api/spaces/{id}/join'].post;
    assert.ok(join.responses['200'] && join.responses['202'], 'join documents the token and the waiting-room forms');
    assert.ok(doc.components.schemas.Space && doc.components.schemas.Error);
    for (const [, ops] of apiPaths) {
      for (const op of Object.values(ops))
        assert.ok(
          Object.keys(op.responses).some((s) => s.startsWith('4')),
          'every operation documents its errors',
        );
    }
  });

  test('/healthz reports storage', async () => {
    const r = await app.call('GET', '/healthz');
    assert.deepEqual(r.json, { status: 'ok', storage: 'ok' });
  });

  test('/metrics is Prometheus text with amphi_control_* series that move', async () => {
    const host = await app.signUp('metrics_host');
    const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'M' } })).json.space.id as string;
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    for (let i = 0; i < 3; i++) await app.call('POST', `/api/spaces/${id}/join`);
    assert.equal((await app.call('POST', `/api/spaces/${id}/stage`, { token: host.token })).status, 200);
    const r = await app.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(String(r.headers['content-type']), /text\/plain/);
    assert.match(r.body, /amphi_control_tokens_issued_total\{kind="listener"\} 3/);
    assert.match(r.body, /amphi_control_tokens_issued_total\{kind="stage"\} 1/);
    assert.match(r.body, /amphi_control_space_transitions_total\{state="live"\} 1/);
    assert.match(r.body, /amphi_control_http_requests_total\{route="\/api\/spaces\/:id\/join",method="POST",status="200"\} 3/);
    assert.match(r.body, /amphi_process_cpu_seconds_total/);
    assert.match(r.body, /# TYPE amphi_control_http_request_duration_seconds histogram/);
    assert.match(
      r.body,
      /amphi_control_http_request_duration_seconds_bucket\{route="\/api\/spaces\/:id\/join",method="POST",le="\+Inf"\} 3/,
    );
    assert.match(r.body, /amphi_control_http_request_duration_seconds_count\{route="\/api\/spaces\/:id\/join",method="POST"\} 3/);
  });
});

describe('when storage is unreachable', () => {
  test('API calls answer 503 SERVICE_UNAVAILABLE with Retry-After (reads of a Space from its last snapshot, 5 minutes), and /healthz says degraded', async () => {
    const app = await makeTestApp();
    try {
      const host = await app.signUp('outage_host');
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Outage' } })).json.space
        .id as string;
      app.storageDown(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
      app.clock.advance(60_000); // past every cache
      const r = await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Another' } });
      assert.equal(r.status, 503);
      assert.equal(r.json.error.code, 'SERVICE_UNAVAILABLE');
      assert.equal(r.headers['retry-after'], '1');
      // Reads of a Space go on from the last snapshot read (joins too), for up to 5 minutes.
      assert.equal((await app.call('GET', `/api/spaces/${id}`)).status, 200, 'the last snapshot stands in');
      app.clock.advance(STALE_SNAPSHOT_MAX_MS);
      assert.equal((await app.call('GET', `/api/spaces/${id}`)).status, 503, 'not for longer');
      const health = await app.call('GET', '/healthz');
      assert.equal(health.status, 503);
      assert.equal(health.json.status, 'degraded');
      app.storageDown(undefined);
      assert.equal((await app.call('GET', `/api/spaces/${id}`)).status, 200, 'recovers by itself');
    } finally {
      await app.close();
    }
  });
});
