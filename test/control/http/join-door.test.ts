import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { anonymousSubject, type ListenerClaims } from '../../../src/control/credentials.ts';
import { joinDoor, plainJoinBody } from '../../../src/control/http/join-door.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/**
 * The lean join (`join-door.ts`) next to the Fastify route it stands in front of: over a real socket,
 * the door answers plain joins itself, declines or hands on everything else, and every answer is the
 * one the route gives (`inject`, which never passes the door) for the same request.
 */
interface Answer {
  status: number;
  type: string | undefined;
  retryAfter: string | undefined;
  body: string;
}

interface Rig {
  readonly app: TestApp;
  readonly url: string;
  /** What the door did with each request: answered it, declined it (before the body), handed it on (after). */
  readonly seen: { answered: number; declined: number; handedOn: number };
  send(path: string, init?: { body?: string; headers?: Record<string, string> }): Promise<Answer>;
  /** The same request through the Fastify route alone (in-process, no door). */
  route(path: string, init?: { body?: string; headers?: Record<string, string> }): Promise<Answer>;
  close(): Promise<void>;
}

async function rig(overrides: Record<string, unknown> = {}): Promise<Rig> {
  const app = await makeTestApp(overrides);
  const seen = { answered: 0, declined: 0, handedOn: 0 };
  const framework = (req: IncomingMessage, res: ServerResponse) => app.app.routing(req, res);
  const door = joinDoor({
    ...app,
    metrics: app.metrics.control,
    log: app.app.log,
    record: (route, method, status, seconds) => app.metrics.http.record(route, method, status, seconds),
    framework: (req, res) => {
      seen.handedOn++;
      framework(req, res);
    },
  });
  const server: Server = createServer((req, res) => {
    if (door(req, res)) seen.answered++;
    else {
      seen.declined++;
      framework(req, res);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const headersOf = (init: { body?: string; headers?: Record<string, string> }) => ({
    ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...init.headers,
  });
  return {
    app,
    url,
    seen,
    async send(path, init = {}) {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: headersOf(init), body: init.body ?? null });
      const h = (name: string) => res.headers.get(name) ?? undefined;
      return { status: res.status, type: h('content-type'), retryAfter: h('retry-after'), body: await res.text() };
    },
    async route(path, init = {}) {
      const res = await app.app.inject({ method: 'POST', url: path, headers: headersOf(init), payload: init.body });
      const h = (name: string) => res.headers[name] as string | undefined;
      return { status: res.statusCode, type: h('content-type'), retryAfter: h('retry-after'), body: res.body };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await app.close();
    },
  };
}

/** The fields of a grant or a ticket with the signed (and per-request random) values left out. */
function shape(body: string): unknown {
  const { token, ticket, playlistUrl, streamUrl, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return { ...rest, token: typeof token, ticket: typeof ticket, playlistUrl: typeof playlistUrl, streamUrl: typeof streamUrl };
}

describe('the lean join door: the route’s answers without the framework', () => {
  let r: Rig;
  let host: { id: string; token: string };
  let space: string;
  const path = () => `/api/spaces/${space}/join`;
  before(async () => {
    r = await rig();
    host = await r.app.signUp('door_host');
    space = (await r.app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Door' } })).json.space.id as string;
    await r.app.call('POST', `/api/spaces/${space}/start`, { token: host.token });
  });
  after(() => r.close());

  const verify = (token: string) => r.app.signer.verify<ListenerClaims>(token, r.app.clock.now());

  /** Sends one request both ways and checks that the door did `did` and that both answers agree. */
  const both = async (did: keyof Rig['seen'], init: { body?: string; headers?: Record<string, string> }, url = path()) => {
    const before = { ...r.seen };
    const door = await r.send(url, init);
    assert.equal(r.seen[did], before[did] + 1, `the door ${did} it: ${JSON.stringify(r.seen)} (was ${JSON.stringify(before)})`);
    const route = await r.route(url, init);
    return { door, route };
  };

  test('a plain anonymous join is answered by the door: the route’s status, type and fields', async () => {
    for (const init of [{}, { body: '{}' }, { body: 'null' }]) {
      const { door, route } = await both('answered', init);
      assert.equal(door.status, 200);
      assert.deepEqual({ ...door, body: shape(door.body) }, { ...route, body: shape(route.body) });
      const claims = verify(JSON.parse(door.body).token as string);
      assert.ok(claims.ok && claims.claims.s === space && claims.claims.u.startsWith('an_'));
    }
  });

  test('a client id names the subject, and its token renews through the door with the same subject', async () => {
    const client = 'door-client-0123456789';
    const { door } = await both('answered', { body: JSON.stringify({ client }) });
    const token = JSON.parse(door.body).token as string;
    const claims = verify(token);
    assert.ok(claims.ok && claims.claims.u === anonymousSubject(client));
    const renewed = await both('answered', { body: JSON.stringify({ token, client }) });
    assert.equal(renewed.door.status, 200);
    const again = verify(JSON.parse(renewed.door.body).token as string);
    assert.ok(again.ok && again.claims.u === anonymousSubject(client));
    // Someone else's client id does not renew it: the route's refusal, word for word.
    const stolen = await both('answered', { body: JSON.stringify({ token, client: 'another-client-0123456' }) });
    assert.deepEqual(stolen.door, stolen.route);
    assert.equal(stolen.door.status, 401);
  });

  test('signed in by a bearer token: the token names the account; a bad bearer is the route’s 401', async () => {
    const fan = await r.app.signUp('door_fan');
    const { door } = await both('answered', { body: '{}', headers: { authorization: `Bearer ${fan.token}` } });
    const claims = verify(JSON.parse(door.body).token as string);
    assert.ok(claims.ok && claims.claims.u === fan.id);
    for (const authorization of ['Bearer nope', 'Basic abc']) {
      const bad = await both('answered', { body: '{}', headers: { authorization } });
      assert.equal(bad.door.status, 401);
      assert.deepEqual(bad.door, bad.route);
    }
  });

  test('refusals are the catalogue’s, as the route writes them: no such Space, removed from it', async () => {
    const missing = await both('answered', {}, '/api/spaces/sp_000000000000/join');
    assert.equal(missing.door.status, 404);
    assert.deepEqual(missing.door, missing.route);
    const troll = await r.app.signUp('door_troll');
    await r.app.call('POST', `/api/spaces/${space}/members/${troll.id}/remove`, { token: host.token });
    const removed = await both('answered', { body: '{}', headers: { authorization: `Bearer ${troll.token}` } });
    assert.equal(JSON.parse(removed.door.body).error.code, 'REMOVED_FROM_SPACE');
    assert.deepEqual(removed.door, removed.route);
  });

  test('a body that is not a plain JoinBody is handed on after reading: the framework’s own errors', async () => {
    const bodies = [
      'not json',
      '{"client":"short"}',
      '{"token":5}',
      '{"token":""}',
      '{"unknown":1}',
      '{"__proto__":{"x":1}}',
      '[]',
      '{"pow":{"challenge":"c"}}',
    ];
    for (const body of bodies) {
      const { door, route } = await both('handedOn', { body });
      assert.ok(door.status >= 400 && door.status < 500, `${body}: ${door.status}`);
      assert.deepEqual(door, route, body);
    }
  });

  test('what the framework owns is declined before the body is read: same answers', async () => {
    const cases: { init: { body?: string; headers?: Record<string, string> }; url?: string; status: number }[] = [
      { init: { body: 'x', headers: { 'content-type': 'text/plain' } }, status: 400 },
      { init: { body: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415 },
      { init: { body: JSON.stringify({ token: 'x'.repeat(9000) }) }, status: 413 },
      { init: { body: '{}' }, url: '/api/spaces/nope/join', status: 400 },
      // A session cookie brings the cross-site guard: the framework's.
      { init: { body: '{}', headers: { cookie: 'amphi_session=abc', 'sec-fetch-site': 'cross-site' } }, status: 403 },
    ];
    for (const c of cases) {
      const { door, route } = await both('declined', c.init, c.url);
      assert.equal(door.status, c.status, JSON.stringify(c));
      assert.deepEqual(door, route);
    }
    // A query string goes to the framework too (the route ignores it).
    const query = await both('declined', { body: '{}' }, `${path()}?x=1`);
    assert.equal(query.door.status, 200);
  });

  test('an upload cut off halfway costs the door nothing: the next join is answered', async () => {
    const socket = connect(Number(new URL(r.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST ${path()} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"client"`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await r.send(path(), { body: '{}' })).status, 200);
  });

  test('the door’s answers are counted in the HTTP metrics under the route', async () => {
    const joins = async () => {
      const text = await r.app.metrics.registry.metrics();
      const line = text
        .split('\n')
        .find(
          (l) => l.startsWith('amphi_control_http_requests_total{') && l.includes('/api/spaces/:id/join') && l.includes('"200"'),
        );
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const before = await joins();
    for (let i = 0; i < 3; i++) assert.equal((await r.send(path())).status, 200);
    assert.equal(await joins(), before + 3);
  });
});

describe('the lean join door and the door’s limits', () => {
  test('joins past an address’s bucket: 429 with Retry-After, as the route answers', async () => {
    const r = await rig({ admission: { joinBurst: 1000, limits: { joinsPerAddress: { capacity: 2, refillPerSecond: 0.5 } } } });
    try {
      const host = await r.app.signUp('limit_host');
      const id = (await r.app.call('POST', '/api/spaces', { token: host.token, body: { title: 'L' } })).json.space.id as string;
      await r.app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await r.send(`/api/spaces/${id}/join`));
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 429],
      );
      const route = await r.route(`/api/spaces/${id}/join`);
      assert.deepEqual(answers[2], route);
      assert.equal(route.retryAfter, '2');
      assert.equal(r.seen.answered, 3);
    } finally {
      await r.close();
    }
  });

  test('past capacity the door hands out the route’s place in line (202), and the ticket is exchanged through it', async () => {
    const r = await rig({ admission: { joinsPerSecond: 1, joinBurst: 1 } });
    try {
      const host = await r.app.signUp('line_host');
      const id = (await r.app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Q' } })).json.space.id as string;
      await r.app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
      assert.equal((await r.send(`/api/spaces/${id}/join`)).status, 200);
      const queued = await r.send(`/api/spaces/${id}/join`);
      assert.equal(queued.status, 202);
      const ticket = JSON.parse(queued.body) as { ticket: string; client: string; number: number; lineUrl: string };
      assert.equal(ticket.lineUrl, `/api/spaces/${id}/line`);
      const route = await r.route(`/api/spaces/${id}/join`);
      assert.equal(route.status, 202);
      assert.deepEqual(Object.keys(JSON.parse(queued.body)), Object.keys(JSON.parse(route.body)));
      assert.equal(queued.type, route.type);
      r.app.clock.advance(10_000);
      const exchanged = await r.send(`/api/spaces/${id}/join`, {
        body: JSON.stringify({ ticket: ticket.ticket, client: ticket.client }),
      });
      assert.equal(exchanged.status, 200, exchanged.body);
      const claims = r.app.signer.verify<ListenerClaims>(JSON.parse(exchanged.body).token as string, r.app.clock.now());
      assert.ok(claims.ok && claims.claims.u === anonymousSubject(ticket.client));
    } finally {
      await r.close();
    }
  });
});

test('plainJoinBody takes only what the schema takes without coercion; the rest is left to the framework', () => {
  const ok = (s: string) => plainJoinBody(Buffer.from(s));
  assert.deepEqual(ok('{}'), {});
  assert.deepEqual(ok('null'), {});
  assert.deepEqual(ok('{"ticket":"t","client":"abcdefghijklmnop"}'), { ticket: 't', client: 'abcdefghijklmnop' });
  assert.deepEqual(ok('{"pow":{"challenge":"c","solution":"s"}}'), { pow: { challenge: 'c', solution: 's' } });
  for (const bad of [
    '',
    '1',
    '"x"',
    '[]',
    '{"token":1}',
    '{"token":""}',
    `{"token":"${'x'.repeat(4097)}"}`,
    `{"ticket":"${'x'.repeat(1025)}"}`,
    '{"client":"abcdefghijklmno"}',
    '{"client":"abcdefghijklmnop!"}',
    '{"pow":{"challenge":"c","solution":"s","x":1}}',
    '{"pow":{"challenge":"c","solution":""}}',
    `{"pow":{"challenge":"c","solution":"${'s'.repeat(65)}"}}`,
    '{"pow":null}',
    '{"constructor":{"prototype":{}}}',
  ]) {
    assert.equal(ok(bad), undefined, bad);
  }
});
