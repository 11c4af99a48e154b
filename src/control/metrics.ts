import { Counter, type Registry } from 'prom-client';
import type { ControlBus } from './events.ts';

/** The control plane's own series (`amphi_control_*`), registered in the process's registry. */
export class ControlMetrics {
  readonly tokensIssued: Counter<'kind'>;
  readonly spaceTransitions: Counter<'state'>;

  constructor(registry: Registry) {
    this.tokensIssued = new Counter({
      name: 'amphi_control_tokens_issued_total',
      help: 'Signed credentials issued, by kind (listener, stage)',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
    this.spaceTransitions = new Counter({
      name: 'amphi_control_space_transitions_total',
      help: 'Space lifecycle transitions, by new state',
      labelNames: ['state'] as const,
      registers: [registry],
    });
  }

  /** Counts the lifecycle transitions announced on the bus. */
  watch(bus: ControlBus): void {
    bus.on('space.started', () => this.spaceTransitions.inc({ state: 'live' }));
    bus.on('space.ended', () => this.spaceTransitions.inc({ state: 'ended' }));
  }
}
