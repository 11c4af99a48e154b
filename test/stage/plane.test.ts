import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { Config } from '../../src/config/schema.ts';
import { ControlBus } from '../../src/control/events.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';
import { StagePlane, type Standing } from '../../src/stage/plane.ts';
import { rethrow } from '../helpers/events.ts';
import { handOffer, hostCandidate } from './offers.ts';

const SPACE = 'sp_plane0000000';

/**
 * The stage plane on a manual clock with a scripted control plane, answering with real werift
 * sessions on loopback: the offers are written by hand and never connect, which is what these tests
 * need (slots, the green room, the connect timeout, the candidate budget).
 */
function makeStage(stage: Partial<Config['stage']> = {}) {
  const clock = new ManualClock(Date.now());
  const signer = new TokenSigner([{ id: 'k', secret: 'plane-test-signing-key-0123456789abcdef' }]);
  const bus = new ControlBus(rethrow);
  const log = pino({ level: 'silent' });
  const control = { live: true, refuse: undefined as Standing | undefined };
  const plane = new StagePlane({
    config: { ...defaultConfig.stage, whipPostsPerAccount: { capacity: 100, refillPerSecond: 100 }, ...stage },
    clock,
    log,
    signer,
    authority: { standing: () => Promise.resolve(control.refuse ?? { ok: true, muted: false, live: control.live }) },
    bus,
    failures: new ListenerFailures(log),
  });
  const token = (accountId: string) => signer.sign({ t: 's', s: SPACE, u: accountId, r: 'host' }, clock.now() + 3_600_000);
  const publish = (accountId: string, offer = handOffer()) => plane.publish(SPACE, token(accountId), offer);
  const trickle = (accountId: string, sessionId: string, candidates: string[]) =>
    plane.trickle(SPACE, sessionId, token(accountId), candidates.map((c) => `a=${c}\r\n`).join(''));
  return { plane, clock, bus, control, publish, trickle };
}

async function refusal(promise: Promise<unknown>): Promise<AmphiError> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AmphiError, String(error));
  return error;
}

describe('StagePlane', () => {
  let stage: ReturnType<typeof makeStage> | undefined;
  const open = (config: Partial<Config['stage']> = {}) => (stage = makeStage(config));
  afterEach(() => stage?.plane.close());

  test('concurrent POSTs cannot take more than maxSessions slots', async () => {
    const { plane, publish } = open({ maxSessions: 2 });
    const results = await Promise.allSettled([publish('ac_a'), publish('ac_b'), publish('ac_c')]);
    const codes = results.map((r) => (r.status === 'fulfilled' ? 201 : (r.reason as AmphiError).code));
    assert.deepEqual(codes.filter((c) => c === 201).length, 2, codes.join(','));
    assert.deepEqual(
      codes.filter((c) => c !== 201),
      ['STAGE_BUSY'],
    );
    assert.equal(plane.sessionCount, 2);
  });

  test('a POST refused after its slot was reserved gives the slot back', async () => {
    const { plane, control, publish } = open({ maxSessions: 1 });
    control.refuse = { ok: false, code: 'SPEAKER_ONLY' };
    assert.equal((await refusal(publish('ac_a'))).code, 'SPEAKER_ONLY');
    assert.equal((await refusal(publish('ac_a', 'v=0\r\n'))).code, 'WHIP_SDP_INVALID');
    control.refuse = undefined;
    await publish('ac_a');
    assert.equal(plane.sessionCount, 1);
  });

  test('a session whose ICE never connects is closed after connectTimeoutMs, and its slot freed', async () => {
    const { plane, clock, publish } = open({ maxSessions: 1, connectTimeoutMs: 15_000 });
    await publish('ac_a'); // an offer without candidates: it can never connect
    assert.equal(plane.sessionCount, 1);
    assert.equal((await refusal(publish('ac_b'))).code, 'STAGE_BUSY');
    clock.advance(14_999);
    assert.equal(plane.sessionCount, 1);
    assert.equal(plane.room(SPACE)?.speakerCount, 1);
    clock.advance(1);
    assert.equal(plane.sessionCount, 0);
    assert.equal(plane.room(SPACE)?.speakerCount, 0);
    await publish('ac_b');
    assert.equal(plane.sessionCount, 1);
  });

  test('a host connecting before the Space is live waits in the green room: no room, no program until it starts', async () => {
    const { plane, bus, control, publish } = open();
    control.live = false;
    const rooms: string[] = [];
    plane.events.on('room', (room) => rooms.push(room.spaceId));
    await publish('ac_host');
    await publish('ac_cohost');
    assert.equal(plane.room(SPACE), undefined, 'no room (and so no recording) for a Space that has not started');
    assert.deepEqual(rooms, []);
    assert.equal(plane.sessionCount, 2);
    // The doors' status: both wait; neither connected (hand-written offers never do), nothing heard.
    assert.deepEqual(
      plane.backstage(SPACE).sort((a, b) => a.accountId.localeCompare(b.accountId)),
      [
        { accountId: 'ac_cohost', connected: false, heard: false },
        { accountId: 'ac_host', connected: false, heard: false },
      ],
    );
    assert.deepEqual(plane.backstage('sp_other000000'), [], "another Space's green room is its own");
    bus.emit('space.started', { spaceId: SPACE });
    assert.deepEqual(rooms, [SPACE]);
    assert.deepEqual(plane.room(SPACE)?.connected().sort(), ['ac_cohost', 'ac_host']);
    assert.deepEqual(plane.backstage(SPACE), [], 'on the mix now: nobody waits backstage');
  });

  test('waiting sessions are closed when their Space ends or their speaker is removed; a reconnect replaces', async () => {
    const { plane, bus, control, publish } = open();
    control.live = false;
    await publish('ac_host');
    await publish('ac_cohost');
    await publish('ac_cohost'); // a reconnect while waiting replaces the first
    assert.equal(plane.sessionCount, 2);
    bus.emit('member.removed', { spaceId: SPACE, accountId: 'ac_cohost' });
    assert.equal(plane.sessionCount, 1);
    bus.emit('space.ended', { spaceId: SPACE });
    assert.equal(plane.sessionCount, 0);
    assert.equal(plane.room(SPACE), undefined);
  });

  test('a live Space gets its room on the first POST (after a restart, the Space is already live)', async () => {
    const { plane, publish } = open();
    await publish('ac_host');
    assert.deepEqual(plane.room(SPACE)?.connected(), ['ac_host']);
    assert.equal(plane.sessionCount, 1);
  });

  test('trickle PATCHes are rate limited per session (429 with Retry-After)', async () => {
    const { clock, publish, trickle } = open({ patchesPerSession: { capacity: 2, refillPerSecond: 1 } });
    const { sessionId } = await publish('ac_a');
    await trickle('ac_a', sessionId, []);
    await trickle('ac_a', sessionId, []);
    const limited = await refusal(trickle('ac_a', sessionId, []));
    assert.equal(limited.code, 'RATE_LIMITED');
    assert.equal(limited.headers['retry-after'], '1');
    clock.advance(1000);
    await trickle('ac_a', sessionId, []);
    // Another session has its own bucket.
    const other = await publish('ac_b');
    await trickle('ac_b', other.sessionId, []);
  });

  test('remote candidates are capped per session over the offer and its PATCHes, and refused ones counted', async () => {
    const { plane, publish, trickle } = open({
      remoteCandidates: { ...defaultConfig.stage.remoteCandidates, maxPerSession: 3 },
    });
    // Loopback is allowed here ('auto': the stage is on 127.0.0.1); nothing listens on these ports.
    const offer = handOffer([
      hostCandidate('127.0.0.1', 40_001),
      hostCandidate('127.0.0.1', 40_002, 2),
      hostCandidate('224.0.0.1', 40_003, 3),
    ]);
    const { sessionId } = await publish('ac_a', offer);
    assert.deepEqual(Object.fromEntries(plane.droppedCandidates), { multicast: 1 });
    await trickle('ac_a', sessionId, [
      hostCandidate('127.0.0.1', 40_004, 4),
      hostCandidate('127.0.0.1', 40_005, 5),
      hostCandidate('127.0.0.1', 80, 6),
      hostCandidate('host.local', 40_007, 7),
    ]);
    assert.deepEqual(Object.fromEntries(plane.droppedCandidates), { multicast: 1, cap: 1, port: 1, hostname: 1 });
  });
});
