import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { QUIET_ADMISSION, startLiveServer, type LiveServer } from '../helpers/server.ts';
import { streamHead } from '../helpers/stream-head.ts';

/** Real sockets: each suite, and each hook (a suite's timeout does not cover its hooks), is bounded. */
const SUITE = { timeout: 120_000 };
const HOOK = { timeout: 30_000 };

/** The raw listener door answers before the framework: every refusal is a catalogued 4xx, never a 5xx. */
describe('listener door (raw HTTP, before the framework)', SUITE, () => {
  const cleanup = new Cleanup();
  let server: LiveServer;
  let spaceId: string;
  let token: string;
  let host: { id: string; token: string };
  before(async () => {
    server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown()); // the machine's load is not under test
    ({ spaceId, host } = await server.liveSpace(0));
    ({ token } = (await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { token: string });
    await server.programFrames(spaceId, 30); // a first part exists
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${server.url}${path}`, init);
    const text = await res.text();
    return {
      status: res.status,
      code: res.headers.get('content-type')?.includes('json')
        ? (JSON.parse(text) as { error?: { code: string } }).error?.code
        : undefined,
      res,
    };
  };

  test('good requests: playlist, HEAD, CORS preflight; the stream starts with init', async () => {
    assert.equal((await get(`/l/${token}/${spaceId}/index.m3u8`)).status, 200);
    const head = await get(`/l/${token}/${spaceId}/init.mp4`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.ok(Number(head.res.headers.get('content-length')) > 100);
    const preflight = await get(`/l/${token}/${spaceId}/media.m3u8`, { method: 'OPTIONS' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.res.headers.get('access-control-allow-origin'), '*');
    const stream = await streamHead(`${server.url}/l/${token}/${spaceId}/live.mp4`);
    assert.equal(stream.status, 200);
    assert.ok(Number(stream.headers['amphi-program-epoch-ms']) > 0);
    assert.equal(stream.first.subarray(4, 8).toString('latin1'), 'ftyp');
  });

  test('a held stream owns its connection: HEAD gets the head only; a request pipelined behind it closes the connection', async () => {
    const head = await fetch(`${server.url}/l/${token}/${spaceId}/live.mp4`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    const path = `/l/${token}/${spaceId}`;
    socket.write(`GET ${path}/live.mp4 HTTP/1.1\r\nHost: x\r\n\r\nGET ${path}/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const started = Date.now();
    const received = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined); // a reset is a close too
      setTimeout(() => socket.destroy(), 5000).unref();
    }).finally(() => socket.destroy());
    assert.ok(Date.now() - started < 4000, 'the server closed the connection');
    assert.ok(!received.includes('#EXTM3U'), 'the pipelined request is not answered inside the stream');
  });

  test('a listener removed from the Space loses the audio at once: stream closed, token refused', async () => {
    const troll = await server.signUp('door_troll');
    const grant = (await server.api('POST', `/api/spaces/${spaceId}/join`, troll.token)).json as {
      token: string;
      streamUrl: string;
    };
    const closed = new Promise<number>((resolve, reject) => {
      const req = request(grant.streamUrl, (res) => {
        assert.equal(res.statusCode, 200);
        res.on('data', () => undefined);
        res.on('close', () => resolve(Date.now()));
      });
      req.on('error', reject);
      req.end();
      // Bounded: a stream that outlives the removal fails the test instead of holding it open.
      setTimeout(() => {
        req.destroy();
        reject(new Error('the stream was still open 5 s after the removal'));
      }, 5000).unref();
    });
    await eventually('the edge to hold the stream', () => server.edge.streaming > 0);
    const removedAt = Date.now();
    assert.equal((await server.api('POST', `/api/spaces/${spaceId}/members/${troll.id}/remove`, host.token)).status, 200);
    assert.ok((await closed) - removedAt < 1000, 'the stream ended within a second');
    assert.equal((await fetch(grant.streamUrl.replace('live.mp4', 'index.m3u8'))).status, 401);
  });

  test('junk is refused with catalogued codes', async () => {
    const cases: [string, RequestInit | undefined, number, string][] = [
      [`/l/short/${spaceId}/index.m3u8`, undefined, 400, 'VALIDATION_FAILED'],
      [`/l/${token}/not-a-space/index.m3u8`, undefined, 400, 'VALIDATION_FAILED'],
      [`/l/${token}/${spaceId}/../../etc/passwd`, undefined, 400, 'VALIDATION_FAILED'],
      [`/l/${token}/${spaceId}/media.m3u8?_HLS_msn=abc`, undefined, 400, 'VALIDATION_FAILED'],
      [`/l/${token}/${spaceId}/media.m3u8?_HLS_msn=99999999999`, undefined, 400, 'VALIDATION_FAILED'],
      [`/l/${token}x/${spaceId}/index.m3u8`, undefined, 401, 'LISTENER_TOKEN_INVALID'],
      [`/l/${token}x/${spaceId}/live.mp4`, undefined, 401, 'LISTENER_TOKEN_INVALID'],
      [`/l/${token}/${spaceId}/nothing.m4s`, undefined, 404, 'ROUTE_NOT_FOUND'],
      [`/l/${token}/${spaceId}/index.m3u8`, { method: 'POST', body: 'x' }, 404, 'ROUTE_NOT_FOUND'],
    ];
    for (const [path, init, status, code] of cases) {
      const r = await get(path, init);
      assert.equal(r.status, status, path);
      assert.equal(r.code, code, path);
    }
    const auth = await get('/edge/auth', { headers: { 'x-original-uri': `/l/${token}x/${spaceId}/p0.0.m4s` } });
    assert.equal(auth.status, 401);
    assert.equal((await get('/edge/auth', { headers: { 'x-original-uri': `/l/${token}/${spaceId}/p0.0.m4s` } })).status, 204);
  });

  test('listener requests are counted in the HTTP metrics; the edge reports its audience', async () => {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(
      metrics,
      /amphi_control_http_requests_total\{route="\/l\/:token\/:spaceId\/:file",method="GET",status="401"\} \d+/,
    );
    assert.match(metrics, /amphi_edge_stream_listeners 0/);
    assert.match(metrics, /amphi_edge_origin_fetches_total [1-9]\d*/);
  });
});

describe('listener door: limits against junk', SUITE, () => {
  const cleanup = new Cleanup();
  let server: LiveServer;
  let spaceId: string;
  let token: string;
  before(async () => {
    server = await startLiveServer({
      admission: {
        ...QUIET_ADMISSION,
        limits: { ...QUIET_ADMISSION.limits, perToken: { capacity: 5, refillPerSecond: 1 }, headersTimeoutMs: 1000 },
      },
    });
    cleanup.use('server', server, (s) => s.shutdown());
    ({ spaceId } = await server.liveSpace(0));
    ({ token } = (await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { token: string });
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  test('one token hammering the edge gets 429 with Retry-After; another listener is unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`${server.url}/l/${token}/${spaceId}/index.m3u8`)).status);
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    const refused = await fetch(`${server.url}/l/${token}/${spaceId}/index.m3u8`);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    const other = (await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { token: string };
    assert.equal((await fetch(`${server.url}/l/${other.token}/${spaceId}/index.m3u8`)).status, 200);
  });

  test('a slow sender (slowloris) is cut off at the header deadline', async () => {
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.write(`GET /l/${token}/${spaceId}/index.m3u8 HTTP/1.1\r\nHost: x\r\n`); // and never the blank line
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined); // a reset is a close too
      setTimeout(() => socket.destroy(), 10_000).unref(); // never cut off: the assertion below fails
    }).finally(() => socket.destroy());
    assert.ok(Date.now() - started < 5000, 'closed within a few seconds');
    assert.match(answer, /^HTTP\/1\.1 408/);
  });
});

describe('listener door behind a proxy (server.trustProxy)', SUITE, () => {
  const cleanup = new Cleanup();
  let server: LiveServer;
  let proxyUrl: string;
  let spaceId: string;
  let token: string;
  before(async () => {
    server = await startLiveServer({
      server: { port: 0, trustProxy: true },
      admission: {
        ...QUIET_ADMISSION,
        limits: {
          ...QUIET_ADMISSION.limits,
          // Three requests per address, then none for minutes: the fourth from one address is refused.
          perAddress: { capacity: 3, refillPerSecond: 0.001 },
          perToken: { capacity: 1000, refillPerSecond: 1000 },
        },
      },
    });
    cleanup.use('server', server, (s) => s.shutdown());
    ({ spaceId } = await server.liveSpace(0));
    ({ token } = (await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { token: string });
    // A reverse proxy as nginx's `$proxy_add_x_forwarded_for` is: it keeps what the client sent and
    // appends the address the connection came from.
    const upstream = new URL(server.url);
    const proxy = createServer((req, res) => {
      const sent = req.headers['x-forwarded-for'];
      const from = req.socket.remoteAddress ?? '';
      const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.setHeader('x-forwarded-for', sent === undefined ? from : `${String(sent)}, ${from}`);
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    cleanup.add('proxy', () => {
      proxy.closeAllConnections();
      return new Promise((resolve) => proxy.close(resolve));
    });
    proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  test('the per-address bucket keys on the address the proxy appended, not on what the client wrote first', async () => {
    const playlist = `/l/${token}/${spaceId}/index.m3u8`;
    const statuses: number[] = [];
    for (const spoofed of ['1.2.3.4', '5.6.7.8', '9.10.11.12', '13.14.15.16']) {
      const res = await fetch(`${proxyUrl}${playlist}`, { headers: { 'x-forwarded-for': spoofed } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429], 'four spoofed first entries, one real client: one bucket');
    // The proxy's last entry is the key, not the socket (the proxy's own address, whose bucket is spent).
    const other = await fetch(`${server.url}${playlist}`, { headers: { 'x-forwarded-for': '1.2.3.4, 198.51.100.7' } });
    assert.equal(other.status, 200, 'another client behind the same proxy has a bucket of its own');
  });
});
