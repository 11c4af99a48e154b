import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { stageMetrics } from '../../src/stage/metrics.ts';
import type { StagePlane } from '../../src/stage/plane.ts';

test('the stage exports its sessions and the candidates it refused, by reason, at scrape time', async () => {
  const dropped = new Map([['loopback', 3]]);
  const stage = { sessionCount: 2, droppedCandidates: dropped } as unknown as StagePlane;
  const registry = new Registry();
  stageMetrics(registry, stage);
  dropped.set('port', 1);
  const text = await registry.metrics();
  assert.match(text, /^amphi_stage_sessions 2$/m);
  assert.match(text, /^amphi_stage_candidates_dropped_total\{reason="loopback"\} 3$/m);
  assert.match(text, /^amphi_stage_candidates_dropped_total\{reason="port"\} 1$/m);
});
