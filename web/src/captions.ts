import { ApiError, errorOf } from './api.ts';

/**
 * Live captions as the room state carries them (`captions` in `state.json`, built by the media node's
 * `Captions.view`): typed here because the shared room-state document does not name them yet.
 */
export interface CaptionLine {
  /** On the program's timeline, ms since it started. */
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
  /** A final line will not change; a partial one is replaced as the speaker goes on. */
  readonly final: boolean;
}

export interface LiveCaptions {
  /** Machine-made: the page says so. */
  readonly automatic: true;
  readonly on: boolean;
  /** The last final lines and the partial one, oldest first. */
  readonly lines: readonly CaptionLine[];
}

/** The room state's captions, where the document has them (only on nodes that caption). */
export function captionsOf(room: object | undefined): LiveCaptions | undefined {
  const captions = (room as { captions?: LiveCaptions } | undefined)?.captions;
  return captions !== undefined && Array.isArray(captions.lines) ? captions : undefined;
}

export type CaptionSize = 's' | 'm' | 'l';
export const CAPTION_SIZES: readonly CaptionSize[] = ['s', 'm', 'l'];

const SHOW_KEY = 'amphi.captions.show';
const SIZE_KEY = 'amphi.captions.size';

/** The listener's caption choices from last time: shown (by default) and the size (medium). */
export function rememberedCaptions(): { show: boolean; size: CaptionSize } {
  try {
    const size = localStorage.getItem(SIZE_KEY) as CaptionSize | null;
    return {
      show: localStorage.getItem(SHOW_KEY) !== 'false',
      size: size !== null && CAPTION_SIZES.includes(size) ? size : 'm',
    };
  } catch {
    return { show: true, size: 'm' };
  }
}

export function rememberCaptions(choice: { show: boolean; size: CaptionSize }): void {
  try {
    localStorage.setItem(SHOW_KEY, String(choice.show));
    localStorage.setItem(SIZE_KEY, choice.size);
  } catch {
    // Storage refused (private mode, a sandboxed frame): the choice holds for this page only.
  }
}

/**
 * `PUT /api/spaces/:id/captions` (host or co-host). Called with fetch: the route is mounted only
 * where the stage runs, so the generated API types (built from a control-only app) do not list it.
 * Errors are thrown as `ApiError` (CAPTIONS_UNAVAILABLE, CAPTIONS_BUSY, MODERATOR_ONLY, SPACE_NOT_LIVE).
 */
export async function setCaptions(spaceId: string, on: boolean): Promise<{ on: boolean }> {
  const res = await fetch(`/api/spaces/${encodeURIComponent(spaceId)}/captions`, {
    method: 'PUT',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ on }),
  });
  const body = (await res.json().catch(() => undefined)) as { on?: boolean } | undefined;
  if (!res.ok || typeof body?.on !== 'boolean') {
    const e = errorOf(body);
    throw new ApiError(e?.code ?? `HTTP_${res.status}`, e?.message ?? `Request failed (${res.status})`);
  }
  return { on: body.on };
}
