import assert from 'node:assert/strict';
import { test } from 'node:test';
import { figures, floodTargets, summarize, type Mark, type Phases } from '../../bench/flood/figures.ts';
import type { JunkResult } from '../../bench/flood/junk.ts';
import type { SimResult } from '../../bench/listener-sim.ts';

const mark = (at: number, cpu: number, legit: number, parts: number, stalls: number): Mark => ({
  at,
  cpu,
  legit,
  refused: 0,
  gen: { user: at * 100, system: 0 }, // the generator at 10% of its core
  progress: { elapsedS: at / 1000, active: 100, parts, stalls, errors: 0 },
});
const junk = (answered: number, errorCount = 0): JunkResult => ({
  sent: answered,
  answered,
  perSecondTarget: answered / 10,
  perSecondAchieved: answered / 10,
  skipped: 0,
  byStatus: { 401: answered },
  byKind: {},
  errors: errorCount === 0 ? {} : { http_500: errorCount },
  errorCount,
});
const listened = (parts: number, stalls: number): SimResult => ({
  listeners: 100,
  started: 100,
  parts,
  requests: 2 * parts,
  bytes: 0,
  stalls,
  stallRate: stalls / (parts + stalls),
  stalledListeners: stalls,
  errors: {},
  partLatencyMs: { p50: 0, p95: 0, p99: 0, samples: 0 },
  timeline: [],
});

// Phase A: 10 s, 1000 legitimate requests, 0.6 s of server CPU of which 0.1 s idle: 500 us each.
// Phase B: 10 s, 0.7 s of CPU, 10 000 junk answers: (0.7 - 0.6) s / 10 000 = 10 us each, 2% of serving.
const phases: Phases = {
  idleShare: 0.01,
  a0: mark(0, 0, 0, 0, 0),
  a1: mark(10_000, 600_000, 1000, 500, 0),
  b1: mark(20_000, 1_300_000, 2000, 999, 1),
  junk: junk(10_000),
  listened: listened(999, 1),
  perKind: {},
  floorMicros: 25,
};

test('the cost of serving and of refusing a request, from the readings', () => {
  const f = figures(phases);
  assert.equal(f.legitPerSecond, 100);
  assert.equal(f.legitMicros, 500);
  assert.equal(f.junkMicros, 10);
  assert.equal(f.junkMicrosByRequests, 10);
  assert.equal(f.ratio, 0.02);
  assert.deepEqual(f.stallsA, { rate: 0, stalls: 0, parts: 500 });
  assert.deepEqual(f.stallsB, { rate: 0.002, stalls: 1, parts: 499 });
  assert.equal(f.genB, 1_000_000);
});

test('targets: stalls in phase B, junk cost, junk and listener errors', () => {
  const pass = (p: Phases) => Object.fromEntries(floodTargets(p, figures(p)).map((t) => [t.name, t.pass]));
  assert.deepEqual(pass(phases), { legitStallRatePhaseB: false, junkOverNodeFloor: true, junkErrors: true, legitErrors: true });
  const dear = { ...phases, b1: { ...phases.b1, cpu: 1_000_000 + 600_000 }, listened: listened(999, 0), junk: junk(10_000, 3) };
  // 0.4 s for 10 000 junk: 40 us, 1.6x the 25 us floor.
  assert.deepEqual(pass(dear), { legitStallRatePhaseB: true, junkOverNodeFloor: false, junkErrors: false, legitErrors: true });
});

test('the summary reports the phases and the floor next to serving', () => {
  const f = figures(phases);
  const s = summarize({ listeners: 100, factor: 10, seconds: 20 }, phases, f, floodTargets(phases, f));
  assert.equal(s.legitCpuMicrosPerRequest, 500);
  assert.equal(s.junkCostRatio, 0.02);
  assert.equal(s.nodeFloorRatio, 0.05);
  assert.equal(s.pass, false);
  assert.deepEqual(s.phaseA, {
    seconds: 10,
    legitRequests: 1000,
    legitRequestsPerSecond: 100,
    serverCpuShare: 0.06,
    generatorCpuShare: 0.1,
    stallRate: 0,
  });
});
