import { Counter, type Registry } from 'prom-client';
import { scrapeGauge } from '../lib/metrics.ts';
import type { Admission } from './plane.ts';

/** The door's state (`amphi_admission_*`), read at scrape time: degradation level, capacity, lines, decisions, refusals. */
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
  scrapeGauge(
    registry,
    'amphi_admission_waiting',
    "People in line across this node's waiting rooms (numbers issued and not yet come up, as this node last heard its lines)",
    () => admission.rooms.heardLines().waiting,
  );
  scrapeGauge(
    registry,
    'amphi_admission_eta_seconds',
    "The longest ETA a newcomer would be told now: the longest line's (0 while nobody waits)",
    () => admission.rooms.heardLines().longestEtaSeconds,
  );
  scrapeGauge(
    registry,
    'amphi_admission_line_admissions_per_second',
    "The lines' measured admission rate, summed over this node's lines with people waiting (what the ETA divides by)",
    () => admission.rooms.heardLines().perSecond,
  );
  const refusals = admission.refusals;
  new Counter({
    name: 'amphi_admission_join_refusals_total',
    help: 'Joins and renewals the door refused, by reason (rate_limited, pow_required, pow_invalid, ticket_invalid, ticket_expired, ticket_reused, full, unavailable)',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, value] of Object.entries(refusals)) this.inc({ reason }, value);
    },
  });
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
