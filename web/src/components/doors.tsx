import { useRef } from 'preact/hooks';
import type { RoomStateView } from '../../../src/shared/room-state.ts';
import { useNow } from '../use-now.ts';
import { strings } from '../strings.ts';

/** A time as the listener reads it (their locale and zone): the time of day, with the date when not today. */
function timeOf(iso: string): string {
  const at = new Date(iso);
  const time = { hour: '2-digit', minute: '2-digit' } as const;
  if (at.toDateString() === new Date().toDateString()) return at.toLocaleTimeString([], time);
  return at.toLocaleString([], { ...time, year: 'numeric', month: 'short', day: 'numeric' });
}

const t = strings.doors;

interface DoorsProps {
  readonly host: string;
  readonly room: RoomStateView;
  /** The listener is in, waiting: the player starts by itself at go-live. */
  readonly atDoors: boolean;
}

/**
 * Before the start, what is happening backstage, honestly: when it starts (a revised time says so,
 * a passed one says the show runs late), whether the host is connected and their microphone heard
 * (where the server knows), and how many wait. What X's audience lacked for 42 minutes.
 */
export function Doors({ host, room, atDoors }: DoorsProps) {
  const now = useNow(1000);
  /** The start as first shown on this page: a later one is a revision, and says from what. */
  const first = useRef(room.scheduledStart);
  const start = room.scheduledStart;
  const moved = first.current !== null && start !== null && first.current !== start;
  const late = start !== null && Date.parse(start) <= now;
  const backstage = room.backstage;
  return (
    <section class="card doors" aria-label={t.region}>
      <h2>{t.title}</h2>
      <ul class="backstage" aria-live="polite">
        <li class="start">
          {start === null
            ? t.noStart
            : late
              ? t.late(timeOf(start))
              : t.startsAt(timeOf(start), moved && first.current !== null ? timeOf(first.current) : undefined)}
        </li>
        {backstage !== null && <li class="host">{backstage.hostConnected ? t.hostBackstage(host) : t.hostNotArrived(host)}</li>}
        {backstage?.hostConnected === true && <li class="mic">{backstage.micChecked ? t.micChecked : t.micChecking}</li>}
        <li class="waiting-count">{t.waiting(room.listenerCount)}</li>
      </ul>
      {atDoors && (
        <p role="status" class="in">
          {t.youAreIn(host)}
        </p>
      )}
    </section>
  );
}
