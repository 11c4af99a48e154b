import { useState } from 'preact/hooks';
import { api, ApiError, unwrap } from '../api.ts';
import { strings } from '../strings.ts';

/** What to clip: a stretch of the replay, or the last seconds of a live Space. */
export type ClipWhat = { readonly start: number; readonly end: number } | { readonly last: number };

/**
 * Makes a clip (signed-in listeners) and says where it is: a link to its own page, opened in a new
 * tab so a live listener keeps listening.
 */
export function ClipButton({ id, label, what }: { id: string; label: string; what: () => ClipWhat }) {
  const [made, setMade] = useState<string>();
  const [error, setError] = useState('');
  const clip = async () => {
    try {
      const { clip: c } = unwrap(await api.POST('/api/spaces/{id}/clips', { params: { path: { id } }, body: what() }));
      setMade(c.id);
      setError('');
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <>
      <button type="button" class="secondary" onClick={() => void clip()}>
        ✂ {label}
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
    </>
  );
}
