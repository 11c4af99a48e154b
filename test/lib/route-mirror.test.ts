import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RouteMirror } from '../../src/lib/route-mirror.ts';
import { makeTestApp } from '../helpers/app.ts';

describe('RouteMirror: the routing table copied, to refuse what no route matches', () => {
  const mirror = new RouteMirror({ maxParamLength: 4096 });
  mirror.add('GET', '/');
  mirror.add(['GET', 'PATCH'], '/api/spaces/:id');
  mirror.add('POST', '/api/spaces');
  mirror.add('GET', '/@:handle');
  mirror.add('GET', '/assets/*');

  test('a path and method a route matches is routable; the query and fragment are not part of the path', () => {
    for (const [method, url] of [
      ['GET', '/'],
      ['GET', '/?q=1'],
      ['GET', '/api/spaces/sp_1?x=2'],
      ['PATCH', '/api/spaces/sp_1'],
      ['POST', '/api/spaces'],
      ['GET', '/@bob'],
      ['GET', '/assets/a/b.js'],
      ['GET', '/assets/a..b/c...js'],
      ['GET', '/assets/.well/x.js'],
    ] as const)
      assert.equal(mirror.routable(method, url), true, `${method} ${url}`);
  });

  test('scanners’ paths, a wrong case, a wrong method and a climb out of a wildcard are not', () => {
    for (const [method, url] of [
      ['GET', '/wp-login.php'],
      ['GET', '/.env'],
      ['GET', '/api/v9/nope'],
      ['GET', '/API/spaces/sp_1'],
      ['DELETE', '/api/spaces/sp_1'],
      ['GET', '/api/spaces/sp_1/extra'],
      ['GET', '/assets/..%2f..%2fpackage.json'],
      ['GET', '/assets/%2e%2e/%2e%2e/etc/passwd'],
      ['GET', '/assets/a/../../x'],
      ['GET', '/assets/..%5c..%5cpackage.json'],
      ['GET', '/assets/..'],
      ['GET', '/assets/a%00.js'],
    ] as const)
      assert.equal(mirror.routable(method, url), false, `${method} ${url}`);
  });

  test('every doubt is the framework’s: HEAD where GET is, either trailing slash, a URL it cannot decode', () => {
    assert.equal(mirror.routable('HEAD', '/@bob'), true);
    assert.equal(mirror.routable('POST', '/api/spaces/'), true);
    assert.equal(mirror.routable('GET', '/api/spaces/%E0%A4%A'), true, 'a bad escape: the framework answers 400');
  });
});

describe('RouteMirror on the real control app', { timeout: 30_000 }, () => {
  test('every route the app registered, made concrete, is routable; scanners’ paths are not', async () => {
    const app = await makeTestApp();
    try {
      const mirror = new RouteMirror({ maxParamLength: 4096 });
      const routes: { method: string; url: string }[] = [];
      // The router's own listing, with each route's methods (`commonPrefix: false`: whole segments).
      const tree = app.app.printRoutes({ commonPrefix: false, includeMeta: false });
      const stack: string[] = [];
      for (const line of tree.split('\n')) {
        const m = /^([│ ]*)[└├]── (\/\S*) \(([A-Z, ]+)\)/.exec(line) ?? /^([│ ]*)[└├]── (\/\S*)$/.exec(line);
        if (m === null) continue;
        const depth = m[1]!.length / 4;
        stack.length = depth;
        stack.push(m[2]!);
        if (m[3] !== undefined) for (const method of m[3].split(', ')) routes.push({ method, url: stack.join('') });
      }
      assert.ok(routes.length > 80, `routes listed: ${routes.length}`);
      for (const r of routes) mirror.add(r.method, r.url);
      for (const r of routes) {
        const concrete = r.url.replace(/:[^/]+/g, 'x').replace(/\*/g, 'y');
        assert.equal(mirror.routable(r.method, concrete), true, `${r.method} ${r.url} as ${concrete}`);
        const injected = await app.app.inject({ method: r.method as 'GET', url: concrete });
        assert.doesNotMatch(
          injected.body,
          /^\{"error":\{"code":"ROUTE_NOT_FOUND"/,
          `${r.method} ${concrete}: the framework routes it too`,
        );
      }
      for (const junk of ['/wp-login.php', '/.env', '/cgi-bin/luci', '/api/v9/nope']) {
        assert.equal(mirror.routable('GET', junk), false, junk);
        assert.equal((await app.app.inject({ method: 'GET', url: junk })).statusCode, 404, junk);
      }
    } finally {
      await app.close();
    }
  });
});
