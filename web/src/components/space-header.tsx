import type { RoomStateView } from '../../../src/shared/room-state.ts';
import type { Space } from '../api.ts';
import { strings } from '../strings.ts';
import { useNow } from '../use-now.ts';
import { Avatar } from './avatar.tsx';
import { DownloadLink } from './download-link.tsx';
import { StateBadge } from './state-badge.tsx';

const t = strings.header;

/** The Space's title, status, host and audience, the pinned link, and a word when the server is busy. */
export function SpaceHeader({ space, room, degradation }: { space: Space; room: RoomStateView; degradation: number }) {
  return (
    <header class={`space-hero state-${room.status}`}>
      <div class="status" aria-live="polite">
        {room.status === 'live' && <StateBadge state="live" />}
        {room.status === 'scheduled' && <StateBadge state="scheduled" />}
        {room.status === 'scheduled' && <Countdown scheduledStart={room.scheduledStart} />}
        {room.status === 'ended' && <StateBadge state="ended" />}
        {room.status === 'ended' && room.replay.available && <StateBadge state="replay" />}
        {room.recording && (
          <span class="badge rec" title={strings.state.recordingTitle}>
            {strings.state.recording}
          </span>
        )}
        <span class="listeners">{t.listening(room.listenerCount, room.status)}</span>
      </div>
      <h1>{room.title}</h1>
      <p class="host-line">
        <Avatar handle={space.host.handle} size="sm" />
        <a href={`/@${space.host.handle}`}>{t.hostedBy(space.host.handle)}</a>
      </p>
      {room.status === 'ended' && room.replay.available && (
        <p class="actions replay-links">
          <a class="button primary" href={`/r/${space.id}`}>
            {t.playReplay}
          </a>
          <DownloadLink id={space.id} />
        </p>
      )}
      {degradation > 0 && <p class="muted busy">{t.busy}</p>}
      {room.status === 'live' && room.endsAt !== null && (
        <p class="callout ending" role="status">
          {t.endsAt(new Date(room.endsAt).toLocaleTimeString())}
        </p>
      )}
      {room.pinnedLink !== null && (
        <p class="pinned">
          <span aria-hidden="true">📌 </span>
          <span class="sr-only">{t.pinned}: </span>
          <a href={room.pinnedLink} rel="noopener noreferrer" target="_blank">
            {room.pinnedLink}
          </a>
        </p>
      )}
    </header>
  );
}

/** A scheduled Space's start, counted down every second. */
function Countdown({ scheduledStart }: { scheduledStart: string | null }) {
  const now = useNow(1000);
  const startsIn = scheduledStart === null ? undefined : Math.max(0, Date.parse(scheduledStart) - now);
  const s = strings.state;
  return (
    <span class="countdown">
      {startsIn === undefined ? s.startingSoon : startsIn === 0 ? s.starting : s.startsIn(formatDuration(startsIn))}
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
