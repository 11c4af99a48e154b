import type { SqlRunner } from './driver.ts';

/**
 * The host's last word on a Space's live captions (`PUT /api/spaces/:id/captions`), kept in the
 * database so that it outlives the media node that applied it: a restart, or another node taking the
 * Space over, captions it again (or keeps it uncaptioned) as the host asked.
 */
export interface CaptionsChoices {
  /** Whether the host last turned captions on (true) or off (false); undefined when never chosen. */
  chosen(spaceId: string): Promise<boolean | undefined>;
  choose(spaceId: string, on: boolean, atMs: number): Promise<void>;
}

/** `space_captions` (migration 9): one row per Space whose host ever chose; deleted with the Space. */
export class SqlCaptionsChoices implements CaptionsChoices {
  readonly #db: SqlRunner;

  constructor(db: SqlRunner) {
    this.#db = db;
  }

  async chosen(spaceId: string): Promise<boolean | undefined> {
    const [row] = await this.#db.all('SELECT captions_on FROM space_captions WHERE space_id = ?', [spaceId]);
    return row === undefined ? undefined : Number(row.captions_on) === 1;
  }

  async choose(spaceId: string, on: boolean, atMs: number): Promise<void> {
    await this.#db.run(
      `INSERT INTO space_captions (space_id, captions_on, chosen_at) VALUES (?, ?, ?)
       ON CONFLICT (space_id) DO UPDATE SET captions_on = excluded.captions_on, chosen_at = excluded.chosen_at`,
      [spaceId, on ? 1 : 0, atMs],
    );
  }
}
