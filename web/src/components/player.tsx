import { useState } from 'preact/hooks';
import { CATCH_UP_RATES } from '../catch-up.ts';
import type { Listening } from '../use-listening.ts';
import { Reconnecting } from './reconnecting.tsx';

interface PlayerProps {
  readonly listening: Listening;
  /** Whether Play is offered (not once the Space ended, nor to someone on stage). */
  readonly canPlay: boolean;
  readonly shareUrl: string;
  /** Whether "Catch up from the start" is offered (a live Space). */
  readonly catchUpOffered?: boolean;
  readonly report: (message: string) => void;
}

/** The listener's audio element, its buttons (Play, Stop, Share), and a word while it reconnects by itself. */
export function Player({ listening, canPlay, shareUrl, report, catchUpOffered = false }: PlayerProps) {
  const state = listening.catchUp;
  return (
    <>
      <audio ref={listening.audio} />
      <Reconnecting what="" attempt={listening.reconnecting} />
      {state !== undefined && (
        <p role="status" class="muted catch-up">
          {state.live
            ? 'Caught up: you are live.'
            : `Catching up at ${state.playbackRate}×: ${Number.isFinite(state.behindS) ? Math.round(state.behindS) : '…'} s behind live.`}
        </p>
      )}
      <div class="actions">
        {canPlay && listening.grants === undefined && (
          <button type="button" class="primary" onClick={() => void listening.play()}>
            ▶ Play
          </button>
        )}
        {canPlay && catchUpOffered && listening.grants === undefined && (
          <CatchUpControl play={(rate) => void listening.play(rate)} />
        )}
        {listening.playing && (
          <button type="button" onClick={listening.stop}>
            ■ Stop
          </button>
        )}
        {listening.atDoors && (
          <button type="button" onClick={listening.stop}>
            Leave
          </button>
        )}
        <button type="button" onClick={() => void navigator.clipboard?.writeText(shareUrl).then(() => report('Link copied.'))}>
          Share
        </button>
      </div>
    </>
  );
}

/** "Catch up from the start" at a chosen speed (long silences shortened), until live. */
function CatchUpControl({ play }: { play: (rate: number) => void }) {
  const [rate, setRate] = useState<number>(CATCH_UP_RATES[1]);
  return (
    <span class="catch-up-control">
      <button type="button" onClick={() => play(rate)}>
        ⏪ Catch up from the start
      </button>{' '}
      <label>
        at{' '}
        <select value={rate} onChange={(e) => setRate(Number((e.target as HTMLSelectElement).value))}>
          {CATCH_UP_RATES.map((r) => (
            <option key={r} value={r}>
              {r}×
            </option>
          ))}
        </select>
      </label>
    </span>
  );
}
