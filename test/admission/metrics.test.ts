import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { LineStore } from '../../src/admission/line-store.ts';
import { admissionMetrics } from '../../src/admission/metrics.ts';
import { Admission, type JoinAttempt } from '../../src/admission/plane.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { Config } from '../../src/config/schema.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { signer } from './rooms.ts';

type AdmissionConfig = Config['admission'];

/** A small door: one join at once, then one a second; the given overrides on top. */
function door(overrides: Partial<AdmissionConfig> = {}, line?: LineStore) {
  const clock = new ManualClock(0);
  const admission = new Admission({
    config: { ...defaultConfig.admission, joinBurst: 1, joinsPerSecond: 1, ...overrides },
    clock,
    signer,
    log: pino({ level: 'silent' }),
    listeners: () => 0,
    ...(line === undefined ? {} : { line }),
  });
  const registry = new Registry();
  admissionMetrics(registry, admission);
  return { clock, admission, registry };
}

const attempt = (subject: string, more: Partial<JoinAttempt> = {}): JoinAttempt => ({
  spaceId: 'sp_1',
  subject: () => subject,
  signedIn: false,
  address: '192.0.2.1',
  ...more,
});

/** One series' value as scraped (0 when the series is absent). */
async function scraped(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  assert.ok(metric !== undefined, `${name} is registered`);
  const series = metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return series?.value ?? 0;
}

async function refusal(p: Promise<unknown>): Promise<AmphiError> {
  const error = await p.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AmphiError, String(error));
  return error;
}

const refusals = (registry: Registry, reason: string) => scraped(registry, 'amphi_admission_join_refusals_total', { reason });

describe('amphi_admission_join_refusals_total', () => {
  test('counts each refusal of the door by reason, and only refusals', async () => {
    const limits = { ...defaultConfig.admission.limits, joinsPerAddress: { capacity: 7, refillPerSecond: 0.001 } };
    const { clock, admission, registry } = door({ limits, ticketMaxWaitMs: 60_000 });
    assert.deepEqual(await admission.decide(attempt('an_a')), { kind: 'admit' });
    const queued = await admission.decide(attempt('an_b'));
    assert.ok(queued.kind === 'wait');
    // Too early: the line again, not a refusal.
    assert.equal((await admission.decide(attempt('an_b', { ticket: queued.ticket.ticket }))).kind, 'wait');
    assert.equal((await refusal(admission.decide(attempt('an_c', { ticket: 'forged.ticket' })))).code, 'TICKET_INVALID');
    const other = await refusal(admission.decide(attempt('an_c', { ticket: queued.ticket.ticket })));
    assert.deepEqual(other.details, { reason: 'wrong_subject' });
    clock.advance(1000);
    assert.equal((await admission.decide(attempt('an_b', { ticket: queued.ticket.ticket }))).kind, 'admit');
    assert.equal(
      (await admission.decide(attempt('an_b', { ticket: queued.ticket.ticket }))).kind,
      'admit',
      'its retry: no refusal',
    );
    // The eighth attempt from this address is over its joinsPerAddress.
    assert.equal((await refusal(admission.decide(attempt('an_d')))).code, 'RATE_LIMITED');
    assert.equal(await refusals(registry, 'ticket_invalid'), 2, 'forged and someone else’s');
    assert.equal(await refusals(registry, 'rate_limited'), 1);

    await admission.decide(attempt('an_e', { address: '198.51.100.7' })); // the second's one join
    const later = await admission.decide(attempt('an_f', { address: '198.51.100.7' }));
    assert.ok(later.kind === 'wait');
    clock.advance(61_000); // past the ticket's signed lifetime
    const expired = await refusal(admission.decide(attempt('an_f', { address: '198.51.100.7', ticket: later.ticket.ticket })));
    assert.deepEqual(expired.details, { reason: 'expired' });
    assert.equal(await refusals(registry, 'ticket_expired'), 1);
    assert.equal(await refusals(registry, 'pow_required'), 0);
    assert.equal(admission.counts.attempts, 11, 'every attempt, refused or not, is still an attempt');
  });

  test('counts challenges sent and solutions refused', async () => {
    const pow = { ...defaultConfig.admission.pow, thresholdJoinsPerSecond: 1, minBits: 4, maxBits: 4 };
    const { clock, admission, registry } = door({ joinBurst: 1000, pow });
    for (let i = 0; i < 5; i++) await admission.decide(attempt(`ac_${i}`, { signedIn: true }));
    clock.advance(300);
    assert.equal((await refusal(admission.decide(attempt('an_x')))).code, 'POW_REQUIRED');
    assert.equal((await refusal(admission.decide(attempt('an_y')))).code, 'POW_REQUIRED');
    const wrong = await refusal(admission.decide(attempt('an_x', { pow: { challenge: 'not.a-challenge', solution: '0' } })));
    assert.equal(wrong.code, 'POW_INVALID');
    assert.equal(await refusals(registry, 'pow_required'), 2);
    assert.equal(await refusals(registry, 'pow_invalid'), 1);
  });

  test('counts renewals paced per address and readmissions past maxListeners', async () => {
    const limits = { ...defaultConfig.admission.limits, joinsPerAddress: { capacity: 1, refillPerSecond: 0.001 } };
    const { admission, registry } = door({ limits, maxListeners: 1 });
    admission.readmit('sp_1', 'an_a'); // takes the one place
    assert.throws(() => admission.readmit('sp_1', 'an_b'), { code: 'LISTENER_TOKEN_INVALID' });
    admission.renewal('192.0.2.1');
    assert.throws(() => admission.renewal('192.0.2.1'), { code: 'RATE_LIMITED' });
    assert.equal(await refusals(registry, 'full'), 1);
    assert.equal(await refusals(registry, 'rate_limited'), 1);
  });

  test('counts joins refused while the shared line is unreachable', async () => {
    const away = () => Promise.reject(new Error('ECONNREFUSED'));
    const line: LineStore = { issue: away, redeem: away, status: away, release: away, delete: away };
    const { admission, registry } = door({}, line);
    assert.deepEqual(await admission.decide(attempt('an_a')), { kind: 'admit' }, 'its own share, admitted locally');
    assert.equal((await refusal(admission.decide(attempt('an_b')))).code, 'SHARED_STATE_UNAVAILABLE');
    assert.equal(await refusals(registry, 'unavailable'), 1);
  });
});

describe('amphi_admission_waiting and amphi_admission_eta_seconds', () => {
  test('read the line as it forms and moves: people waiting, the ETA a newcomer is told, the rate', async () => {
    const { clock, admission, registry } = door({ joinsPerSecond: 2 });
    assert.equal(await scraped(registry, 'amphi_admission_waiting'), 0);
    assert.equal(await scraped(registry, 'amphi_admission_eta_seconds'), 0);
    await admission.decide(attempt('an_first'));
    for (let i = 0; i < 4; i++) assert.equal((await admission.decide(attempt(`an_${i}`))).kind, 'wait');
    assert.equal(await scraped(registry, 'amphi_admission_waiting'), 4);
    const eta = await scraped(registry, 'amphi_admission_eta_seconds');
    const rate = await scraped(registry, 'amphi_admission_line_admissions_per_second');
    assert.equal(rate, (await admission.line('sp_1')).perSecond);
    assert.ok(rate > 0);
    const newcomer = await admission.decide(attempt('an_new'));
    assert.ok(newcomer.kind === 'wait');
    assert.equal(eta, newcomer.ticket.etaSeconds, 'the ETA the next newcomer was told');
    assert.equal(newcomer.ticket.position, 5);

    // A second Space's shorter line: people add up, the ETA is the longest line's.
    await admission.decide(attempt('an_other', { spaceId: 'sp_2' }));
    assert.equal(await scraped(registry, 'amphi_admission_waiting'), 6);
    assert.equal(await scraped(registry, 'amphi_admission_eta_seconds'), eta + 1 / rate);

    // The lines move while nobody asks; the scrape reads them as the store would on its next step.
    clock.advance(1000);
    assert.equal(await scraped(registry, 'amphi_admission_waiting'), 3);
    assert.equal((await admission.rooms.room('sp_1').waiting()) + (await admission.rooms.room('sp_2').waiting()), 3);
    clock.advance(10_000);
    assert.equal(await scraped(registry, 'amphi_admission_waiting'), 0);
    assert.equal(await scraped(registry, 'amphi_admission_eta_seconds'), 0);
    assert.equal(await scraped(registry, 'amphi_admission_line_admissions_per_second'), 0);
  });
});
