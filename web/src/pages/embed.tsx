import { useState } from 'preact/hooks';
import { Player } from '../components/player.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { WaitingCard } from '../components/waiting-card.tsx';
import { useSpaceListening } from '../use-space-listening.ts';
import { useReplay } from './replay.tsx';
import { strings } from '../strings.ts';

/**
 * The embeddable player (`/embed/:id`, the one page other sites may frame; oEmbed hands out its
 * iframe): the title linking to Amphi, the host, the state, and Play (live, through the door as
 * anywhere, the doors included) or the replay. In a frame on another site the visitor is anonymous.
 */
export function EmbedPage({ id }: { id: string }) {
  const [notice, setNotice] = useState('');
  const { space, room, error, listening } = useSpaceListening(id, setNotice);
  if (space === undefined || room === undefined) return <p class="loading">{error === '' ? strings.common.loading : error}</p>;
  const ended = room.status === 'ended';
  const page = `${location.origin}/${ended ? 'r' : 's'}/${space.id}`;
  return (
    <section class="embed">
      <p class="embed-title">
        <a href={page} target="_blank" rel="noopener">
          {room.title}
        </a>{' '}
        · @{space.host.handle}
      </p>
      <p class="status" aria-live="polite">
        {room.status === 'live' && <StateBadge state="live" />}
        {room.status === 'scheduled' && <StateBadge state="scheduled" label={strings.state.notStarted} />}
        {ended && <StateBadge state={room.replay.available ? 'replay' : 'ended'} />}{' '}
        {!ended && <span class="listeners">{strings.header.listening(room.listenerCount, room.status)}</span>}
      </p>
      {ended ? (
        room.replay.available && <EmbeddedReplay id={id} />
      ) : (
        <Player listening={listening} canPlay roomStatus={room.status} shareUrl={page} report={setNotice} spaceId={space.id} />
      )}
      {listening.door !== undefined && <WaitingCard door={listening.door} />}
      {listening.atDoors && <p role="status">{strings.embed.youAreIn(space.host.handle)}</p>}
      {notice !== '' && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
    </section>
  );
}

function EmbeddedReplay({ id }: { id: string }) {
  const { audio, error } = useReplay(id);
  return (
    <>
      <audio ref={audio} controls aria-label={strings.replay.title} />
      {error !== '' && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </>
  );
}
