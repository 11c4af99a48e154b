import { Counter, type Registry } from 'prom-client';
import { scrapeGauge } from '../lib/metrics.ts';
import type { StagePlane } from './plane.ts';

/** The stage's sessions and what it refused (`amphi_stage_*`), read at scrape time. */
export function stageMetrics(registry: Registry, stage: StagePlane): void {
  scrapeGauge(
    registry,
    'amphi_stage_sessions',
    'WHIP sessions open now (connected, connecting or in the green room)',
    () => stage.sessionCount,
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
