import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RoutePrefixes } from '../../src/lib/route-prefixes.ts';
import { makeTestApp } from '../helpers/app.ts';

describe('RoutePrefixes: which paths a route could match, by the first segment', () => {
  const prefixes = new RoutePrefixes();
  for (const route of ['/', '/api/spaces/:id', '/@:handle', '/assets/*', '/sw.js', '/s/:id']) prefixes.add(route);

  test('a literal first segment routes only itself, whatever follows it', () => {
    for (const path of ['/', '/?x=1', '/api', '/api/', '/api/anything/at/all?q', '/sw.js', '/assets/x.js', '/s/sp_1#frag'])
      assert.equal(prefixes.routable(path), true, path);
    for (const path of ['/apis/x', '/ap', '/API/spaces', '/sw.jsx', '/.env', '/wp-login.php', '/s', '/sx/1'])
      assert.equal(prefixes.routable(path), path === '/s', path);
  });

  test('a parameter after a literal start routes every segment with that start', () => {
    assert.equal(prefixes.routable('/@bob'), true);
    assert.equal(prefixes.routable('/@'), true);
    assert.equal(prefixes.routable('/bob'), false);
  });

  test('what the router would decode or reads another way is left to it', () => {
    assert.equal(prefixes.routable('/%61pi/spaces'), true, 'percent-encoded');
    assert.equal(prefixes.routable('http://example.org/x'), true, 'absolute form');
    assert.equal(prefixes.routable('*'), true, 'OPTIONS *');
  });

  test('a route that begins with a parameter or a wildcard makes everything routable', () => {
    for (const route of ['/:page', '/*']) {
      const open = new RoutePrefixes();
      open.add('/api/x');
      open.add(route);
      assert.equal(open.routable('/wp-login.php'), true, route);
    }
  });
});

describe('RoutePrefixes on the real control app', { timeout: 30_000 }, () => {
  test('every registered route, made concrete, is routable; scanners’ paths are not', async () => {
    const app = await makeTestApp();
    try {
      const prefixes = new RoutePrefixes();
      const routes: string[] = [];
      // The app is ready: its routes, as the router prints them (a tree: the top level is whole
      // patterns, the levels below continue them, which a route's first segment never reaches).
      for (const line of app.app.printRoutes({ commonPrefix: false }).split('\n')) {
        const route = /^[└├]── (\/\S*)/.exec(line)?.[1];
        if (route !== undefined) routes.push(route);
      }
      assert.ok(routes.length > 10, `routes listed: ${routes.length}`);
      for (const route of routes) prefixes.add(route);
      for (const route of routes) {
        const concrete = route.replace(/:[^/]+/g, 'x').replace(/\*/g, 'y');
        assert.equal(prefixes.routable(concrete), true, `${route} as ${concrete}`);
      }
      for (const junk of ['/wp-login.php', '/.env', '/cgi-bin/luci', '/phpmyadmin/index.php'])
        assert.equal(prefixes.routable(junk), false, junk);
    } finally {
      await app.close();
    }
  });
});
