import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Admission, type JoinAttempt, type LoadSignals } from '../../src/admission/plane.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { Config } from '../../src/config/schema.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { settle } from '../helpers/settle.ts';
import { signer } from './rooms.ts';

type AdmissionConfig = Config['admission'];

/** The default admission config with a small door: `joinBurst` at once, then 1 join/s. */
function config(overrides: Partial<AdmissionConfig> = {}): AdmissionConfig {
  return { ...defaultConfig.admission, joinBurst: 1, joinsPerSecond: 1, ...overrides };
}

/** A load source the test sets, counting how often it is read and closed. */
function fakeLoad(eventLoopDelayMs = 0, cpuShare = 0) {
  const load = {
    samples: 0,
    closes: 0,
    value: { eventLoopDelayMs, cpuShare },
    sample() {
      load.samples++;
      return load.value;
    },
    close() {
      load.closes++;
    },
  };
  return load satisfies LoadSignals;
}

function makeAdmission(options: { config?: AdmissionConfig; load?: LoadSignals; listeners?: () => number } = {}) {
  const clock = new ManualClock(0);
  const admission = new Admission({
    config: options.config ?? config(),
    clock,
    signer,
    log: pino({ level: 'silent' }),
    listeners: options.listeners ?? (() => 0),
    ...(options.load === undefined ? {} : { load: options.load }),
  });
  return { clock, admission };
}

const attempt = (subject: string, more: Partial<JoinAttempt> = {}): JoinAttempt => ({
  spaceId: 'sp_1',
  subject: () => subject,
  signedIn: false,
  address: '192.0.2.1',
  ...more,
});

/** Runs `fn`, which must throw an AmphiError, and returns it. */
function amphiError(fn: () => unknown): AmphiError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AmphiError, String(error));
    return error;
  }
  assert.fail('expected an AmphiError');
}

/** Moves the clock a second at a time, letting the sampling schedule re-arm after each run. */
async function seconds(clock: ManualClock, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    clock.advance(1000);
    await settle();
  }
}

async function rejection(p: Promise<unknown>): Promise<AmphiError> {
  const error = await p.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AmphiError, String(error));
  return error;
}

describe('Admission.decide', () => {
  test('admits within capacity, queues past it, and admits the ticket once its number comes up', async () => {
    const { clock, admission } = makeAdmission();
    assert.deepEqual(await admission.decide(attempt('an_a')), { kind: 'admit' });
    const queued = await admission.decide(attempt('an_b'));
    assert.equal(queued.kind, 'wait');
    assert.ok(queued.kind === 'wait');
    assert.equal(queued.ticket.number, 1);

    const early = await admission.decide(attempt('an_b', { ticket: queued.ticket.ticket }));
    assert.ok(early.kind === 'wait', 'too early: the line again, not an error');
    assert.equal(early.ticket.ticket, queued.ticket.ticket);
    assert.equal(early.ticket.number, 1, 'the same number it holds');
    assert.equal(early.ticket.position, 1);
    assert.equal(early.ticket.nowServing, 0);
    assert.equal(early.perSecond, (await admission.line('sp_1')).perSecond);

    clock.advance(1000);
    // Admitted from the line: how long it waited goes to the host's analytics (to the second of the ticket's expiry).
    assert.deepEqual(await admission.decide(attempt('an_b', { ticket: queued.ticket.ticket })), {
      kind: 'admit',
      waitedMs: 1000,
    });
    assert.deepEqual(admission.counts, {
      attempts: 4,
      admitted: 2,
      tickets: 1,
      exchanged: 1,
      challenges: 0,
      readmitted: 0,
      admittedLocally: 0,
    });
    // The same ticket again from its own subject (its first answer lost): let in again, not counted again.
    assert.equal((await admission.decide(attempt('an_b', { ticket: queued.ticket.ticket }))).kind, 'admit');
    assert.equal(admission.counts.admitted, 2, 'one admission');
    assert.equal(admission.counts.exchanged, 1);
  });

  test('a waiting ticket further back is told its own number while the line moves', async () => {
    const { clock, admission } = makeAdmission({ config: config({ joinsPerSecond: 10 }) });
    await admission.decide(attempt('an_first'));
    const tickets = [];
    for (let i = 0; i < 5; i++) tickets.push(await admission.decide(attempt(`an_${i}`)));
    clock.advance(200);
    const last = tickets[4]!;
    assert.ok(last.kind === 'wait');
    const again = await admission.decide(attempt('an_4', { ticket: last.ticket.ticket }));
    assert.ok(again.kind === 'wait');
    assert.deepEqual(
      { number: again.ticket.number, position: again.ticket.position, nowServing: again.ticket.nowServing },
      { number: 5, position: 3, nowServing: 2 },
    );
  });

  test('challenges are counted when the attempt rate calls for proof of work', async () => {
    const pow = { ...defaultConfig.admission.pow, thresholdJoinsPerSecond: 1, minBits: 4, maxBits: 4 };
    const { clock, admission } = makeAdmission({ config: config({ joinBurst: 1000, pow }) });
    for (let i = 0; i < 5; i++) await admission.decide(attempt(`ac_${i}`, { signedIn: true }));
    clock.advance(300);
    const required = await rejection(admission.decide(attempt('an_x')));
    assert.equal(required.code, 'POW_REQUIRED');
    assert.equal((required.details as { difficultyBits: number }).difficultyBits, 4);
    assert.equal(admission.counts.challenges, 1);
    assert.equal(admission.counts.admitted, 5);
  });
});

describe('Admission.renewal', () => {
  test('renewals are paced per address and say when to retry', () => {
    const limits = { ...defaultConfig.admission.limits, joinsPerAddress: { capacity: 2, refillPerSecond: 0.5 } };
    const { clock, admission } = makeAdmission({ config: config({ limits }) });
    admission.renewal('192.0.2.1');
    admission.renewal('192.0.2.1');
    const limited = amphiError(() => admission.renewal('192.0.2.1'));
    assert.equal(limited.code, 'RATE_LIMITED');
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.headers, { 'retry-after': '2' });
    admission.renewal('198.51.100.7'); // another address has its own bucket
    clock.advance(2000);
    admission.renewal('192.0.2.1');
  });
});

describe('Admission load sampling', () => {
  test('once started, load is sampled once a second into capacity, however often start is called', async () => {
    const load = fakeLoad(0, 0.95);
    const { clock, admission } = makeAdmission({ load, listeners: () => 7 });
    await seconds(clock, 5);
    assert.equal(load.samples, 0, 'nothing is sampled before start');
    admission.start();
    admission.start();
    await seconds(clock, 1);
    assert.equal(load.samples, 1);
    assert.equal(admission.capacity.signals.cpuShare, 0.95);
    assert.equal(admission.capacity.level, 2);
    assert.equal(admission.capacity.listeners, 7);
    await seconds(clock, 2);
    assert.equal(load.samples, 3);
    admission.close();
  });

  test('close stops sampling and closes the load source; a closed door does not start again', async () => {
    const load = fakeLoad();
    const { clock, admission } = makeAdmission({ load });
    admission.start();
    await seconds(clock, 1);
    admission.close();
    assert.equal(load.closes, 1);
    await seconds(clock, 5);
    assert.equal(load.samples, 1);
    admission.start();
    await seconds(clock, 5);
    assert.equal(load.samples, 1);
  });

  test('close before start is harmless, and the door stays closed', async () => {
    const load = fakeLoad();
    const { clock, admission } = makeAdmission({ load });
    admission.close();
    assert.equal(load.closes, 0, 'the load source was never opened by sampling');
    admission.start();
    await seconds(clock, 3);
    assert.equal(load.samples, 0);
  });

  test('sample() reads the given load source, or an idle one when there is none', () => {
    const load = fakeLoad(300, 0);
    const withLoad = makeAdmission({ load, listeners: () => 3 });
    withLoad.admission.sample();
    assert.equal(load.samples, 1);
    assert.equal(withLoad.admission.capacity.signals.eventLoopDelayP99Ms, 300);
    assert.equal(withLoad.admission.capacity.listeners, 3);
    withLoad.admission.start();
    withLoad.admission.sample();
    assert.equal(load.samples, 2, 'the same source once started');
    withLoad.admission.close();

    const idle = makeAdmission({ listeners: () => 4 });
    idle.admission.capacity.observeCpuShare(0.99);
    idle.admission.sample();
    assert.deepEqual(idle.admission.capacity.signals, { eventLoopDelayP99Ms: 0, cpuShare: 0, queueDepth: 0 });
    assert.equal(idle.admission.capacity.listeners, 4);
  });
});
