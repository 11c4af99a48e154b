import { useState } from 'preact/hooks';
import { Player } from '../components/player.tsx';
import { WaitingCard } from '../components/waiting-card.tsx';
import { useSpaceListening } from '../use-space-listening.ts';
import { useReplay } from './replay.tsx';

/**
 * The embeddable player (`/embed/:id`, the one page other sites may frame; oEmbed hands out its
 * iframe): the title linking to Amphi, the host, the state, and Play (live, through the door as
 * anywhere, the doors included) or the replay. In a frame on another site the visitor is anonymous.
 */
export function EmbedPage({ id }: { id: string }) {
  const [notice, setNotice] = useState('');
  const { space, room, error, listening } = useSpaceListening(id, setNotice);
  if (space === undefined || room === undefined) return <p>{error === '' ? 'Loading…' : error}</p>;
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
        {room.status === 'live' && <span class="badge live">Live</span>}
        {room.status === 'scheduled' && <span class="badge">Not started yet</span>}
        {ended && <span class="badge">{room.replay.available ? 'Replay' : 'Ended'}</span>}{' '}
        {!ended && `${room.listenerCount} ${room.status === 'scheduled' ? 'waiting' : 'listening'}`}
      </p>
      {ended ? (
        room.replay.available && <EmbeddedReplay id={id} />
      ) : (
        <Player listening={listening} canPlay shareUrl={page} report={setNotice} spaceId={space.id} />
      )}
      {listening.door !== undefined && <WaitingCard door={listening.door} />}
      {listening.atDoors && <p role="status">You are in: it starts by itself when @{space.host.handle} goes live.</p>}
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
      <audio ref={audio} controls aria-label="Replay" />
      {error !== '' && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </>
  );
}
