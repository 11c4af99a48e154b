import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import type { ListenerClaims, StageClaims } from '../../../src/control/credentials.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';
import { eventually } from '../../helpers/eventually.ts';

/**
 * Every row of every table of the test app's SQLite file, read through a second, read-only
 * connection: what the database holds, not what the API chooses to show.
 */
function databaseRows(app: TestApp): Record<string, unknown[]> {
  const db = new DatabaseSync(join(app.config.dataDir, 'amphi.db'), { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    assert.ok(tables.some((t) => t.name === 'spaces') && tables.some((t) => t.name === 'accounts'), 'the schema was read');
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).all()]));
  } finally {
    db.close();
  }
}

describe('joining as a listener: signed, short-lived, per-Space tokens', () => {
  let app: TestApp;
  let host: { id: string; token: string };
  let spaceA: string;
  let spaceB: string;
  before(async () => {
    app = await makeTestApp();
    host = await app.signUp('join_host');
    const mk = async (body: object) => {
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body })).json.space.id as string;
      await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
      return id;
    };
    spaceA = await mk({ title: 'A' });
    spaceB = await mk({ title: 'B' });
  });
  after(() => app.close());

  const verify = (token: string) => app.signer.verify<ListenerClaims>(token, app.clock.now());

  test('anonymous join: a token for this Space, a playlist URL carrying it in the path, an expiry', async () => {
    const r = await app.call('POST', `/api/spaces/${spaceA}/join`);
    assert.equal(r.status, 200);
    const claims = verify(r.json.token);
    assert.ok(claims.ok);
    assert.equal(claims.claims.s, spaceA);
    assert.equal(claims.claims.t, 'l');
    assert.match(claims.claims.u, /^an_/);
    assert.equal(r.json.playlistUrl, `http://amphi.test/l/${r.json.token}/${spaceA}/index.m3u8`);
    assert.equal(Date.parse(r.json.expiresAt), app.clock.now() + app.config.tokens.listenerTokenTtlSeconds * 1000);
  });

  test('a signed-in listener’s token names their account', async () => {
    const fan = await app.signUp('join_fan');
    const r = await app.call('POST', `/api/spaces/${spaceA}/join`, { token: fan.token });
    const claims = verify(r.json.token);
    assert.ok(claims.ok && claims.claims.u === fan.id);
  });

  test('a token from one Space does not renew in another; tampered and expired tokens are refused', async () => {
    const a = (await app.call('POST', `/api/spaces/${spaceA}/join`)).json.token as string;
    const cross = await app.call('POST', `/api/spaces/${spaceB}/join`, { body: { token: a } });
    assert.equal(cross.status, 401);
    assert.equal(cross.json.error.code, 'LISTENER_TOKEN_INVALID');
    const [body, mac] = a.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forgedBody = Buffer.from(JSON.stringify({ ...payload, s: spaceB })).toString('base64url');
    const forged = await app.call('POST', `/api/spaces/${spaceB}/join`, { body: { token: `${forgedBody}.${mac}` } });
    assert.equal(forged.json.error.code, 'LISTENER_TOKEN_INVALID');
    assert.equal(verify(`${forgedBody}.${mac}`).ok, false, 'the edge would refuse it too');
    app.clock.advance(app.config.tokens.listenerTokenTtlSeconds * 1000);
    assert.deepEqual(verify(a), { ok: false, reason: 'expired' });
    const late = await app.call('POST', `/api/spaces/${spaceA}/join`, { body: { token: a } });
    assert.equal(late.json.error.code, 'LISTENER_TOKEN_INVALID');
  });

  test('renewal keeps the listener identity and extends the expiry', async () => {
    const client = 'renewal-client-secret-0001';
    const first = await app.call('POST', `/api/spaces/${spaceA}/join`, { body: { client } });
    app.clock.advance(60_000);
    const renewed = await app.call('POST', `/api/spaces/${spaceA}/join`, { body: { token: first.json.token, client } });
    assert.equal(renewed.status, 200);
    const a = verify(first.json.token);
    const b = verify(renewed.json.token);
    assert.ok(a.ok && b.ok);
    assert.equal(b.claims.u, a.claims.u);
    assert.ok(b.claims.e > a.claims.e);
  });

  test('a listener token is no stage token, and a stage token is no listener token', async () => {
    const stage = await app.call('POST', `/api/spaces/${spaceA}/stage`, { token: host.token });
    assert.equal(stage.status, 200);
    assert.equal(stage.json.whipUrl, `http://stage.amphi.test/whip/${spaceA}`);
    const claims = app.signer.verify<StageClaims>(stage.json.token, app.clock.now());
    assert.ok(claims.ok && claims.claims.t === 's' && claims.claims.r === 'host' && claims.claims.u === host.id);
    const misuse = await app.call('POST', `/api/spaces/${spaceA}/join`, { body: { token: stage.json.token } });
    assert.equal(misuse.json.error.code, 'LISTENER_TOKEN_INVALID');
  });

  test('joining writes nothing: the database sees no change from a thousand joins', async () => {
    const fan = await app.signUp('join_quiet_fan');
    const before = databaseRows(app);
    const calls = new Set<string>();
    app.onStoreCall((method) => {
      calls.add(method);
      return undefined;
    });
    try {
      for (let i = 0; i < 1000; i++) {
        const token = i % 2 === 0 ? undefined : fan.token; // anonymous and signed-in listeners
        assert.equal((await app.call('POST', `/api/spaces/${spaceA}/join`, { token })).status, 200);
      }
    } finally {
      app.onStoreCall(undefined);
    }
    assert.deepEqual(databaseRows(app), before, 'every row of every table is as it was');
    assert.ok(calls.has('findSession'), 'the store calls of the joins were seen');
    const writes = [...calls].filter((m) => !/^(get|find|list|has|is|count)/.test(m));
    assert.deepEqual(writes, [], `store calls made by joins: ${[...calls].join(', ')}`);
  });

  test('Spaces that require sign-in refuse anonymous joins; ended Spaces refuse joins', async () => {
    const closed = (
      await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Members', allowAnonymous: false } })
    ).json.space.id as string;
    assert.equal((await app.call('POST', `/api/spaces/${closed}/join`)).json.error.code, 'AUTH_REQUIRED');
    assert.equal((await app.call('POST', `/api/spaces/${closed}/join`, { token: host.token })).status, 200);
    await app.call('POST', `/api/spaces/${closed}/end`, { token: host.token });
    assert.equal((await app.call('POST', `/api/spaces/${closed}/join`, { token: host.token })).json.error.code, 'SPACE_ENDED');
  });

  test('a removed user can neither join nor renew, even with a token issued before the removal', async () => {
    const troll = await app.signUp('join_troll');
    const token = (await app.call('POST', `/api/spaces/${spaceB}/join`, { token: troll.token })).json.token as string;
    await app.call('POST', `/api/spaces/${spaceB}/members/${troll.id}/remove`, { token: host.token });
    const renew = await app.call('POST', `/api/spaces/${spaceB}/join`, { token: troll.token, body: { token } });
    assert.equal(renew.json.error.code, 'REMOVED_FROM_SPACE');
    const anonymously = await app.call('POST', `/api/spaces/${spaceB}/join`, { body: { token } });
    assert.equal(anonymously.json.error.code, 'LISTENER_TOKEN_INVALID', 'an account’s token cannot be renewed by someone else');
  });
});

describe('review findings: credentials and input edges', () => {
  test('no stage token or join from a snapshot that predates a removal, even mid-mutation', async () => {
    const app = await makeTestApp();
    try {
      const host = await app.signUp('race_host');
      const sp = await app.signUp('race_speaker');
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Race' } })).json.space.id as string;
      await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
      await app.call('POST', `/api/spaces/${id}/requests`, { token: sp.token });
      await app.call('POST', `/api/spaces/${id}/requests/${sp.id}/accept`, { token: host.token });
      assert.equal((await app.call('POST', `/api/spaces/${id}/stage`, { token: sp.token })).status, 200);

      // Hold the removal's transaction open (the ban written, the version bump not yet) and ask for
      // credentials inside that window: they wait for the mutation and see the ban.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let held = false;
      app.onStoreCall((method) => {
        if (method !== 'updateSpace' || held) return undefined;
        held = true;
        return gate;
      });
      const removal = app.call('POST', `/api/spaces/${id}/members/${sp.id}/remove`, { token: host.token });
      await eventually('the version bump to be held', () => held, { intervalMs: 0 });
      const stage = app.call('POST', `/api/spaces/${id}/stage`, { token: sp.token });
      const join = app.call('POST', `/api/spaces/${id}/join`, { token: sp.token });
      for (let i = 0; i < 20; i++) await new Promise(setImmediate); // both requests are in, and waiting
      release();
      assert.equal((await removal).status, 200);
      assert.equal((await stage).json.error?.code, 'REMOVED_FROM_SPACE', JSON.stringify((await stage).json));
      assert.equal((await join).json.error?.code, 'REMOVED_FROM_SPACE');
    } finally {
      await app.close();
    }
  });

  test('renewing someone else’s listener token is refused; a stale cookie joins as anonymous, a bad bearer does not', async () => {
    const app = await makeTestApp();
    try {
      const host = await app.signUp('renew_host');
      const alice = await app.signUp('renew_alice');
      const bob = await app.signUp('renew_bob');
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Renew' } })).json.space.id as string;
      const alicesToken = (await app.call('POST', `/api/spaces/${id}/join`, { token: alice.token })).json.token as string;
      for (const token of [bob.token, undefined]) {
        const r = await app.call('POST', `/api/spaces/${id}/join`, { token, body: { token: alicesToken } });
        assert.equal(r.json.error?.code, 'LISTENER_TOKEN_INVALID');
      }
      assert.equal(
        (await app.call('POST', `/api/spaces/${id}/join`, { token: alice.token, body: { token: alicesToken } })).status,
        200,
      );
      const stale = await app.call('POST', `/api/spaces/${id}/join`, { headers: { cookie: 'amphi_session=expired_or_unknown' } });
      assert.equal(stale.status, 200);
      const claims = app.signer.verify<ListenerClaims>(stale.json.token, app.clock.now());
      assert.ok(claims.ok && claims.claims.u.startsWith('an_'));
      assert.equal(
        (await app.call('POST', `/api/spaces/${id}/join`, { token: 'unknown_bearer' })).json.error.code,
        'SESSION_INVALID',
      );
    } finally {
      await app.close();
    }
  });

  test('control characters and unrepresentable times are refused with 400, never stored', async () => {
    const app = await makeTestApp();
    try {
      const host = await app.signUp('input_host');
      for (const body of [
        { title: 'a\u0000b' },
        { title: 'tab\there' },
        { title: '   ' },
        { title: 'Leap', scheduledStart: '2026-12-31T23:59:60Z' },
      ]) {
        const r = await app.call('POST', '/api/spaces', { token: host.token, body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.json.error.code, 'VALIDATION_FAILED');
      }
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Ok' } })).json.space.id as string;
      const pin = await app.call('PUT', `/api/spaces/${id}/pin`, {
        token: host.token,
        body: { url: 'https://x.example/\u0000' },
      });
      assert.equal(pin.json.error.code, 'VALIDATION_FAILED');
      const list = await app.call('GET', '/api/spaces');
      assert.deepEqual(
        list.json.spaces.map((s: { title: string }) => s.title),
        ['Ok'],
      );
    } finally {
      await app.close();
    }
  });
});
