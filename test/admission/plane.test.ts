import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { readChallenge, solve } from '../../src/shared/pow-solve.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

/** A signed token's claims, read without verifying (the server verified them). */
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { u: string };

/** Every app a test opened, closed after the suite (temp dir, SQLite file, timers). */
const opened: TestApp[] = [];
after(async () => {
  for (const app of opened.splice(0)) await app.close();
});

/**
 * A solution that surely fails: its SHA-256(`${nonce}:${solution}`) starts with a 1 bit (no leading
 * zero). A fixed string would pass a 6-bit puzzle once in 64 challenges.
 */
function wrongSolution(challenge: string): string {
  const { nonce } = readChallenge(challenge);
  for (let i = 0; ; i++) {
    if ((createHash('sha256').update(`${nonce}:wrong-${i}`).digest()[0]! & 0x80) !== 0) return `wrong-${i}`;
  }
}

/** A live Space on an app whose join capacity is tiny: 2 at once, then 1 per second. */
async function smallDoor(admission: Record<string, unknown> = {}) {
  const app = await makeTestApp({
    admission: {
      joinBurst: 2,
      joinsPerSecond: 1,
      limits: { joinsPerAddress: { capacity: 1_000_000, refillPerSecond: 1000 } },
      ...admission,
    },
  });
  opened.push(app);
  const host = await app.signUp('door_host');
  const spaceId = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Launch night' } })).json.space
    .id as string;
  await app.call('POST', `/api/spaces/${spaceId}/start`, { token: host.token });
  const join = (body?: unknown, token?: string) => app.call('POST', `/api/spaces/${spaceId}/join`, { body, token });
  return { app, host, spaceId, join };
}

describe('admission: the waiting room at POST /join', () => {
  test('past capacity a join gets a place in line, never an error; the number comes up and is exchanged once', async () => {
    const { app, spaceId, join } = await smallDoor();
    assert.equal((await join()).status, 200);
    assert.equal((await join()).status, 200);
    const waiting = await join();
    assert.equal(waiting.status, 202);
    const t = waiting.json as {
      ticket: string;
      number: number;
      position: number;
      etaSeconds: number;
      lineUrl: string;
      client: string;
    };
    assert.equal(t.number, 1);
    assert.equal(t.position, 1);
    assert.ok(t.etaSeconds > 0 && t.etaSeconds <= 2, `eta ${t.etaSeconds}`);
    assert.equal(t.lineUrl, `/api/spaces/${spaceId}/line`);
    assert.match(t.client, /^[A-Za-z0-9_-]{16,}$/);
    const second = (await join()).json as { number: number; client: string };
    assert.equal(second.number, 2, 'FIFO: numbers are dense and in order');

    // Too early: the same place in line again (202), not an error.
    const early = await join({ ticket: t.ticket, client: t.client });
    assert.equal(early.status, 202);
    assert.equal(early.json.position, 1);

    const line = await app.call('GET', t.lineUrl);
    assert.equal(line.status, 200);
    assert.equal(line.headers['cache-control'], 'public, max-age=1');
    assert.equal(line.json.nowServing, 0);

    app.clock.advance(1100);
    assert.equal((await app.call('GET', t.lineUrl)).json.nowServing, 1);
    const jumped = await join({ ticket: (await join()).json.ticket as string, client: second.client });
    assert.equal(jumped.status, 403, 'a ticket is bound to the client it was given to');
    assert.equal(jumped.json.error.code, 'TICKET_INVALID');
    const admitted = await join({ ticket: t.ticket, client: t.client });
    assert.equal(admitted.status, 200);
    assert.ok(typeof admitted.json.streamUrl === 'string');
    // Its first answer lost (a node killed after the redemption), the client sends it again: the same
    // listener gets a token again; nobody else can use it (bound to the client, as above).
    const retried = await join({ ticket: t.ticket, client: t.client });
    assert.equal(retried.status, 200);
    assert.equal(claimsOf(retried.json.token as string).u, claimsOf(admitted.json.token as string).u, 'the same subject');
    const stolen = await join({ ticket: t.ticket, client: second.client });
    assert.equal(stolen.status, 403, 'a redeemed ticket is still bound to its client');
    assert.equal(stolen.json.error.details.reason, 'wrong_subject');
    // Number 2 has not come up: no jumping the line with a valid ticket either.
    const notYet = await join({ ticket: (second as unknown as { ticket: string }).ticket, client: second.client });
    assert.equal(notYet.status, 202);
  });

  test('forged, other-Space and stolen tickets are refused; renewals are never queued', async () => {
    const { app, host, join } = await smallDoor();
    const secret = 'the-admitted-listeners-own-id';
    const admitted = (await join({ client: secret })).json as { token: string };
    await join();
    const t = (await join()).json as { ticket: string; client: string };
    const [body, mac] = t.ticket.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { n: number };
    const forged = `${Buffer.from(JSON.stringify({ ...claims, n: 0 })).toString('base64url')}.${mac}`;
    assert.equal((await join({ ticket: forged, client: t.client })).json.error.details.reason, 'forged');
    const other = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Other' } })).json.space
      .id as string;
    await app.call('POST', `/api/spaces/${other}/start`, { token: host.token });
    app.clock.advance(5000);
    const elsewhere = await app.call('POST', `/api/spaces/${other}/join`, { body: { ticket: t.ticket, client: t.client } });
    assert.equal(elsewhere.status, 403);
    assert.equal(elsewhere.json.error.code, 'TICKET_INVALID');
    const stolen = await join({ ticket: t.ticket, client: 'someone-else-entirely-1234' });
    assert.equal(stolen.json.error.details.reason, 'wrong_subject');
    // The line is full of people, yet an admitted listener's renewal (with its secret) goes straight through.
    const renewed = await join({ token: admitted.token, client: secret });
    assert.equal(renewed.status, 200);
  });

  test('under load anonymous joins must solve a proof of work first; signed-in users are exempt', async () => {
    const { app, join } = await smallDoor({ joinBurst: 1000, pow: { thresholdJoinsPerSecond: 1, minBits: 6, maxBits: 8 } });
    for (let i = 0; i < 5; i++) assert.equal((await join()).status, 200);
    app.clock.advance(300); // the attempt rate is now measured above the threshold
    const challenged = await join();
    assert.equal(challenged.status, 428);
    assert.equal(challenged.json.error.code, 'POW_REQUIRED');
    const { challenge, difficultyBits, client } = challenged.json.error.details as {
      challenge: string;
      difficultyBits: number;
      client: string;
    };
    assert.ok(difficultyBits >= 6 && difficultyBits <= 8);
    const wrong = await join({ client, pow: { challenge, solution: wrongSolution(challenge) } });
    assert.equal(wrong.json.error.code, 'POW_INVALID');
    const fresh = (await join({ client })).json.error.details as { challenge: string };
    const solution = await solve(fresh.challenge);
    assert.equal((await join({ client, pow: { challenge: fresh.challenge, solution } })).status, 200);
    const replay = await join({ client, pow: { challenge: fresh.challenge, solution } });
    assert.equal(replay.json.error.details.reason, 'reused');
    const member = await app.signUp('door_member');
    assert.equal((await join(undefined, member.token)).status, 200);
  });

  test('joins are paced per address, whatever client id each join claims', async () => {
    const { app, join } = await smallDoor({
      joinBurst: 1000,
      limits: { joinsPerAddress: { capacity: 3, refillPerSecond: 1 } },
    });
    // One address (every in-process call comes from 127.0.0.1), a fresh anonymous client id each time.
    const client = (i: number) => `flood-client-${String(i).padStart(12, '0')}`;
    for (let i = 0; i < 3; i++) assert.equal((await join({ client: client(i) })).status, 200, `join ${i}`);
    const limited = await join({ client: client(3) });
    assert.equal(limited.status, 429, JSON.stringify(limited.json));
    assert.equal(limited.json.error.code, 'RATE_LIMITED');
    assert.equal(limited.headers['retry-after'], '1');
    const member = await app.signUp('paced_member');
    assert.equal((await join(undefined, member.token)).json.error?.code, 'RATE_LIMITED', 'signing in is no way around it');
    app.clock.advance(1000);
    assert.equal((await join({ client: client(4) })).status, 200, 'the bucket refills on the clock');
    assert.equal((await join({ client: client(5) })).status, 429);
  });

  test('under overload the lowest priorities go first: reactions sampled, joins queued; renewals and audio untouched', async () => {
    const { app, spaceId, join } = await smallDoor({ joinBurst: 1000 });
    const admitted = (await join({ client: 'an-anonymous-listener-id' })).json as { token: string };
    const fan = await app.signUp('door_fan');
    const react = () => app.call('POST', `/api/spaces/${spaceId}/reactions`, { token: fan.token, body: { emoji: '🔥' } });
    assert.equal((await react()).status, 202);
    app.admission.capacity.observeCpuShare(0.99); // a saturated core: the top level
    assert.equal(app.admission.shedder.level, 3);
    const every = app.admission.shedder.reactionSampleEvery;
    assert.ok(every > 1);
    for (let i = 0; i < every; i++)
      assert.equal((await react()).status, 202, 'a shed reaction is still a success for the caller');
    const counted = (await app.call('GET', `/api/spaces/${spaceId}`)).json.space.reactions as { emoji: string; count: number }[];
    assert.equal(counted.find((r) => r.emoji === '🔥')?.count, 1 + every, 'one in k kept, counted k times');
    assert.equal((await join()).status, 202, 'joins go to the waiting room at this level');
    assert.equal(
      (await join({ token: admitted.token, client: 'an-anonymous-listener-id' })).status,
      200,
      'an admitted listener renews regardless',
    );
    const metrics = await app.call('GET', '/metrics');
    assert.match(String(metrics.json), /amphi_admission_degradation_level 3/);
    assert.match(String(metrics.json), /amphi_admission_join_decisions_total\{decision="tickets"\} 1/);
  });
});
