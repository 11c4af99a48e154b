import { useEffect, useState } from 'preact/hooks';
import { strings } from '../strings.ts';
import type { Listening } from '../use-listening.ts';
import { Reconnecting } from './reconnecting.tsx';
import { VolumeControl } from './volume.tsx';

const t = strings.player;

interface PlayerProps {
  readonly listening: Listening;
  /** Whether Play is offered (not once the Space ended, nor to someone on stage). */
  readonly canPlay: boolean;
  readonly shareUrl: string;
  readonly spaceId: string;
  readonly report: (message: string) => void;
  /** The Space's state, for the words of the status (the Space's own badges are in its header). */
  readonly roomStatus?: 'scheduled' | 'live' | 'ended';
  /** The caller is on the stage: they hear it there, not through this player. */
  readonly onStage?: boolean;
  /** What plays, shown beside the status. */
  readonly title?: string;
  /** A bar fixed at the bottom of the window (the Space page); inline otherwise (the embed). */
  readonly bar?: boolean;
}

/** The status dot's colour and the words beside it. */
export type Tone = 'live' | 'wait' | 'warn' | 'idle' | 'ended' | 'replay';

/** Whether the audio element is waiting for data while it should play (presentation only). */
function useBuffering(audio: Listening['audio']): boolean {
  const [buffering, setBuffering] = useState(false);
  useEffect(() => {
    const element = audio.current;
    if (element === null) return;
    const on = () => setBuffering(true);
    const off = () => setBuffering(false);
    element.addEventListener('waiting', on);
    for (const name of ['playing', 'pause', 'emptied', 'ended']) element.addEventListener(name, off);
    return () => {
      element.removeEventListener('waiting', on);
      for (const name of ['playing', 'pause', 'emptied', 'ended']) element.removeEventListener(name, off);
    };
  }, [audio.current]);
  return buffering;
}

function statusOf(l: Listening, p: PlayerProps, pending: boolean, buffering: boolean): [Tone, string] {
  if (p.roomStatus === 'ended') return ['ended', t.status.over];
  if (p.onStage === true) return ['live', t.status.onStage];
  if (l.reconnecting !== undefined) return ['warn', t.status.reconnecting];
  if (l.door !== undefined) return ['wait', l.door.kind === 'proving' ? t.status.connecting : t.status.inLine];
  if (l.atDoors) return ['wait', t.status.atDoors];
  if (l.playing && buffering) return ['warn', t.status.buffering];
  if (l.playing) return ['live', l.catchUp !== undefined && !l.catchUp.live ? t.status.catchingUp : t.status.live];
  if (pending) return ['wait', t.status.connecting];
  return ['idle', t.status.idle];
}

/** The dot and words saying what the player does. */
export function PlayerStatus({ tone, text, title }: { tone: Tone; text: string; title?: string | undefined }) {
  return (
    <div class="player-status">
      <span class={`status-dot tone-${tone}`} aria-hidden="true" />
      <span class="player-text">
        {title !== undefined && <span class="player-title">{title}</span>}
        <span class="player-state" role="status">
          {text}
        </span>
      </span>
    </div>
  );
}

/**
 * The listener's audio element, its buttons (Play, Stop, Share), its volume, what it is doing, and a
 * word while it reconnects by itself. On the Space page, a bar fixed at the bottom of the window.
 */
export function Player(props: PlayerProps) {
  const { listening, canPlay, shareUrl, report, bar = false } = props;
  const [pending, setPending] = useState(false);
  const buffering = useBuffering(listening.audio);
  const state = listening.catchUp;
  const [tone, text] = statusOf(listening, props, pending, buffering);
  const play = async () => {
    setPending(true);
    try {
      await listening.play();
    } finally {
      setPending(false);
    }
  };
  return (
    <div class={bar ? 'player player-bar' : 'player'} role="region" aria-label={t.region}>
      <audio ref={listening.audio} />
      <div class="player-inner">
        <div class="player-buttons">
          {canPlay && listening.grants === undefined && (
            <button type="button" class="primary play" onClick={() => void play()}>
              {t.play}
            </button>
          )}
          {listening.playing && (
            <button type="button" class="play" onClick={listening.stop}>
              {t.stop}
            </button>
          )}
          {listening.atDoors && (
            <button type="button" onClick={listening.stop}>
              {t.leave}
            </button>
          )}
        </div>
        <PlayerStatus tone={tone} text={text} title={props.title} />
        <VolumeControl />
        <button
          type="button"
          class="secondary share"
          onClick={() => void navigator.clipboard?.writeText(shareUrl).then(() => report(strings.common.linkCopied))}
        >
          {strings.common.share}
        </button>
      </div>
      <Reconnecting what="" attempt={listening.reconnecting} />
      {state !== undefined && (
        <p role="status" class="muted catch-up">
          {state.live
            ? t.caughtUp
            : t.catchingUp(state.playbackRate, Number.isFinite(state.behindS) ? String(Math.round(state.behindS)) : '…')}
        </p>
      )}
    </div>
  );
}
