import type { ComponentChildren, RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { strings } from '../strings.ts';
import { PlayerStatus, type Tone } from './player.tsx';
import { VolumeControl } from './volume.tsx';

const t = strings.player;

/** `m:ss` (or `h:mm:ss`) for a time in seconds. */
export const clock = (seconds: number) => {
  const s = Math.floor(Number.isFinite(seconds) ? seconds : 0);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
};

/** What the element does, from its own events: playing, paused, waiting for data; and its length. */
function useElementState(audio: RefObject<HTMLAudioElement>) {
  const [state, setState] = useState({ playing: false, waiting: false, duration: NaN });
  useEffect(() => {
    const element = audio.current;
    if (element === null) return;
    const read = () =>
      setState({
        playing: !element.paused,
        waiting: !element.paused && element.readyState < HTMLMediaElement.HAVE_FUTURE_DATA,
        duration: element.duration,
      });
    const events = ['play', 'pause', 'playing', 'waiting', 'durationchange', 'loadedmetadata', 'ended', 'emptied'];
    for (const name of events) element.addEventListener(name, read);
    return () => {
      for (const name of events) element.removeEventListener(name, read);
    };
  }, [audio.current]);
  return state;
}

interface ReplayBarProps {
  readonly audio: RefObject<HTMLAudioElement>;
  /** The playing position, in seconds. */
  readonly now: number;
  readonly title: string | undefined;
  readonly ready: boolean;
  /** The audio element itself (with its chapters track): the bar holds it. */
  readonly children: ComponentChildren;
}

/** The replay's player, a bar fixed at the bottom: play or pause, the position, the speed, the volume, the state. */
export function ReplayBar({ audio, now, title, ready, children }: ReplayBarProps) {
  const { playing, waiting, duration } = useElementState(audio);
  const [tone, text]: [Tone, string] = !ready
    ? ['wait', t.status.replayLoading]
    : waiting
      ? ['warn', t.status.buffering]
      : playing
        ? ['replay', t.status.replay]
        : ['idle', t.status.replayPaused];
  const element = audio.current;
  const length = Number.isFinite(duration) ? duration : 0;
  return (
    <div class="player player-bar replay-bar" role="region" aria-label={t.region}>
      {children}
      <div class="player-inner">
        <div class="player-buttons">
          <button
            type="button"
            class="primary play"
            disabled={!ready}
            onClick={() => {
              if (element === null) return;
              if (element.paused) void element.play();
              else element.pause();
            }}
          >
            {playing ? `❚❚ ${t.pause}` : `▶ ${t.resume}`}
          </button>
        </div>
        <PlayerStatus tone={tone} text={text} title={title} />
        <div class="seek">
          <span class="time">{clock(now)}</span>
          <input
            type="range"
            aria-label={t.position}
            min={0}
            max={Math.max(1, Math.floor(length))}
            step={1}
            value={Math.floor(now)}
            aria-valuetext={`${clock(now)} / ${clock(length)}`}
            style={{ '--fill': `${length > 0 ? (now / length) * 100 : 0}%` }}
            disabled={length === 0}
            onInput={(e) => element !== null && (element.currentTime = Number((e.target as HTMLInputElement).value))}
          />
          <span class="time">{clock(length)}</span>
        </div>
        <label class="speed">
          <span class="sr-only">{t.speed}</span>
          <select onChange={(e) => element !== null && (element.playbackRate = Number((e.target as HTMLSelectElement).value))}>
            {[0.75, 1, 1.25, 1.5, 2].map((r) => (
              <option key={r} value={r} selected={r === 1}>
                {r}×
              </option>
            ))}
          </select>
        </label>
        <VolumeControl />
      </div>
    </div>
  );
}
