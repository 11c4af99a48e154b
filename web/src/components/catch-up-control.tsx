import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { CATCH_UP_RATES } from '../catch-up.ts';
import { strings } from '../strings.ts';

const t = strings.player;

/** "Catch up from the start" (or from a chapter so far) at a chosen speed (long silences shortened), until live. */
export function CatchUpControl({ id, play }: { id: string; play: (rate: number, startAt: number) => void }) {
  const [rate, setRate] = useState<number>(CATCH_UP_RATES[1]);
  const [chapters, setChapters] = useState<{ start: number; speaker: { handle: string } }[]>();
  // Asked only when the listener opens the list: a live page's every visitor would otherwise ask.
  const load = () =>
    void api.GET('/api/spaces/{id}/chapters', { params: { path: { id } } }).then((res) => setChapters(res.data?.chapters ?? []));
  const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  return (
    <div class="card catch-up-control">
      <p class="card-kicker">{t.catchUpTitle}</p>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => play(rate, 0)}>
          {t.catchUpFromStart}
        </button>
        <label class="inline">
          {t.at}
          <select value={rate} onChange={(e) => setRate(Number((e.target as HTMLSelectElement).value))}>
            {CATCH_UP_RATES.map((r) => (
              <option key={r} value={r}>
                {r}×
              </option>
            ))}
          </select>
        </label>
      </div>
      <details class="chapters-so-far" onToggle={(e) => (e.target as HTMLDetailsElement).open && load()}>
        <summary>{t.fromSpeaker}</summary>
        {chapters === undefined ? (
          strings.common.loading
        ) : chapters.length === 0 ? (
          t.nobodyHeard
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
    </div>
  );
}
