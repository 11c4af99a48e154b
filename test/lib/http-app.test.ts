import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { clientAddress } from '../../src/lib/client-address.ts';
import { createHttpApp, type App, type HttpAppOptions } from '../../src/lib/http-app.ts';

const limits = { maxConnections: 7, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

/** Node keeps these createServer options on the server; @types/node does not declare them. */
type ServerWithOptions = App['server'] & { connectionsCheckingInterval: number; maxHeaderSize: number };

/** An app logging at info into `lines`, so a test can see every line it writes. */
function makeApp(options: Partial<HttpAppOptions> = {}) {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as { level: number; msg: string }) });
  const app = createHttpApp({ log, limits, bodyLimitBytes: 1024, ...options });
  return { app, lines };
}

async function using<T>(app: App, fn: () => Promise<T>): Promise<T> {
  await app.ready();
  try {
    return await fn();
  } finally {
    await app.close();
  }
}

/**
 * Hands a request to the listening server's request handler as a socket would (no socket is opened),
 * and resolves with what was answered.
 */
function dispatch(app: App, url: string): Promise<{ status: number; body: string }> {
  const req = new IncomingMessage(new Socket());
  req.url = url;
  req.method = 'GET';
  req.headers = { host: 'test' };
  req.push(null);
  const res = new ServerResponse(req);
  return new Promise((resolve) => {
    const end = res.end.bind(res);
    res.end = ((chunk?: unknown) => {
      resolve({ status: res.statusCode, body: String(chunk) });
      return end();
    }) as typeof res.end;
    app.server.emit('request', req, res);
  });
}

describe('createHttpApp', { timeout: 20_000 }, () => {
  test('the listener enforces the configured connection cap, deadlines and header limit', async () => {
    const { app } = makeApp({ limits: { maxConnections: 7, headersTimeoutMs: 200, requestTimeoutMs: 300 } });
    await using(app, () => {
      const server = app.server as ServerWithOptions;
      assert.equal(server.maxConnections, 7);
      assert.equal(server.headersTimeout, 200);
      assert.equal(server.requestTimeout, 300);
      // Deadlines are swept at least as often as the header deadline, and at least every second.
      assert.equal(server.connectionsCheckingInterval, 200);
      assert.equal(server.maxHeaderSize, 16_384);
      return Promise.resolve();
    });
    const { app: slow } = makeApp();
    await using(slow, () => {
      assert.equal((slow.server as ServerWithOptions).connectionsCheckingInterval, 1000);
      return Promise.resolve();
    });
  });

  test('the door answers the requests it takes; the framework answers the rest', async () => {
    const seen: string[] = [];
    const { app } = makeApp({
      door: (req, res) => {
        seen.push(req.url ?? '');
        if (req.url !== '/door') return false;
        res.end('from the door');
        return true;
      },
    });
    let handled = 0;
    app.get('/api', () => {
      handled++;
      return 'from the app';
    });
    await using(app, async () => {
      assert.deepEqual(await dispatch(app, '/door'), { status: 200, body: 'from the door' });
      assert.equal(handled, 0);
      assert.deepEqual(await dispatch(app, '/api'), { status: 200, body: 'from the app' });
      assert.equal(handled, 1);
      assert.deepEqual(seen, ['/door', '/api']);
    });
  });

  test('once the app is closing, the framework answers what the door would (503), so connections drain', async () => {
    let doorCalls = 0;
    const { app } = makeApp({
      door: (_req, res) => {
        doorCalls++;
        res.end('from the door');
        return true;
      },
    });
    let during: { status: number; body: string } | undefined;
    // Runs after the app's own preClose hook: the app is closing, the server not yet closed.
    app.addHook('preClose', async () => {
      during = await dispatch(app, '/door');
    });
    await app.ready();
    assert.deepEqual(await dispatch(app, '/door'), { status: 200, body: 'from the door' });
    await app.close();
    assert.equal(during?.status, 503);
    assert.equal(doorCalls, 1, 'the door was not asked once closing began');
  });

  test('without a door every request goes to the framework', async () => {
    const { app } = makeApp();
    app.get('/api', () => 'from the app');
    await using(app, async () => {
      assert.deepEqual(await dispatch(app, '/api'), { status: 200, body: 'from the app' });
    });
  });

  test('while closing, requests still arriving get 503 instead of running their handler', async () => {
    const { app } = makeApp();
    let handled = 0;
    app.get('/api', () => {
      handled++;
      return 'ok';
    });
    let during: { status: number } | undefined;
    app.addHook('onClose', async () => {
      during = await dispatch(app, '/api');
    });
    await app.ready();
    await app.close();
    assert.equal(during?.status, 503);
    assert.equal(handled, 0);
  });

  test('a malformed URL gets the catalogue BAD_REQUEST, not the framework error', async () => {
    const { app } = makeApp();
    app.get('/l/:token', () => 'ok');
    await using(app, async () => {
      const res = await app.inject({ method: 'GET', url: '/l/%E0%A4%A' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.code, 'BAD_REQUEST');
    });
  });

  test('path parameters as long as a signed listener token are routed', async () => {
    const { app } = makeApp();
    app.get('/l/:token', (request) => (request.params as { token: string }).token.length);
    await using(app, async () => {
      const res = await app.inject({ method: 'GET', url: `/l/${'t'.repeat(1000)}` });
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, '1000');
    });
  });

  test('X-Forwarded-For is ignored unless the app is told it sits behind a proxy', async () => {
    for (const [trustProxy, ip] of [
      [undefined, '127.0.0.1'],
      [false, '127.0.0.1'],
      [true, '203.0.113.9'],
    ] as const) {
      const { app } = makeApp({ trustProxy });
      app.get('/ip', (request) => request.ip);
      await using(app, async () => {
        const res = await app.inject({ method: 'GET', url: '/ip', headers: { 'x-forwarded-for': '203.0.113.9' } });
        assert.equal(res.body, ip, String(trustProxy));
      });
    }
  });

  test('behind a proxy the client is the entry the trusted proxies appended, never the leftmost the client wrote', async () => {
    // The client wrote "198.51.100.7"; the proxy (connecting from 127.0.0.1) appended the real address.
    const forwarded = '198.51.100.7, 203.0.113.9';
    for (const [trustProxy, ip] of [
      [true, '203.0.113.9'],
      [1, '203.0.113.9'],
      [2, '198.51.100.7'],
      [['127.0.0.1'], '203.0.113.9'],
      [['loopback', '203.0.113.0/24'], '198.51.100.7'],
      [['10.0.0.1'], '127.0.0.1'],
    ] as const) {
      const { app } = makeApp({ trustProxy });
      const door = clientAddress(trustProxy);
      let doorSaw = '';
      app.get('/ip', (request) => {
        doorSaw = door(request.raw);
        return request.ip;
      });
      await using(app, async () => {
        const res = await app.inject({ method: 'GET', url: '/ip', headers: { 'x-forwarded-for': forwarded } });
        assert.equal(res.body, ip, `request.ip with trustProxy ${JSON.stringify(trustProxy)}`);
        assert.equal(doorSaw, ip, `the door with trustProxy ${JSON.stringify(trustProxy)}`);
      });
    }
  });

  test('bodies that try prototype poisoning are refused, not silently cleaned', async () => {
    const { app } = makeApp();
    app.post('/echo', (request) => request.body);
    await using(app, async () => {
      for (const payload of ['{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}']) {
        const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
        assert.equal(res.statusCode, 400, payload);
        assert.equal(res.json().error.code, 'INVALID_JSON', payload);
      }
    });
  });

  test('schema defaults fill missing fields', async () => {
    const { app } = makeApp();
    const schema = {
      body: { type: 'object', properties: { title: { type: 'string' }, private: { type: 'boolean', default: false } } },
    };
    app.post('/spaces', { schema }, (request) => request.body);
    await using(app, async () => {
      const res = await app.inject({ method: 'POST', url: '/spaces', payload: { title: 't' } });
      assert.deepEqual(res.json(), { title: 't', private: false });
    });
  });

  test('answers are not logged per request', async () => {
    const { app, lines } = makeApp();
    app.get('/api', () => 'ok');
    await using(app, async () => {
      assert.equal((await app.inject({ method: 'GET', url: '/api' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/missing' })).statusCode, 404);
    });
    assert.deepEqual(
      lines.filter((l) => l.level >= 30),
      [],
    );
  });

  test('every answered request is recorded with its route pattern, method, status and seconds', async () => {
    const recorded: [string, string, number, number][] = [];
    const { app } = makeApp({ record: (...args) => recorded.push(args) });
    app.get('/spaces/:id', () => 'ok');
    await using(app, async () => {
      await app.inject({ method: 'GET', url: '/spaces/sp_1' });
      await app.inject({ method: 'DELETE', url: '/nowhere' });
    });
    assert.deepEqual(
      recorded.map(([route, method, status]) => [route, method, status]),
      [
        ['/spaces/:id', 'GET', 200],
        ['unmatched', 'DELETE', 404],
      ],
    );
    // In-process requests take well under a second; a millisecond count would not.
    for (const [, , , seconds] of recorded) assert.ok(seconds >= 0 && seconds < 0.5, String(seconds));
  });

  test('a path no route could match is answered 404 before the framework, as the framework would answer it', async () => {
    const recorded: string[] = [];
    const { app } = makeApp({ record: (route, method, status) => recorded.push(`${route} ${method} ${status}`) });
    let reachedFramework = 0;
    app.addHook('onRequest', (_request, _reply, done) => {
      reachedFramework++;
      done();
    });
    app.get('/api/things/:id', () => ({ ok: true }));
    app.get('/@:handle', () => ({ page: true }));
    app.get('/', () => ({ home: true }));
    app.get('/assets/*', () => ({ asset: true }));
    await using(app, async () => {
      // A URL only the framework can judge (a bad escape in a parameter) goes to it: its router answers 400.
      assert.equal((await dispatch(app, '/api/things/%E0%A4%A')).status, 400);
      // The framework's own not-found answer (inject goes straight to it): the one written before it must match.
      const injected = await app.inject({ method: 'GET', url: '/wp-login.php' });
      reachedFramework--;
      const framework404 = { status: injected.statusCode, body: injected.body };
      assert.equal(framework404.status, 404);
      for (const junk of [
        '/wp-login.php',
        '/.env',
        '/api/nope/more',
        '/API/things/1',
        '/l',
        '/@bob/x',
        '/assets/..%2f..%2fpackage.json',
      ]) {
        const answer = await dispatch(app, junk);
        assert.deepEqual(answer, framework404, junk);
      }
      assert.equal(reachedFramework, 0, 'junk never reached the framework');
      for (const [path, status] of [
        ['/api/things/1', 200],
        ['/@bob', 200],
        ['/', 200],
        ['/?q=1', 200],
        ['/%61pi/things/1', 200],
        ['/assets/app-1234.js', 200],
      ] as const) {
        assert.equal((await dispatch(app, path)).status, status, path);
      }
      assert.equal(reachedFramework, 6, 'routable paths (and an encoded one, which the router decodes) reach the framework');
      // Each junk answer is recorded as the framework records its own not-found answers.
      assert.ok(recorded.filter((r) => r === 'unmatched GET 404').length >= 7, recorded.join('; '));
    });
  });

  test('with a route at the root wildcard, every path goes to the framework', async () => {
    const { app } = makeApp();
    app.get('/*', () => ({ any: true }));
    await using(app, async () => assert.equal((await dispatch(app, '/wp-login.php')).status, 200));
  });
});
