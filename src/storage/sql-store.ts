import { isUniqueViolation, type Row, type SqlDb, type SqlDriver, type SqlRunner, type SqlValue } from './driver.ts';
import { migrate } from './migrations.ts';
import { SqlCaptionsChoices } from './captions-store.ts';
import type { NotifyStore } from './notify-store.ts';
import { SqlNotifyStore } from './sql-notify-store.ts';
import type { CommunityStore } from './community-store.ts';
import { SqlCommunityStore } from './sql-community-store.ts';
import { spaceQuery, tagColumn } from './space-query.ts';
import { assignments, flag, toAccount, toMember, toSpace } from './rows.ts';
import type {
  Account,
  ClipRecord,
  AccountWithSecret,
  BanRecord,
  MemberPatch,
  MemberRecord,
  MemberWithHandle,
  PendingRequest,
  Relation,
  SessionRecord,
  SpacePatch,
  SpaceQuery,
  SpaceRecord,
  Store,
  SystemRole,
} from './store.ts';

const spaceColumns: Record<keyof SpacePatch, string> = {
  title: 'title',
  state: 'state',
  scheduledStart: 'scheduled_start',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  pinnedLink: 'pinned_link',
  allowAnonymous: 'allow_anonymous',
  replayDeletedAt: 'replay_deleted_at',
  hostId: 'host_id',
  tags: 'tags',
  cohostsMayEnd: 'cohosts_may_end',
};
const memberColumns: Record<keyof MemberPatch, string> = { role: 'role', muted: 'muted', mutedByHost: 'muted_by_host' };

/** A transaction's runner as a `SqlDb`: a transaction opened inside it is the same transaction. */
function joined(tx: SqlRunner): SqlDb {
  return { all: (sql, params) => tx.all(sql, params), run: (sql, params) => tx.run(sql, params), transaction: (fn) => fn(tx) };
}

/** The one Store implementation; the driver decides whether it is SQLite or PostgreSQL. */
export class SqlStore implements Store {
  readonly #driver: SqlDriver;
  readonly #db: SqlDb;

  private constructor(driver: SqlDriver, db: SqlDb = driver) {
    this.#driver = driver;
    this.#db = db;
  }

  /** Opens the store and applies pending migrations. */
  static async open(driver: SqlDriver, nowMs: number): Promise<SqlStore> {
    try {
      await migrate(driver, nowMs);
    } catch (error) {
      await driver.close();
      throw error;
    }
    return new SqlStore(driver);
  }

  community(): CommunityStore {
    return new SqlCommunityStore(this.#db);
  }

  captionsChoices(): SqlCaptionsChoices {
    return new SqlCaptionsChoices(this.#db);
  }
  /** Notifications' tables (contacts, webhooks, the outbox) on the same database. */
  notifications(): NotifyStore {
    return new SqlNotifyStore(this.#db);
  }

  get dialect(): SqlDriver['dialect'] {
    return this.#driver.dialect;
  }

  async lockAccount(accountId: string): Promise<void> {
    if (this.#driver.dialect === 'postgres') await this.#db.all('SELECT id FROM accounts WHERE id = ? FOR UPDATE', [accountId]);
  }

  inSpaceTransaction<T>(spaceId: string, fn: (tx: Store) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (tx) => {
      // PostgreSQL: the Space's row lock, held to COMMIT; another node's mutation of this Space waits
      // here. SQLite: BEGIN IMMEDIATE already holds the database's one write lock.
      const lock = this.#driver.dialect === 'postgres' ? ' FOR UPDATE' : '';
      await tx.all(`SELECT id FROM spaces WHERE id = ?${lock}`, [spaceId]);
      return fn(new SqlStore(this.#driver, joined(tx)));
    });
  }

  async ping(): Promise<void> {
    await this.#db.all('SELECT 1 AS ok');
  }

  close(): Promise<void> {
    return this.#driver.close();
  }

  async createAccount(a: AccountWithSecret, system?: SystemRole): Promise<Account | undefined> {
    try {
      await this.#db.run(
        'INSERT INTO accounts (id, handle, handle_key, password_hash, created_at, system_role) VALUES (?, ?, ?, ?, ?, ?)',
        [a.id, a.handle, a.handle.toLowerCase(), a.passwordHash, a.createdAt, system ?? null],
      );
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
    return { id: a.id, handle: a.handle, createdAt: a.createdAt };
  }

  async deletedReplays(): Promise<string[]> {
    const rows = await this.#db.all('SELECT id FROM spaces WHERE replay_deleted_at IS NOT NULL ORDER BY replay_deleted_at, id');
    return rows.map((r) => String(r.id));
  }

  async createClip(c: ClipRecord): Promise<void> {
    await this.#db.run('INSERT INTO clips (id, space_id, account_id, start_ms, end_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      c.id,
      c.spaceId,
      c.accountId,
      c.startMs,
      c.endMs,
      c.createdAt,
    ]);
  }

  async getClip(id: string): Promise<ClipRecord | undefined> {
    const r = await this.#one('SELECT * FROM clips WHERE id = ?', [id]);
    if (r === undefined) return undefined;
    return {
      id: String(r.id),
      spaceId: String(r.space_id),
      accountId: String(r.account_id),
      startMs: Number(r.start_ms),
      endMs: Number(r.end_ms),
      createdAt: Number(r.created_at),
    };
  }

  async getAccount(id: string): Promise<Account | undefined> {
    const row = await this.#one('SELECT id, handle, created_at FROM accounts WHERE id = ?', [id]);
    return row && toAccount(row);
  }

  async findSystemAccount(role: SystemRole): Promise<Account | undefined> {
    const row = await this.#one('SELECT id, handle, created_at FROM accounts WHERE system_role = ?', [role]);
    return row && toAccount(row);
  }

  async findAccountByHandle(handle: string): Promise<AccountWithSecret | undefined> {
    const row = await this.#one('SELECT id, handle, created_at, password_hash FROM accounts WHERE handle_key = ?', [
      handle.toLowerCase(),
    ]);
    return row && { ...toAccount(row), passwordHash: String(row.password_hash) };
  }

  async createSession(s: SessionRecord): Promise<void> {
    await this.#db.run('INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)', [
      s.tokenHash,
      s.accountId,
      s.createdAt,
      s.expiresAt,
    ]);
  }

  async findSession(tokenHash: string, nowMs: number): Promise<SessionRecord | undefined> {
    const row = await this.#one(
      'SELECT token_hash, account_id, created_at, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?',
      [tokenHash, nowMs],
    );
    return (
      row && {
        tokenHash: String(row.token_hash),
        accountId: String(row.account_id),
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.#db.run('DELETE FROM sessions WHERE token_hash = ?', [tokenHash]);
  }

  deleteExpiredSessions(nowMs: number): Promise<number> {
    return this.#db.run('DELETE FROM sessions WHERE expires_at <= ?', [nowMs]);
  }

  async createSpace(s: SpaceRecord): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO spaces (id, host_id, title, state, allow_anonymous, scheduled_start, started_at, ended_at, created_at, pinned_link, version, tags, cohosts_may_end)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          s.id,
          s.hostId,
          s.title,
          s.state,
          flag(s.allowAnonymous),
          s.scheduledStart,
          s.startedAt,
          s.endedAt,
          s.createdAt,
          s.pinnedLink,
          s.version,
          tagColumn(s.tags),
          flag(s.cohostsMayEnd),
        ],
      );
      await tx.run(
        'INSERT INTO members (space_id, account_id, role, muted, muted_by_host, joined_at) VALUES (?, ?, ?, 0, 0, ?)',
        [s.id, s.hostId, 'host', s.createdAt],
      );
    });
  }

  async getSpace(id: string): Promise<SpaceRecord | undefined> {
    const row = await this.#one('SELECT * FROM spaces WHERE id = ?', [id]);
    return row && toSpace(row);
  }

  async listSpaces(q: SpaceQuery): Promise<SpaceRecord[]> {
    const { sql, params } = spaceQuery(q);
    return (await this.#db.all(sql, params)).map(toSpace);
  }

  async updateSpace(id: string, patch: SpacePatch): Promise<SpaceRecord | undefined> {
    const { tags, ...rest } = patch;
    const { sets, values } = assignments({ ...rest, ...(tags === undefined ? {} : { tags: tagColumn(tags) }) }, spaceColumns);
    const changed = await this.#db.run(`UPDATE spaces SET ${[...sets, 'version = version + 1'].join(', ')} WHERE id = ?`, [
      ...values,
      id,
    ]);
    return changed === 0 ? undefined : this.getSpace(id);
  }

  async listMembers(spaceId: string): Promise<MemberWithHandle[]> {
    const rows = await this.#db.all(
      `SELECT m.*, a.handle FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.space_id = ?
       ORDER BY CASE m.role WHEN 'host' THEN 0 WHEN 'cohost' THEN 1 ELSE 2 END, m.joined_at, m.account_id`,
      [spaceId],
    );
    return rows.map((r) => ({ ...toMember(r), handle: String(r.handle) }));
  }

  async getMember(spaceId: string, accountId: string): Promise<MemberRecord | undefined> {
    const row = await this.#one('SELECT * FROM members WHERE space_id = ? AND account_id = ?', [spaceId, accountId]);
    return row && toMember(row);
  }

  async addMember(m: MemberRecord): Promise<boolean> {
    return this.#insertIgnoringDuplicate(
      'INSERT INTO members (space_id, account_id, role, muted, muted_by_host, joined_at) VALUES (?, ?, ?, ?, ?, ?)',
      [m.spaceId, m.accountId, m.role, flag(m.muted), flag(m.mutedByHost), m.joinedAt],
    );
  }

  async updateMember(spaceId: string, accountId: string, patch: MemberPatch): Promise<boolean> {
    const { sets, values } = assignments(patch, memberColumns);
    if (sets.length === 0) return (await this.getMember(spaceId, accountId)) !== undefined;
    const changed = await this.#db.run(`UPDATE members SET ${sets.join(', ')} WHERE space_id = ? AND account_id = ?`, [
      ...values,
      spaceId,
      accountId,
    ]);
    return changed > 0;
  }

  async removeMember(spaceId: string, accountId: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM members WHERE space_id = ? AND account_id = ?', [spaceId, accountId])) > 0;
  }

  addRelation(kind: Relation, spaceId: string, accountId: string, nowMs: number): Promise<boolean> {
    return this.#insertIgnoringDuplicate(`INSERT INTO ${kind} (space_id, account_id, created_at) VALUES (?, ?, ?)`, [
      spaceId,
      accountId,
      nowMs,
    ]);
  }

  async removeRelation(kind: Relation, spaceId: string, accountId: string): Promise<boolean> {
    return (await this.#db.run(`DELETE FROM ${kind} WHERE space_id = ? AND account_id = ?`, [spaceId, accountId])) > 0;
  }

  async hasRelation(kind: Relation, spaceId: string, accountId: string): Promise<boolean> {
    return (
      (await this.#one(`SELECT 1 AS x FROM ${kind} WHERE space_id = ? AND account_id = ?`, [spaceId, accountId])) !== undefined
    );
  }

  async countRelation(kind: Relation, spaceId: string): Promise<number> {
    const row = await this.#one(`SELECT COUNT(*) AS n FROM ${kind} WHERE space_id = ?`, [spaceId]);
    return Number(row?.n ?? 0);
  }

  async listRemindedSpaces(accountId: string, limit: number): Promise<string[]> {
    const rows = await this.#db.all(
      `SELECT s.id FROM reminders r JOIN spaces s ON s.id = r.space_id
       WHERE r.account_id = ? AND s.state = 'scheduled' ORDER BY s.scheduled_start, s.id LIMIT ?`,
      [accountId, limit],
    );
    return rows.map((r) => String(r.id));
  }

  async listRequests(spaceId: string): Promise<PendingRequest[]> {
    const rows = await this.#db.all(
      `SELECT r.account_id, a.handle, r.created_at FROM speak_requests r JOIN accounts a ON a.id = r.account_id
       WHERE r.space_id = ? ORDER BY r.created_at, r.account_id`,
      [spaceId],
    );
    return rows.map((r) => ({ accountId: String(r.account_id), handle: String(r.handle), createdAt: Number(r.created_at) }));
  }

  addInvitation(spaceId: string, accountId: string, invitedBy: string, nowMs: number): Promise<boolean> {
    return this.#insertIgnoringDuplicate(
      'INSERT INTO invitations (space_id, account_id, invited_by, created_at) VALUES (?, ?, ?, ?)',
      [spaceId, accountId, invitedBy, nowMs],
    );
  }

  async hasInvitation(spaceId: string, accountId: string): Promise<boolean> {
    return (
      (await this.#one('SELECT 1 AS x FROM invitations WHERE space_id = ? AND account_id = ?', [spaceId, accountId])) !==
      undefined
    );
  }

  async removeInvitation(spaceId: string, accountId: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM invitations WHERE space_id = ? AND account_id = ?', [spaceId, accountId])) > 0;
  }

  async ban(spaceId: string, accountId: string, bannedBy: string, nowMs: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      for (const table of ['members', 'speak_requests', 'invitations']) {
        await tx.run(`DELETE FROM ${table} WHERE space_id = ? AND account_id = ?`, [spaceId, accountId]);
      }
      await tx.run(
        `INSERT INTO bans (space_id, account_id, banned_by, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (space_id, account_id) DO NOTHING`,
        [spaceId, accountId, bannedBy, nowMs],
      );
    });
  }

  async isBanned(spaceId: string, accountId: string): Promise<boolean> {
    const row = await this.#one(
      `SELECT 1 AS x FROM bans WHERE space_id = ? AND account_id = ?
       UNION ALL SELECT 1 AS x FROM host_blocks b JOIN spaces s ON s.host_id = b.host_id WHERE s.id = ? AND b.account_id = ?`,
      [spaceId, accountId, spaceId, accountId],
    );
    return row !== undefined;
  }

  async listBanned(spaceId: string): Promise<string[]> {
    const rows = await this.#db.all(
      `SELECT account_id FROM bans WHERE space_id = ?
       UNION SELECT b.account_id FROM host_blocks b JOIN spaces s ON s.host_id = b.host_id WHERE s.id = ? ORDER BY account_id`,
      [spaceId, spaceId],
    );
    return rows.map((r) => String(r.account_id));
  }

  async listActiveBans(): Promise<BanRecord[]> {
    const rows = await this.#db.all(
      `SELECT b.space_id, b.account_id FROM bans b JOIN spaces s ON s.id = b.space_id WHERE s.state <> 'ended'
       UNION SELECT s.id AS space_id, h.account_id FROM host_blocks h JOIN spaces s ON s.host_id = h.host_id WHERE s.state <> 'ended'
       ORDER BY space_id, account_id`,
    );
    return rows.map((r) => ({ spaceId: String(r.space_id), subject: String(r.account_id) }));
  }

  async #one(sql: string, params: readonly SqlValue[]): Promise<Row | undefined> {
    const rows = await this.#db.all(sql, params);
    return rows[0];
  }

  /**
   * Inserts unless the row is there: ON CONFLICT, not a caught error, since on PostgreSQL a failed
   * statement aborts the transaction it is part of (a mutation's later writes, its audit entry).
   */
  async #insertIgnoringDuplicate(sql: string, params: readonly SqlValue[]): Promise<boolean> {
    try {
      return (await this.#db.run(`${sql} ON CONFLICT DO NOTHING`, params)) > 0;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }
}
