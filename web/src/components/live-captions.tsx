import { useState } from 'preact/hooks';
import { CAPTION_SIZES, rememberCaptions, rememberedCaptions, type CaptionSize, type LiveCaptions } from '../captions.ts';
import { strings } from '../strings.ts';

const t = strings.captions;

/**
 * A live Space's automatic captions, under the player: the last final lines and the line being
 * spoken. Only final lines are in the live region (`aria-live="polite"`): a screen reader reads each
 * finished line once, never the partial one over and over as it changes. The listener may hide them
 * and pick their size; both are remembered in this browser.
 */
export function LiveCaptionsArea({ captions }: { captions: LiveCaptions }) {
  const [choice, setChoice] = useState(rememberedCaptions);
  const choose = (next: { show: boolean; size: CaptionSize }) => {
    setChoice(next);
    rememberCaptions(next);
  };
  const finals = captions.lines.filter((l) => l.final);
  const partial = captions.lines.find((l) => !l.final);
  return (
    <section class="card captions" aria-label={t.region}>
      <div class="captions-head">
        <h2>{t.title}</h2>
        <button type="button" aria-pressed={choice.show} onClick={() => choose({ ...choice, show: !choice.show })}>
          {t.toggle}
        </button>
        <label class="captions-size">
          {t.size}
          <select
            value={choice.size}
            onChange={(e) => choose({ ...choice, size: (e.target as HTMLSelectElement).value as CaptionSize })}
          >
            {CAPTION_SIZES.map((s) => (
              <option key={s} value={s}>
                {t.sizes[s]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p class="muted captions-note">{t.machineMade}</p>
      {/* Kept in the page while hidden, so the live region exists before its first line (readers need that). */}
      <div class={`captions-lines size-${choice.size}`} hidden={!choice.show}>
        <div aria-live="polite" aria-atomic="false" class="captions-finals">
          {finals.map((l) => (
            <p key={l.startMs} class="caption-line final" data-start-ms={l.startMs}>
              {l.text}
            </p>
          ))}
        </div>
        {partial !== undefined ? (
          <p class="caption-line partial" data-start-ms={partial.startMs}>
            {partial.text}
          </p>
        ) : (
          finals.length === 0 && <p class="caption-line muted">{t.waiting}</p>
        )}
      </div>
    </section>
  );
}
