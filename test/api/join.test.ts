import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ListenerClaims, StageClaims } from '../../src/control/credentials.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

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
    const first = await app.call('POST', `/api/spaces/${spaceA}/join`);
    app.clock.advance(60_000);
    const renewed = await app.call('POST', `/api/spaces/${spaceA}/join`, { body: { token: first.json.token } });
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
    assert.equal(stage.json.whipUrl, `http://amphi.test/whip/${spaceA}`);
    const claims = app.signer.verify<StageClaims>(stage.json.token, app.clock.now());
    assert.ok(claims.ok && claims.claims.t === 's' && claims.claims.r === 'host' && claims.claims.u === host.id);
    const misuse = await app.call('POST', `/api/spaces/${spaceA}/join`, { body: { token: stage.json.token } });
    assert.equal(misuse.json.error.code, 'LISTENER_TOKEN_INVALID');
  });

  test('joining writes nothing: the database sees no change from a thousand joins', async () => {
    const before = (await app.call('GET', `/api/spaces/${spaceA}`)).json.space;
    for (let i = 0; i < 1000; i++) assert.equal((await app.call('POST', `/api/spaces/${spaceA}/join`)).status, 200);
    const after = (await app.call('GET', `/api/spaces/${spaceA}`)).json.space;
    assert.deepEqual(after, before);
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
    const renew = await app.call('POST', `/api/spaces/${spaceB}/join`, { body: { token } });
    assert.equal(renew.json.error.code, 'REMOVED_FROM_SPACE');
  });
});
