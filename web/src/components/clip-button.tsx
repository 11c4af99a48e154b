import { useState } from 'preact/hooks';
import { api, ApiError, unwrap } from '../api.ts';
import { strings } from '../strings.ts';

/**
 * The lengths a clip may have, in seconds: the server's (src/origin/clips.ts, CLIP_MIN_MS and
 * CLIP_MAX_MS; the web app reaches the server only through src/shared). The form refuses others
 * before asking; the server refuses them anyway.
 */
export const CLIP_MIN_S = 5;
export const CLIP_MAX_S = 60;

/** What to clip: a stretch of the replay, or the last seconds of a live Space. */
export type ClipWhat = { readonly start: number; readonly end: number } | { readonly last: number };

interface ClipButtonProps {
  readonly id: string;
  /** The button's words for a clip of that many seconds. */
  readonly label: (seconds: number) => string;
  /** The length offered at first. */
  readonly seconds: number;
  /** The range to clip, for the length the listener chose. */
  readonly what: (seconds: number) => ClipWhat;
}

/**
 * Makes a clip of the length the listener picks (signed-in listeners) and says where it is: a link
 * to its own page, opened in a new tab so a live listener keeps listening.
 */
export function ClipButton({ id, label, seconds: initial, what }: ClipButtonProps) {
  const [typed, setTyped] = useState(String(initial));
  const [made, setMade] = useState<string>();
  const [error, setError] = useState('');
  const seconds = Number(typed);
  const clip = async () => {
    try {
      const body = what(seconds);
      const { clip: c } = unwrap(await api.POST('/api/spaces/{id}/clips', { params: { path: { id } }, body }));
      setMade(c.id);
      setError('');
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <form
      class="clip-form"
      onSubmit={(e) => {
        e.preventDefault(); // an out-of-range length never gets here: the browser's validation stops it
        void clip();
      }}
    >
      <label class="inline">
        {strings.clip.length}
        <input
          type="number"
          inputMode="numeric"
          required
          min={CLIP_MIN_S}
          max={CLIP_MAX_S}
          step={1}
          value={typed}
          aria-describedby={`clip-range-${id}`}
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
        />
      </label>
      <span id={`clip-range-${id}`} class="muted">
        {strings.clip.range(CLIP_MIN_S, CLIP_MAX_S)}
      </span>
      <button type="submit" class="secondary">
        ✂ {typed !== '' && Number.isFinite(seconds) ? label(seconds) : strings.clip.make}
      </button>
      {made !== undefined && (
        <a href={`/c/${made}`} target="_blank" rel="noopener">
          {strings.clip.yours}
        </a>
      )}
      {error !== '' && (
        <span role="alert" class="error">
          {error}
        </span>
      )}
    </form>
  );
}
