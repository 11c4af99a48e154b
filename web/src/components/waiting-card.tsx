import type { DoorState } from '../admission.ts';
import { strings } from '../strings.ts';

const t = strings.waiting;

/** A wait in words: seconds, then minutes. */
const formatEta = (seconds: number) =>
  seconds < 90 ? t.seconds(Math.max(1, Math.round(seconds))) : t.minutes(Math.round(seconds / 60));

/** Where the listener stands at the door: the browser's check, or their place in line and the wait. */
export function WaitingCard({ door }: { door: DoorState }) {
  return (
    <div role="status" class="card waiting" aria-live="polite">
      <h2>
        <span class="spinner" aria-hidden="true" />
        {door.kind === 'proving' ? t.proving : t.inLine}
      </h2>
      {door.kind === 'proving' ? (
        <p>{t.provingText}</p>
      ) : (
        <p>
          {t.popular}
          <strong>{door.position}</strong>
          {t.about}
          <strong>{formatEta(door.etaSeconds)}</strong>
          {t.keepOpen}
        </p>
      )}
    </div>
  );
}
