import type { SqlRunner } from './driver.ts';
import { containsPattern } from './like.ts';

/** One line of a replay's transcript, as searched (times in ms on the replay's timeline). */
export interface TranscriptLineRecord {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
}

/** A line that matched a search, with its Space and host. */
export interface TranscriptHit {
  readonly spaceId: string;
  readonly title: string;
  readonly hostId: string;
  readonly hostHandle: string;
  readonly text: string;
  readonly startMs: number;
}

export interface TranscriptSearch {
  readonly limit: number;
  readonly offset: number;
  /** Found anywhere in a line, case-insensitively; `%` and `_` are plain characters. */
  readonly phrase: string;
  /** Only this host's Spaces (any audience); else the public replays (`allowAnonymous`). */
  readonly hostId?: string | undefined;
  /** Only Spaces that ended at or after this (ms): older ones are past retention, their replays deleted. */
  readonly endedAfter?: number | undefined;
  /** Who searches (signed in): not the Spaces they were removed from, nor those of hosts who block them. */
  readonly viewerId?: string | undefined;
}

/** Replays' transcripts, line by line, for search (`transcript_lines`). */
export interface TranscriptStore {
  /** Replaces the Space's lines with these. */
  saveTranscript(spaceId: string, lines: readonly TranscriptLineRecord[]): Promise<void>;
  /**
   * Lines containing the phrase, of ended Spaces whose replay is not deleted: the most recently ended
   * Space first, its lines in order.
   */
  searchTranscripts(search: TranscriptSearch): Promise<TranscriptHit[]>;
}

/** Rows per INSERT (4 parameters each: well under SQLite's 32,766 and PostgreSQL's 65,535). */
const LINES_PER_INSERT = 500;

export async function saveTranscriptLines(db: SqlRunner, spaceId: string, lines: readonly TranscriptLineRecord[]): Promise<void> {
  await db.run('DELETE FROM transcript_lines WHERE space_id = ?', [spaceId]);
  for (let i = 0; i < lines.length; i += LINES_PER_INSERT) {
    const batch = lines.slice(i, i + LINES_PER_INSERT);
    await db.run(
      `INSERT INTO transcript_lines (space_id, start_ms, end_ms, text) VALUES ${batch.map(() => '(?, ?, ?, ?)').join(', ')}`,
      batch.flatMap((l) => [spaceId, Math.round(l.startMs), Math.round(l.endMs), l.text]),
    );
  }
}

export async function searchTranscriptLines(db: SqlRunner, q: TranscriptSearch): Promise<TranscriptHit[]> {
  const whose = q.hostId === undefined ? 's.allow_anonymous = 1' : 's.host_id = ?';
  const since = q.endedAfter === undefined ? '' : ' AND s.ended_at >= ?';
  // The replay itself refuses them (a removal, a host's block): its lines are not theirs to read either.
  const barred =
    q.viewerId === undefined
      ? ''
      : ` AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.space_id = s.id AND b.account_id = ?)
         AND NOT EXISTS (SELECT 1 FROM host_blocks hb WHERE hb.host_id = s.host_id AND hb.account_id = ?)`;
  const rows = await db.all(
    `SELECT t.space_id, t.start_ms, t.text, s.title, s.host_id, a.handle
     FROM transcript_lines t JOIN spaces s ON s.id = t.space_id JOIN accounts a ON a.id = s.host_id
     WHERE LOWER(t.text) LIKE ? ESCAPE '\\' AND s.state = 'ended' AND s.replay_deleted_at IS NULL AND ${whose}${since}${barred}
     ORDER BY s.ended_at DESC, t.space_id, t.start_ms LIMIT ? OFFSET ?`,
    [
      containsPattern(q.phrase),
      ...(q.hostId === undefined ? [] : [q.hostId]),
      ...(q.endedAfter === undefined ? [] : [Math.floor(q.endedAfter)]),
      ...(q.viewerId === undefined ? [] : [q.viewerId, q.viewerId]),
      q.limit,
      q.offset,
    ],
  );
  return rows.map((r) => ({
    spaceId: String(r.space_id),
    title: String(r.title),
    hostId: String(r.host_id),
    hostHandle: String(r.handle),
    text: String(r.text),
    startMs: Number(r.start_ms),
  }));
}
