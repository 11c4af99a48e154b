import { useState } from 'preact/hooks';
import { api } from '../api.ts';
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
  readonly spaceId: string;
  readonly report: (message: string) => void;
}

/** The listener's audio element, its buttons (Play, Stop, Share), and a word while it reconnects by itself. */
export function Player({ listening, canPlay, shareUrl, report, catchUpOffered = false, spaceId }: PlayerProps) {
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
        {canPlay && catchUpOffered && 'MediaSource' in window && listening.grants === undefined && (
          <CatchUpControl id={spaceId} play={(rate, startAt) => void listening.play(rate, startAt)} />
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

/** "Catch up from the start" (or from a chapter so far) at a chosen speed (long silences shortened), until live. */
function CatchUpControl({ id, play }: { id: string; play: (rate: number, startAt: number) => void }) {
  const [rate, setRate] = useState<number>(CATCH_UP_RATES[1]);
  const [chapters, setChapters] = useState<{ start: number; speaker: { handle: string } }[]>();
  // Asked only when the listener opens the list: a live page's every visitor would otherwise ask.
  const load = () =>
    void api.GET('/api/spaces/{id}/chapters', { params: { path: { id } } }).then((res) => setChapters(res.data?.chapters ?? []));
  const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  return (
    <span class="catch-up-control">
      <button type="button" onClick={() => play(rate, 0)}>
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
      <details class="chapters-so-far" onToggle={(e) => (e.target as HTMLDetailsElement).open && load()}>
        <summary>or from a speaker</summary>
        {chapters === undefined ? (
          'Loading…'
        ) : chapters.length === 0 ? (
          'Nobody has been heard yet.'
        ) : (
          <ul>
            {chapters.map((c) => (
              <li key={c.start}>
                <button type="button" class="link" onClick={() => play(rate, c.start)}>
                  @{c.speaker.handle} ({clock(c.start)})
                </button>
              </li>
            ))}
          </ul>
        )}
      </details>
    </span>
  );
}
