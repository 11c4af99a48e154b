import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { comeUpAt, etaReport, summarizeCrowd, type CrowdRecord, type TicketOutcome } from '../../bench/joins/analysis.ts';

const ticket = (t: Partial<TicketOutcome> & Pick<TicketOutcome, 'number'>): TicketOutcome => ({
  eta: 10,
  issuedAt: 0,
  seenAt: undefined,
  state: 'done',
  ...t,
});

describe('crowd analysis', () => {
  test('comeUpAt interpolates between the line answers around a number', () => {
    const samples = [
      { t: 1000, s: 0 },
      { t: 2000, s: 10 },
      { t: 3000, s: 10 },
      { t: 4000, s: 30 },
    ];
    assert.equal(comeUpAt(samples, 5), 1500);
    assert.equal(comeUpAt(samples, 10), 2000); // the first answer showing it
    assert.equal(comeUpAt(samples, 20), 3500);
    assert.equal(comeUpAt(samples, 0), 1000);
    assert.equal(comeUpAt(samples, 31), undefined); // never reached
  });

  test('ETA error: |wait - eta| / max(eta, 1 s), as the client saw it and at the server come-up', () => {
    const r = etaReport(
      [
        // Waited 12 s for an ETA of 10: 20%; the line reached 10 at 11 s: 10%.
        ticket({ number: 10, eta: 10, issuedAt: 0, seenAt: 12_000 }),
        // Waited 1.5 s for 0.5 s, over the 1 s floor: 100%; the line reached 20 after 1 s: 50%.
        ticket({ number: 20, eta: 0.5, issuedAt: 11_000, seenAt: 12_500 }),
      ],
      [
        { t: 0, s: 0 },
        { t: 11_000, s: 10 },
        { t: 12_000, s: 20 },
      ],
      20_000,
    );
    assert.equal(r.etaErrorPct.samples, 2);
    assert.equal(r.etaErrorPct.max, 100);
    assert.equal(r.etaErrorPct.p50, 100); // nearest rank, rounded down: index 1 of [20, 100]
    assert.equal(r.etaErrorPct.censored, 0);
    assert.deepEqual(r.etaErrorPctAtComeUp, { p50: 50, p95: 50, max: 50, samples: 2 });
    assert.deepEqual(r.waitSeconds, { p50: 12, p95: 12, max: 12, samples: 2 });
  });

  test('tickets still waiting: overdue ones count their error so far, the others are censored', () => {
    const r = etaReport(
      [
        ticket({ number: 1, eta: 5, issuedAt: 0, state: 'waiting' }), // 10 s so far for 5: 100%
        ticket({ number: 2, eta: 30, issuedAt: 0, state: 'waiting' }), // not due yet: censored
        ticket({ number: 3, eta: 5, issuedAt: 0, state: 'failed' }), // failed: neither
      ],
      [],
      10_000,
    );
    assert.equal(r.etaErrorPct.samples, 1);
    assert.equal(r.etaErrorPct.max, 100);
    assert.equal(r.etaErrorPct.censored, 1);
    assert.equal(r.waitSeconds.samples, 0);
    assert.equal(r.etaSeconds.samples, 3);
  });

  test('errors by ETA: under 5 s, 5 to 30 s, 30 s and over', () => {
    const r = etaReport(
      [
        ticket({ number: 1, eta: 4, seenAt: 6_000 }), // 50%
        ticket({ number: 2, eta: 5, seenAt: 6_000 }), // 20%
        ticket({ number: 3, eta: 30, seenAt: 33_000 }), // 10%
      ],
      [],
      40_000,
    );
    assert.equal(r.etaErrorPctByEta.under5s.max, 50);
    assert.equal(r.etaErrorPctByEta.from5to30s.max, 20);
    assert.equal(r.etaErrorPctByEta.over30s.max, 10);
    assert.deepEqual(r.waitSeconds, { p50: 6, p95: 33, max: 33, samples: 3 });
  });

  test('the summary: rates, FIFO total, waiting tickets, drain and elapsed times', () => {
    const record: CrowdRecord = {
      linePoll: 'cdn',
      attemptsPerSecond: 100,
      seconds: 2,
      t0: 10_000,
      launchedAt: 11_990, // launched within the crowd's 2 s
      drainedAt: undefined,
      end: 15_049,
      attempts: 190,
      maxLagMs: 12.4,
      tokens: 20,
      exchanged: 1,
      tickets: [
        ticket({ number: 1, seenAt: 10_500 }),
        ticket({ number: 2, state: 'waiting' }),
        ticket({ number: 3, state: 'failed' }),
      ],
      errors: { join_http_503: 2, timeout: 1 },
      fifo: { numberOrder: 1, lineJump: 2, servingRegressed: 3, notYetAfterComeUp: 4, comeUpOrder: 5 },
      samples: [],
      joinLatency: [3, 1, 2],
      exchangeLatency: [],
      linePolls: 7,
      lineFetches: 3,
      timeline: [],
    };
    const r = summarizeCrowd(record);
    assert.equal(r.attemptsPerSecondAchieved, 95); // over the crowd's 2 s, not the shorter launch window
    assert.equal(r.maxLaunchLagMs, 12);
    assert.equal(r.ticketsIssued, 3);
    assert.equal(r.waitingAtEnd, 1);
    assert.equal(r.errorCount, 3);
    assert.equal(r.fifoViolations, 15);
    assert.deepEqual(r.joinLatencyMs, { p50: 2, p95: 3, max: 3, samples: 3 });
    assert.equal(r.drainedAtS, undefined);
    assert.equal(r.elapsedS, 5);
    assert.equal(summarizeCrowd({ ...record, drainedAt: 13_260 }).drainedAtS, 3.3);
    // The rate is over the crowd's seconds, however late the last launch went.
    assert.equal(summarizeCrowd({ ...record, launchedAt: 14_000 }).attemptsPerSecondAchieved, 95);
  });
});
