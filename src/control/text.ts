import { AmphiError } from '../errors.ts';

/**
 * Characters no free text shown to others may carry: C0 and C1 controls and DEL (terminal and log
 * injection), bidi embeddings, overrides, isolates and marks (text that displays in another order
 * than it reads), zero-width and invisible characters, line and paragraph separators. The zero-width
 * non-joiner and joiner (U+200C, U+200D) are allowed: Persian and Indic scripts and emoji sequences
 * (👩‍💻) are written with them.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

/** Refuses text with a hidden character: 400 VALIDATION_FAILED naming the field and the character. */
export function requireVisibleText(field: string, text: string): void {
  const found = HIDDEN.exec(text);
  if (found === null) return;
  const codePoint = `U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  throw new AmphiError('VALIDATION_FAILED', {
    details: [
      {
        field,
        problem: `contains ${codePoint}: control, bidirectional-override and invisible characters are not allowed; remove it`,
      },
    ],
  });
}
