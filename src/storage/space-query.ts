import type { SqlValue } from './driver.ts';
import { containsPattern } from './sql-community-store.ts';
import type { SpaceQuery, SpaceState } from './store.ts';

/** Live: newest first; scheduled: soonest first; ended: most recently ended first. */
const order: Record<SpaceState | 'all', string> = {
  live: 'started_at IS NULL, started_at DESC, id',
  scheduled: 'scheduled_start IS NULL, scheduled_start ASC, created_at DESC, id',
  ended: 'ended_at IS NULL, ended_at DESC, id',
  all: 'created_at DESC, id',
};

/** The words of a search that count (at most 8; each must match). */
const MAX_WORDS = 8;

/** The SELECT behind `Store.listSpaces`: filters by state, host, topic and words, in each state's order. */
export function spaceQuery(q: SpaceQuery): { sql: string; params: SqlValue[] } {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  for (const [column, value] of [
    ['state', q.state],
    ['host_id', q.hostId],
  ] as const) {
    if (value === undefined) continue;
    conditions.push(`${column} = ?`);
    params.push(value);
  }
  if (q.tag !== undefined) {
    conditions.push('tags LIKE ?');
    params.push(`% ${q.tag.toLowerCase()} %`);
  }
  for (const word of (q.text ?? '').split(/\s+/).filter(Boolean).slice(0, MAX_WORDS)) {
    // Each word in the title, the host's handle or their display name.
    conditions.push(
      `(LOWER(title) LIKE ? ESCAPE '\\' OR host_id IN (SELECT id FROM accounts WHERE handle_key LIKE ? ESCAPE '\\' OR LOWER(COALESCE(display_name, '')) LIKE ? ESCAPE '\\'))`,
    );
    const pattern = containsPattern(word);
    params.push(pattern, pattern, pattern);
  }
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  return {
    sql: `SELECT * FROM spaces ${where} ORDER BY ${order[q.state ?? 'all']} LIMIT ? OFFSET ?`,
    params: [...params, q.limit, q.offset],
  };
}

/** Topics as one column: ` a b c ` (spaces around each), so `LIKE '% a %'` finds one exactly. */
export function tagColumn(tags: readonly string[]): string {
  return tags.length === 0 ? '' : ` ${tags.join(' ')} `;
}
