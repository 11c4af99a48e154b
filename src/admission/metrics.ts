import { Counter, type Registry } from 'prom-client';
import { scrapeGauge } from '../lib/metrics.ts';
import type { Admission } from './plane.ts';

/** The door's state (`amphi_admission_*`), read at scrape time: degradation level, capacity, decisions. */
export function admissionMetrics(registry: Registry, admission: Admission): void {
  scrapeGauge(
    registry,
    'amphi_admission_degradation_level',
    'Shedding level: 0 = none; higher sheds reactions, room state, then joins',
    () => admission.shedder.level,
  );
  scrapeGauge(
    registry,
    'amphi_admission_capacity_factor',
    'Share of configured join capacity in effect (AIMD on load signals)',
    () => admission.capacity.factor,
  );
  scrapeGauge(
    registry,
    'amphi_admission_joins_per_second',
    'Effective join capacity, joins per second',
    () => admission.capacity.joinsPerSecond,
  );
  scrapeGauge(
    registry,
    'amphi_admission_listeners',
    'Listeners served now, as admission counts them',
    () => admission.capacity.listeners,
  );
  scrapeGauge(
    registry,
    'amphi_admission_waiting_rooms',
    'Spaces with a waiting room on this node (a line opens when joins outrun capacity)',
    () => admission.rooms.size,
  );
  const counts = admission.counts;
  new Counter({
    name: 'amphi_admission_join_decisions_total',
    help: 'Join attempts and what the door did with them (attempts, admitted, tickets, exchanged, challenges; readmitted: renewals by subjects not listening, counted against the cap)',
    labelNames: ['decision'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [decision, value] of Object.entries(counts)) this.inc({ decision }, value);
    },
  });
}
