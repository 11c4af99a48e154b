import { strings } from '../strings.ts';

const t = strings.state;

export type SpaceState = 'live' | 'scheduled' | 'ended' | 'replay';

/**
 * A Space's state as a pill: Live (a red dot that pulses, still under reduced motion), Scheduled,
 * Ended, Replay. `label` replaces the words (a countdown, say) and keeps the look.
 */
export function StateBadge({ state, label }: { state: SpaceState; label?: string }) {
  return (
    <span class={`badge ${state}`}>
      {state === 'live' && <span class="live-dot" aria-hidden="true" />}
      {label ?? t[state]}
    </span>
  );
}
