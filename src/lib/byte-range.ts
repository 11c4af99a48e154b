/**
 * What a `Range` request header (RFC 9110 §14) asks of a representation of `size` bytes:
 * - `whole`: no Range, or one a server may ignore and answer with the whole file (200): another
 *   unit, several ranges (multipart/byteranges is not worth its complexity for one file), or an
 *   `If-Range` validator that no longer matches;
 * - `partial`: one range, `start` to `end` inclusive, clamped to the file (206);
 * - `unsatisfiable`: a `bytes=` range that is malformed or starts past the end (416, with a
 *   Content-Range that names the size).
 */
export type ByteRange =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const WHOLE: ByteRange = { kind: 'whole' };
const UNSATISFIABLE: ByteRange = { kind: 'unsatisfiable' };
const SPEC = /^(\d*)-(\d*)$/;

/**
 * Reads a `Range` header against a file of `size` bytes. `ifRange` and `etag`: an `If-Range`
 * header that is not the file's current (strong) ETag means the client's copy is stale, so it gets
 * the whole file instead of a piece of a different one.
 */
export function byteRange(
  header: string | undefined,
  size: number,
  ifRange?: { readonly header: string | undefined; readonly etag: string },
): ByteRange {
  if (header === undefined) return WHOLE;
  const unit = /^\s*bytes\s*=/i.exec(header);
  if (unit === null) return WHOLE;
  if (ifRange?.header !== undefined && ifRange.header.trim() !== ifRange.etag) return WHOLE;
  const specs = header.slice(unit[0].length).split(',');
  if (specs.length > 1) return WHOLE;
  const match = SPEC.exec(specs[0]!.trim());
  if (match === null) return UNSATISFIABLE;
  const [, first = '', last = ''] = match;
  if (first === '') {
    // A suffix: the last N bytes (all of them when N is at least the size).
    const length = last === '' ? 0 : Number(last);
    if (length === 0 || size === 0) return UNSATISFIABLE;
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (end < start || start >= size) return UNSATISFIABLE;
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
