import { Counter, type Registry } from 'prom-client';
import { histogramMetric, PlainHistogram, scrapeGauge } from '../lib/metrics.ts';
import type { StagePlane } from './plane.ts';
import { ENCODE_BOUNDS_SECONDS, TICK_LAG_BOUNDS_SECONDS, type StageRoom } from './room.ts';

/**
 * The stage's rooms, sessions, mixing and what it refused (`amphi_stage_*`), read at scrape time.
 * Rooms are followed through the plane's `room` event; a closed room's timings are kept in the totals,
 * so the histograms only grow.
 */
export function stageMetrics(registry: Registry, stage: StagePlane): void {
  const open = new Set<StageRoom>();
  const closed = { tickLag: new PlainHistogram(TICK_LAG_BOUNDS_SECONDS), encode: new PlainHistogram(ENCODE_BOUNDS_SECONDS) };
  stage.events.on('room', (room) => {
    open.add(room);
    room.program.on('end', () => {
      if (!open.delete(room)) return;
      closed.tickLag.add(room.timings.tickLag);
      closed.encode.add(room.timings.encode);
    });
  });
  scrapeGauge(registry, 'amphi_stage_rooms', 'Stage rooms open now (Spaces whose program runs on this node)', () => open.size);
  scrapeGauge(
    registry,
    'amphi_stage_sessions',
    'WHIP sessions open now (connected, connecting or in the green room)',
    () => stage.sessionCount,
  );
  histogramMetric(
    registry,
    'amphi_stage_tick_lag_seconds',
    'How late each 20 ms mixer tick ran after its place on the frame grid',
    TICK_LAG_BOUNDS_SECONDS,
    () => [closed.tickLag, ...[...open].map((r) => r.timings.tickLag)],
  );
  histogramMetric(
    registry,
    'amphi_stage_opus_encode_seconds',
    "Time to encode one 20 ms Opus frame (the program and each speaker's mix-minus)",
    ENCODE_BOUNDS_SECONDS,
    () => [closed.encode, ...[...open].map((r) => r.timings.encode)],
  );
  new Counter({
    name: 'amphi_stage_candidates_dropped_total',
    help: 'Remote ICE candidates the stage refused to check, by reason (stage.remoteCandidates)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of stage.droppedCandidates) this.inc({ reason }, count);
    },
  });
}
