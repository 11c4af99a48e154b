/** A LIKE pattern that matches `text` anywhere, case-insensitively, with `%` and `_` taken literally (`ESCAPE '\\'`). */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
