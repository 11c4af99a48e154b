import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { LineStore } from '../../src/admission/line-store.ts';
import { Admission } from '../../src/admission/plane.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { signer } from './rooms.ts';

/** A door for one listener at a time, one join per 20 s; `listening` names who the edge sees listening. */
function door(listening?: (spaceId: string, subject: string) => boolean) {
  const clock = new ManualClock(0);
  const admission = new Admission({
    config: { ...defaultConfig.admission, maxListeners: 1, joinsPerSecond: 0.05, joinBurst: 1 },
    clock,
    signer,
    log: pino({ level: 'silent' }),
    listeners: () => 0,
    ...(listening === undefined ? {} : { listening }),
  });
  return { clock, admission };
}

/** The refusal `fn` throws. */
function refusal(fn: () => unknown): AmphiError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AmphiError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

describe('Admission.readmit: renewals count against the listener cap', () => {
  test('a subject the edge sees listening renews freely, even at the cap; it takes no place', () => {
    const { admission } = door((_spaceId, subject) => subject === 'an_listening0');
    admission.capacity.noteAdmitted(); // the one place is taken
    for (let i = 0; i < 5; i++) admission.readmit('sp_1', 'an_listening0');
    assert.equal(admission.capacity.listeners, 1);
    assert.equal(admission.counts.readmitted, 0);
  });

  test('a subject not listening takes a place like a join; with none free it must join again through the door', () => {
    const { admission } = door(() => false);
    admission.readmit('sp_1', 'an_returning0');
    assert.equal(admission.capacity.listeners, 1, 'counted');
    assert.equal(admission.counts.readmitted, 1);
    const full = refusal(() => admission.readmit('sp_1', 'an_returning1'));
    assert.equal(full.code, 'LISTENER_TOKEN_INVALID');
    assert.deepEqual(full.details, { reason: 'full' });
  });

  test('without a listening signal (no edge in the process) nobody is known to listen: every renewal takes a place', () => {
    const { admission } = door();
    admission.readmit('sp_1', 'ac_someone000');
    assert.equal(refusal(() => admission.readmit('sp_1', 'ac_someone000')).code, 'LISTENER_TOKEN_INVALID');
    admission.capacity.setListeners(0); // the next measurement: the place is free again
    admission.readmit('sp_1', 'ac_someone000');
  });
});

describe('Admission.renewal: joins and renewals per address in a cluster', () => {
  test('each node allows its share of the per-address limit (4 of 10 here), so the cluster allows the configured rate', () => {
    const clock = new ManualClock(0);
    const make = (share?: () => number) =>
      new Admission({
        config: {
          ...defaultConfig.admission,
          limits: { ...defaultConfig.admission.limits, joinsPerAddress: { capacity: 10, refillPerSecond: 1 } },
        },
        clock,
        signer,
        log: pino({ level: 'silent' }),
        listeners: () => 0,
        ...(share === undefined ? {} : { share }),
      });
    const allowed = (admission: Admission) => {
      let n = 0;
      while (n < 100) {
        try {
          admission.renewal('192.0.2.1');
        } catch {
          break;
        }
        n++;
      }
      return n;
    };
    assert.equal(allowed(make()), 10, 'alone: the whole limit');
    assert.equal(allowed(make(() => 0.4)), 4, 'one of a cluster: its share');
  });
});

describe('Admission while the shared line is unreachable (cluster mode, Redis away)', () => {
  const away = () => Promise.reject(new Error('Connection is closed.'));
  const unreachable: LineStore = { issue: away, redeem: away, status: away, release: away, delete: away };

  test('joins go on at this node’s local capacity; past it, and for the line, 503 SHARED_STATE_UNAVAILABLE with Retry-After', async () => {
    const clock = new ManualClock(0);
    const admission = new Admission({
      config: { ...defaultConfig.admission, joinsPerSecond: 10, joinBurst: 4 },
      clock,
      signer,
      log: pino({ level: 'silent' }),
      listeners: () => 0,
      line: unreachable,
      share: () => 0.5,
    });
    const join = (ticket?: string) =>
      admission.decide({ spaceId: 'sp_1', subject: () => 'an_x', signedIn: false, address: '192.0.2.9', ticket, pow: undefined });
    for (let i = 0; i < 2; i++) assert.deepEqual(await join(), { kind: 'admit' }, 'the share of the burst: 4 x 0.5');
    const refused = await join().then(
      () => assert.fail('admitted past the local capacity'),
      (error: unknown) => error as AmphiError,
    );
    assert.equal(refused.code, 'SHARED_STATE_UNAVAILABLE');
    assert.deepEqual(refused.headers, { 'retry-after': '2' });
    assert.equal(admission.counts.admittedLocally, 2);
    // The line document needs the shared line too: the same honest answer.
    await assert.rejects(
      admission.line('sp_1'),
      (error: unknown) => error instanceof AmphiError && error.code === 'SHARED_STATE_UNAVAILABLE',
    );
  });
});
