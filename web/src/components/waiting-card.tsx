import type { DoorState } from '../admission.ts';

/** A wait in words: seconds, then minutes. */
const formatEta = (seconds: number) =>
  seconds < 90 ? `${Math.max(1, Math.round(seconds))} s` : `${Math.round(seconds / 60)} min`;

/** Where the listener stands at the door: the browser's check, or their place in line and the wait. */
export function WaitingCard({ door }: { door: DoorState }) {
  return (
    <div role="status" class="card waiting" aria-live="polite">
      <h2>{door.kind === 'proving' ? 'Checking the door…' : 'You are in line'}</h2>
      {door.kind === 'proving' ? (
        <p>A lot of people are joining at once; your browser is doing a short check before you are let in.</p>
      ) : (
        <p>
          The Space is very popular right now. People ahead of you: <strong>{door.position}</strong>, about{' '}
          <strong>{formatEta(door.etaSeconds)}</strong>. Keep this page open: you will be let in by yourself.
        </p>
      )}
    </div>
  );
}
