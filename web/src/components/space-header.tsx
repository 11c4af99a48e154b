import type { RoomStateView } from '../../../src/shared/room-state.ts';
import type { Space } from '../api.ts';
import { useNow } from '../use-now.ts';
import { DownloadLink } from './download-link.tsx';

/** The Space's title, status, host and audience, the pinned link, and a word when the server is busy. */
export function SpaceHeader({ space, room, degradation }: { space: Space; room: RoomStateView; degradation: number }) {
  return (
    <>
      <h1>{room.title}</h1>
      <p class="status" aria-live="polite">
        {room.status === 'live' && <span class="badge live">Live</span>}
        {room.recording && (
          <span class="badge rec" title="This Space is recorded: a replay will be available once it ends">
            ● Recording
          </span>
        )}
        {room.status === 'scheduled' && <Countdown scheduledStart={room.scheduledStart} />}
        {room.status === 'ended' && (
          <span class="badge">
            Ended
            {room.replay.available && (
              <>
                {' '}
                · <a href={`/r/${space.id}`}>Play the replay</a> · <DownloadLink id={space.id} />
              </>
            )}
          </span>
        )}{' '}
        hosted by @{space.host.handle} ·{' '}
        <span class="listeners">
          {room.listenerCount} {room.status === 'scheduled' ? 'waiting' : 'listening'}
        </span>
      </p>
      {degradation > 0 && <p class="muted busy">Very busy right now: reactions and the listener count follow a little later.</p>}
      {room.status === 'live' && room.endsAt !== null && (
        <p class="muted ending" role="status">
          The hosts have left the stage: this Space ends at {new Date(room.endsAt).toLocaleTimeString()} unless one of them comes
          back.
        </p>
      )}
      {room.pinnedLink !== null && (
        <p class="pinned">
          📌{' '}
          <a href={room.pinnedLink} rel="noopener noreferrer" target="_blank">
            {room.pinnedLink}
          </a>
        </p>
      )}
    </>
  );
}

/** A scheduled Space's start, counted down every second. */
function Countdown({ scheduledStart }: { scheduledStart: string | null }) {
  const now = useNow(1000);
  const startsIn = scheduledStart === null ? undefined : Math.max(0, Date.parse(scheduledStart) - now);
  return (
    <span class="badge">
      {startsIn === undefined ? 'Starting soon' : startsIn === 0 ? 'Starting…' : `Starts in ${formatDuration(startsIn)}`}
    </span>
  );
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  if (h >= 48) return `${Math.round(h / 24)} days`;
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}
