import { isUniqueViolation, type Row, type SqlDb, type SqlValue } from './driver.ts';
import type {
  AudienceMember,
  AuditEntry,
  AuditView,
  Avatar,
  CommunityStore,
  MinuteStats,
  Page,
  Profile,
  ReportDecision,
  ReportRecord,
} from './community-store.ts';
import {
  saveTranscriptLines,
  searchTranscriptLines,
  type TranscriptHit,
  type TranscriptLineRecord,
  type TranscriptSearch,
} from './transcript-store.ts';
import { containsPattern } from './like.ts';

export { containsPattern } from './like.ts';

/** Rows per INSERT of `recordAudience` (4 parameters each: well under SQLite's 32,766 and PostgreSQL's 65,535). */
const AUDIENCE_ROWS_PER_INSERT = 500;

const nullableString = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const nullableNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** `CommunityStore` in the SQL both databases share. */
export class SqlCommunityStore implements CommunityStore {
  readonly #db: SqlDb;

  constructor(db: SqlDb) {
    this.#db = db;
  }

  saveTranscript(spaceId: string, lines: readonly TranscriptLineRecord[]): Promise<void> {
    return saveTranscriptLines(this.#db, spaceId, lines);
  }

  searchTranscripts(search: TranscriptSearch): Promise<TranscriptHit[]> {
    return searchTranscriptLines(this.#db, search);
  }

  async getProfile(accountId: string): Promise<Profile | undefined> {
    const [r] = await this.#db.all(`${PROFILE} WHERE id = ?`, [accountId]);
    return r === undefined ? undefined : toProfile(r);
  }

  async findProfile(handle: string): Promise<Profile | undefined> {
    const [r] = await this.#db.all(`${PROFILE} WHERE handle_key = ?`, [handle.toLowerCase()]);
    return r === undefined ? undefined : toProfile(r);
  }

  async updateProfile(accountId: string, patch: { displayName?: string | null; bio?: string | null }): Promise<void> {
    const sets: string[] = [];
    const values: SqlValue[] = [];
    for (const [column, value] of [
      ['display_name', patch.displayName],
      ['bio', patch.bio],
    ] as const) {
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(value);
    }
    if (sets.length > 0) await this.#db.run(`UPDATE accounts SET ${sets.join(', ')} WHERE id = ?`, [...values, accountId]);
  }

  async setAvatar(accountId: string, avatar: { type: string; data: Buffer } | null): Promise<void> {
    await this.#db.run('UPDATE accounts SET avatar_type = ?, avatar_data = ?, avatar_version = avatar_version + 1 WHERE id = ?', [
      avatar?.type ?? null,
      avatar?.data.toString('base64') ?? null,
      accountId,
    ]);
  }

  async getAvatar(accountId: string): Promise<Avatar | undefined> {
    const [r] = await this.#db.all('SELECT avatar_type, avatar_data, avatar_version FROM accounts WHERE id = ?', [accountId]);
    if (r === undefined || typeof r.avatar_data !== 'string' || typeof r.avatar_type !== 'string') return undefined;
    return { type: r.avatar_type, data: Buffer.from(r.avatar_data, 'base64'), version: Number(r.avatar_version) };
  }

  async setAdmin(accountId: string, admin: boolean): Promise<void> {
    await this.#db.run('UPDATE accounts SET admin = ? WHERE id = ?', [admin ? 1 : 0, accountId]);
  }

  async setSuspended(accountId: string, atMs: number | null): Promise<void> {
    await this.#db.run('UPDATE accounts SET suspended_at = ? WHERE id = ?', [atMs, accountId]);
    if (atMs !== null) await this.#db.run('DELETE FROM sessions WHERE account_id = ?', [accountId]);
  }

  follow(followerId: string, hostId: string, nowMs: number): Promise<boolean> {
    return this.#insertOnce('INSERT INTO follows (follower_id, host_id, created_at) VALUES (?, ?, ?)', [
      followerId,
      hostId,
      nowMs,
    ]);
  }

  async unfollow(followerId: string, hostId: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM follows WHERE follower_id = ? AND host_id = ?', [followerId, hostId])) > 0;
  }

  async isFollowing(followerId: string, hostId: string): Promise<boolean> {
    const rows = await this.#db.all('SELECT 1 AS x FROM follows WHERE follower_id = ? AND host_id = ?', [followerId, hostId]);
    return rows.length > 0;
  }

  async countFollowers(hostId: string): Promise<number> {
    const [r] = await this.#db.all('SELECT COUNT(*) AS n FROM follows WHERE host_id = ?', [hostId]);
    return Number(r?.n ?? 0);
  }

  remindFollowers(spaceId: string, hostId: string, nowMs: number): Promise<number> {
    return this.#db.run(
      `INSERT INTO reminders (space_id, account_id, created_at) SELECT ?, follower_id, ? FROM follows WHERE host_id = ?
       ON CONFLICT (space_id, account_id) DO NOTHING`,
      [spaceId, nowMs, hostId],
    );
  }

  remindOfScheduled(followerId: string, hostId: string, nowMs: number): Promise<number> {
    return this.#db.run(
      `INSERT INTO reminders (space_id, account_id, created_at) SELECT id, ?, ? FROM spaces WHERE host_id = ? AND state = 'scheduled'
       ON CONFLICT (space_id, account_id) DO NOTHING`,
      [followerId, nowMs, hostId],
    );
  }

  block(hostId: string, accountId: string, nowMs: number): Promise<boolean> {
    return this.#insertOnce('INSERT INTO host_blocks (host_id, account_id, created_at) VALUES (?, ?, ?)', [
      hostId,
      accountId,
      nowMs,
    ]);
  }

  async unblock(hostId: string, accountId: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM host_blocks WHERE host_id = ? AND account_id = ?', [hostId, accountId])) > 0;
  }

  async listBlocks(hostId: string): Promise<{ accountId: string; handle: string; createdAt: number }[]> {
    const rows = await this.#db.all(
      `SELECT b.account_id, a.handle, b.created_at FROM host_blocks b JOIN accounts a ON a.id = b.account_id
       WHERE b.host_id = ? ORDER BY b.created_at DESC, b.account_id`,
      [hostId],
    );
    return rows.map((r) => ({ accountId: String(r.account_id), handle: String(r.handle), createdAt: Number(r.created_at) }));
  }

  async unban(spaceId: string, subject: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM bans WHERE space_id = ? AND account_id = ?', [spaceId, subject])) > 0;
  }

  async createReport(r: ReportRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO reports (id, reporter_id, kind, space_id, subject_id, reason, details, created_at, status)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')`,
      [r.id, r.reporterId, r.kind, r.spaceId, r.subjectId, r.reason, r.details, r.createdAt],
    );
  }

  async getReport(id: string): Promise<ReportRecord | undefined> {
    const [r] = await this.#db.all(`${REPORTS} WHERE id = ?`, [id]);
    return r === undefined ? undefined : toReport(r);
  }

  async listReports(q: Page & { status?: 'open' | 'decided' | undefined }): Promise<ReportRecord[]> {
    const where = q.status === undefined ? '' : 'WHERE status = ?';
    // The open queue oldest first (first come, first decided); decided ones newest first.
    const order = q.status === 'open' ? 'created_at ASC, id' : 'COALESCE(decided_at, created_at) DESC, id';
    const rows = await this.#db.all(`${REPORTS} ${where} ORDER BY ${order} LIMIT ? OFFSET ?`, [
      ...(q.status === undefined ? [] : [q.status]),
      q.limit,
      q.offset,
    ]);
    return rows.map(toReport);
  }

  async decideReport(
    id: string,
    d: { decision: ReportDecision; statement: string; decidedBy: string; decidedAt: number },
  ): Promise<boolean> {
    const changed = await this.#db.run(
      `UPDATE reports SET status = 'decided', decision = ?, statement = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'open'`,
      [d.decision, d.statement, d.decidedBy, d.decidedAt, id],
    );
    return changed > 0;
  }

  async listStatements(subjectId: string, page: Page): Promise<ReportRecord[]> {
    const rows = await this.#db.all(
      `${REPORTS} WHERE subject_id = ? AND status = 'decided' AND decision <> 'dismiss' ORDER BY decided_at DESC, id LIMIT ? OFFSET ?`,
      [subjectId, page.limit, page.offset],
    );
    return rows.map(toReport);
  }

  async listReportsBy(reporterId: string, page: Page): Promise<ReportRecord[]> {
    const rows = await this.#db.all(`${REPORTS} WHERE reporter_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?`, [
      reporterId,
      page.limit,
      page.offset,
    ]);
    return rows.map(toReport);
  }

  async addAudit(e: AuditEntry): Promise<void> {
    await this.#db.run(
      'INSERT INTO audit_log (id, space_id, actor_id, action, target_id, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [e.id, e.spaceId, e.actorId, e.action, e.targetId, e.detail, e.at],
    );
  }

  async listAudit(q: Page & { spaceId?: string | undefined }): Promise<AuditView[]> {
    const rows = await this.#db.all(
      `SELECT l.*, a.handle AS actor_handle, t.handle AS target_handle FROM audit_log l
       JOIN accounts a ON a.id = l.actor_id LEFT JOIN accounts t ON t.id = l.target_id
       ${q.spaceId === undefined ? '' : 'WHERE l.space_id = ?'} ORDER BY l.at DESC, l.id DESC LIMIT ? OFFSET ?`,
      [...(q.spaceId === undefined ? [] : [q.spaceId]), q.limit, q.offset],
    );
    return rows.map((r) => ({
      id: String(r.id),
      spaceId: nullableString(r.space_id),
      actorId: String(r.actor_id),
      action: String(r.action),
      targetId: nullableString(r.target_id),
      detail: nullableString(r.detail),
      at: Number(r.at),
      actorHandle: String(r.actor_handle),
      targetHandle: nullableString(r.target_handle),
    }));
  }

  async recordAudience(rows: readonly { spaceId: string; subject: string; atMs: number }[]): Promise<void> {
    // One row per listener (PostgreSQL refuses one statement that updates a row twice), then a few
    // hundred rows per statement: thousands of listeners noted in one write, not a round trip each.
    const seen = new Map<string, { spaceId: string; subject: string; first: number; last: number }>();
    for (const r of rows) {
      const key = `${r.spaceId} ${r.subject}`;
      const had = seen.get(key);
      seen.set(key, { ...r, first: Math.min(had?.first ?? r.atMs, r.atMs), last: Math.max(had?.last ?? r.atMs, r.atMs) });
    }
    const unique = [...seen.values()];
    // One transaction for the whole batch: written whole or not at all (the analytics keep a failed
    // batch for the next flush), and each page of the key, where random listener ids scatter the rows,
    // committed once however many rows it got (see `sqlite.ts` for the statement journal).
    await this.#db.transaction(async (tx) => {
      for (let i = 0; i < unique.length; i += AUDIENCE_ROWS_PER_INSERT) {
        const chunk = unique.slice(i, i + AUDIENCE_ROWS_PER_INSERT);
        await tx.run(
          `INSERT INTO audience (space_id, subject, first_at, last_at) VALUES ${chunk.map(() => '(?, ?, ?, ?)').join(', ')}
         ON CONFLICT (space_id, subject) DO UPDATE SET
           first_at = CASE WHEN excluded.first_at < audience.first_at THEN excluded.first_at ELSE audience.first_at END,
           last_at = CASE WHEN excluded.last_at > audience.last_at THEN excluded.last_at ELSE audience.last_at END`,
          chunk.flatMap((r) => [r.spaceId, r.subject, r.first, r.last]),
        );
      }
    });
  }

  async listAudience(spaceId: string, q: Page & { q?: string | undefined }): Promise<AudienceMember[]> {
    const search =
      q.q === undefined || q.q === ''
        ? ''
        : "AND (LOWER(a.handle) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(a.display_name, '')) LIKE ? ESCAPE '\\')";
    const pattern = q.q === undefined || q.q === '' ? [] : [containsPattern(q.q), containsPattern(q.q)];
    const rows = await this.#db.all(
      `SELECT u.subject, u.first_at, u.last_at, a.handle, a.display_name, a.avatar_version FROM audience u
       JOIN accounts a ON a.id = u.subject WHERE u.space_id = ? ${search} ORDER BY u.last_at DESC, u.subject LIMIT ? OFFSET ?`,
      [spaceId, ...pattern, q.limit, q.offset],
    );
    return rows.map((r) => ({
      accountId: String(r.subject),
      handle: String(r.handle),
      displayName: nullableString(r.display_name),
      avatarVersion: Number(r.avatar_version),
      firstAt: Number(r.first_at),
      lastAt: Number(r.last_at),
    }));
  }

  async countAudience(spaceId: string): Promise<{ accounts: number; anonymous: number }> {
    const [r] = await this.#db.all(
      `SELECT SUM(CASE WHEN subject LIKE 'an\\_%' ESCAPE '\\' THEN 1 ELSE 0 END) AS anonymous, COUNT(*) AS total FROM audience WHERE space_id = ?`,
      [spaceId],
    );
    const anonymous = Number(r?.anonymous ?? 0);
    return { accounts: Number(r?.total ?? 0) - anonymous, anonymous };
  }

  async addStats(rows: readonly MinuteStats[]): Promise<void> {
    const larger = (c: string) =>
      `${c} = CASE WHEN excluded.${c} > space_stats.${c} THEN excluded.${c} ELSE space_stats.${c} END`;
    const sum = (c: string) => `${c} = space_stats.${c} + excluded.${c}`;
    for (const s of rows) {
      await this.#db.run(
        `INSERT INTO space_stats (space_id, minute, joins, queued, from_line, max_wait_ms, replay_plays, reactions, peak_listeners)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (space_id, minute) DO UPDATE SET
         ${[sum('joins'), sum('queued'), sum('from_line'), larger('max_wait_ms'), sum('replay_plays'), sum('reactions'), larger('peak_listeners')].join(', ')}`,
        [s.spaceId, s.minute, s.joins, s.queued, s.fromLine, s.maxWaitMs, s.replayPlays, s.reactions, s.peakListeners],
      );
    }
  }

  async listStats(spaceId: string): Promise<MinuteStats[]> {
    const rows = await this.#db.all('SELECT * FROM space_stats WHERE space_id = ? ORDER BY minute', [spaceId]);
    return rows.map((r) => ({
      spaceId: String(r.space_id),
      minute: Number(r.minute),
      joins: Number(r.joins),
      queued: Number(r.queued),
      fromLine: Number(r.from_line),
      maxWaitMs: Number(r.max_wait_ms),
      replayPlays: Number(r.replay_plays),
      reactions: Number(r.reactions),
      peakListeners: Number(r.peak_listeners),
    }));
  }

  /**
   * Inserts unless the row is there: ON CONFLICT, not a caught error, since on PostgreSQL a failed
   * statement aborts the transaction it is part of (a mutation's later writes, its audit entry).
   */
  async #insertOnce(sql: string, params: readonly SqlValue[]): Promise<boolean> {
    try {
      return (await this.#db.run(`${sql} ON CONFLICT DO NOTHING`, params)) > 0;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }
}

/** Reports with the handles of both parties, as one table (so the conditions and orders below read the report's columns). */
const REPORTS = `SELECT * FROM (SELECT reports.*, rp.handle AS reporter_handle, sj.handle AS subject_handle FROM reports
  JOIN accounts rp ON rp.id = reports.reporter_id JOIN accounts sj ON sj.id = reports.subject_id) r`;

const PROFILE =
  'SELECT id, handle, display_name, bio, avatar_type, avatar_version, admin, suspended_at, created_at FROM accounts';

function toProfile(r: Row): Profile {
  return {
    accountId: String(r.id),
    handle: String(r.handle),
    displayName: nullableString(r.display_name),
    bio: nullableString(r.bio),
    // No picture (never set, or removed): 0, whatever the version reached.
    avatarVersion: typeof r.avatar_type === 'string' ? Number(r.avatar_version) : 0,
    admin: Number(r.admin) === 1,
    suspendedAt: nullableNumber(r.suspended_at),
    createdAt: Number(r.created_at),
  };
}

function toReport(r: Row): ReportRecord {
  return {
    id: String(r.id),
    reporterId: String(r.reporter_id),
    reporterHandle: String(r.reporter_handle),
    subjectHandle: String(r.subject_handle),
    kind: r.kind as ReportRecord['kind'],
    spaceId: nullableString(r.space_id),
    subjectId: String(r.subject_id),
    reason: String(r.reason),
    details: String(r.details),
    createdAt: Number(r.created_at),
    status: r.status as ReportRecord['status'],
    decision: nullableString(r.decision) as ReportDecision | null,
    statement: nullableString(r.statement),
    decidedBy: nullableString(r.decided_by),
    decidedAt: nullableNumber(r.decided_at),
  };
}
