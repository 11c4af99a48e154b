import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { errorCatalogue } from '../../../src/errors.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * Property-based: random and malformed bodies, params, query strings and headers at every route in
 * the OpenAPI document. Whatever arrives, the answer is never a 5xx and every error has the one
 * shape with a catalogued code.
 */
describe('fuzzing every route', () => {
  let app: TestApp;
  let routes: { method: string; path: string }[];
  let host: { id: string; token: string };
  let spaceId: string;

  before(async () => {
    app = await makeTestApp();
    host = await app.signUp('fuzz_host');
    spaceId = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Fuzz' } })).json.space.id as string;
    await app.call('POST', `/api/spaces/${spaceId}/start`, { token: host.token });
    const doc = (await app.call('GET', '/api/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    // The control API's own routes: the document also describes other listeners (the edge's listener
    // URLs, WHIP), whose path items carry `servers` and `parameters` beside their operations.
    routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
    assert.ok(routes.length >= 25, `expected the whole API in the OpenAPI document, got ${routes.length} routes`);
  });
  after(() => app.close());

  const ascii = fc.string({ unit: 'grapheme-ascii', maxLength: 60 });
  const idLike = fc.oneof(
    fc.constant(() => spaceId),
    fc.constant(() => host.id),
    fc.stringMatching(/^[a-z]{2}_[A-Za-z0-9_-]{12}$/).map((s) => () => s),
    fc.string({ maxLength: 40 }).map((s) => () => s),
    fc.constantFrom('..', '%00', '%ZZ', '', ' ', 'sp_' + 'A'.repeat(500), '__proto__', 'constructor').map((s) => () => s),
  );
  const body = fc.oneof(
    fc.constant(undefined),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc
      .record(
        {
          handle: fc.oneof(fc.string(), fc.integer(), fc.constant('valid_name')),
          password: fc.oneof(fc.string(), fc.constant('long enough password')),
          title: fc.oneof(fc.string(), fc.constant(null)),
          scheduledStart: fc.oneof(
            fc.string(),
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          ),
          allowAnonymous: fc.anything(),
          accountId: fc.string(),
          emoji: fc.constantFrom('🔥', 'x', ''),
          url: fc.oneof(fc.webUrl(), fc.string()),
          token: fc.string(),
          __proto__: fc.anything(),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o)),
    fc.constant('{"__proto__":{"polluted":true}}'),
    fc.constant('{"constructor":{"prototype":{"x":1}}}'),
  );
  const headers = fc.record(
    {
      authorization: fc.oneof(
        fc.constant(() => `Bearer ${host.token}`),
        ascii.map((s) => () => s),
        ascii.map((s) => () => `Bearer ${s}`),
      ),
      'content-type': fc.oneof(
        fc.constant('application/json'),
        fc.constant('text/plain'),
        ascii,
        fc.constant('application/json; charset=latin1'),
      ),
      cookie: ascii.map((s) => `amphi_session=${s}`),
      'if-none-match': ascii,
    },
    { requiredKeys: [] },
  );

  test('no route answers 5xx to anything', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        idLike,
        idLike,
        body,
        headers,
        fc.option(fc.string({ maxLength: 40 })),
        async (pick, id, accountId, payload, rawHeaders, query) => {
          const route = routes[pick % routes.length]!;
          const path = route.path
            .replace('{id}', encodeURIComponent(id()))
            .replace('{accountId}', encodeURIComponent(accountId()));
          const url = query === null ? path : `${path}?${query}`;
          const hdrs: Record<string, string> = {};
          for (const [k, v] of Object.entries(rawHeaders)) hdrs[k] = typeof v === 'function' ? v() : v;
          const res = await app.app.inject({
            method: route.method as 'POST',
            url,
            headers: hdrs,
            ...(payload === undefined ? {} : { payload }),
          });
          assert.ok(res.statusCode < 500, `${route.method} ${url} → ${res.statusCode} ${res.body}`);
          seen.add(res.statusCode);
          if (res.statusCode >= 400) {
            const parsed = JSON.parse(res.body) as { error: { code: string; message: string } };
            assert.ok(parsed.error.code in errorCatalogue, `uncatalogued code ${parsed.error.code}`);
            assert.equal(parsed.error.message.length > 0, true);
          }
        },
      ),
      { numRuns: 1500 },
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    // The generator must reach past validation into the handlers, or the property proves little.
    for (const status of [200, 400, 401, 404, 415])
      assert.ok(seen.has(status), `fuzzing never produced ${status}: ${[...seen].join(',')}`);
  });

  test('unknown paths and methods get ROUTE_NOT_FOUND, oversized bodies BODY_TOO_LARGE', async () => {
    await fc.assert(
      fc.asyncProperty(fc.webPath(), fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), async (path, method) => {
        const res = await app.app.inject({ method, url: `/nope${path}` });
        assert.equal(res.statusCode, 404, `${method} /nope${path}`);
        assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'ROUTE_NOT_FOUND');
      }),
      { numRuns: 200 },
    );
    const big = await app.call('POST', '/api/spaces', {
      token: host.token,
      body: { title: 'x'.repeat(app.config.server.bodyLimitBytes + 10) },
    });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'BODY_TOO_LARGE');
  });
});
