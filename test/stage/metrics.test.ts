import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { PlainHistogram } from '../../src/lib/metrics.ts';
import { stageMetrics } from '../../src/stage/metrics.ts';
import type { StagePlane } from '../../src/stage/plane.ts';
import { ENCODE_BOUNDS_SECONDS, TICK_LAG_BOUNDS_SECONDS, type StageRoom } from '../../src/stage/room.ts';

/** A room as the metrics see it: its timings, and its program's end. */
function fakeRoom() {
  let ended = () => {};
  const timings = { tickLag: new PlainHistogram(TICK_LAG_BOUNDS_SECONDS), encode: new PlainHistogram(ENCODE_BOUNDS_SECONDS) };
  const room = { timings, program: { on: (_event: 'end', fn: () => void) => (ended = fn) } } as unknown as StageRoom;
  return { room, timings, end: () => ended() };
}

function fakeStage(dropped: Map<string, number>) {
  const opened: ((room: StageRoom) => void)[] = [];
  const stage = {
    sessionCount: 2,
    droppedCandidates: dropped,
    events: { on: (_event: 'room', fn: (room: StageRoom) => void) => opened.push(fn) },
  } as unknown as StagePlane;
  return { stage, open: (room: StageRoom) => opened.forEach((fn) => fn(room)) };
}

test('the stage exports its sessions and the candidates it refused, by reason, at scrape time', async () => {
  const dropped = new Map([['loopback', 3]]);
  const registry = new Registry();
  stageMetrics(registry, fakeStage(dropped).stage);
  dropped.set('port', 1);
  const text = await registry.metrics();
  assert.match(text, /^amphi_stage_sessions 2$/m);
  assert.match(text, /^amphi_stage_candidates_dropped_total\{reason="loopback"\} 3$/m);
  assert.match(text, /^amphi_stage_candidates_dropped_total\{reason="port"\} 1$/m);
});

test('rooms open now, and tick lag and encode time summed over rooms, closed ones kept', async () => {
  const registry = new Registry();
  const { stage, open } = fakeStage(new Map());
  stageMetrics(registry, stage);
  const a = fakeRoom();
  const b = fakeRoom();
  open(a.room);
  open(b.room);
  a.timings.tickLag.observe(0.0005);
  b.timings.tickLag.observe(0.03);
  a.timings.encode.observe(0.00004);
  const line = (text: string, prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));
  let text = await registry.metrics();
  assert.equal(line(text, 'amphi_stage_rooms '), 'amphi_stage_rooms 2');
  assert.equal(
    line(text, 'amphi_stage_tick_lag_seconds_bucket{le="0.001"}'),
    'amphi_stage_tick_lag_seconds_bucket{le="0.001"} 1',
  );
  assert.equal(line(text, 'amphi_stage_tick_lag_seconds_bucket{le="0.04"}'), 'amphi_stage_tick_lag_seconds_bucket{le="0.04"} 2');
  assert.equal(line(text, 'amphi_stage_opus_encode_seconds_count'), 'amphi_stage_opus_encode_seconds_count 1');
  b.end();
  b.end(); // an end told twice counts once
  text = await registry.metrics();
  assert.equal(line(text, 'amphi_stage_rooms '), 'amphi_stage_rooms 1');
  assert.equal(
    line(text, 'amphi_stage_tick_lag_seconds_count'),
    'amphi_stage_tick_lag_seconds_count 2',
    'a closed room still counts',
  );
  assert.match(line(text, 'amphi_stage_tick_lag_seconds_sum')!, / 0\.0305/);
});
