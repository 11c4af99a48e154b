import { AmphiError, rateLimited } from '../errors.ts';
import { newId, sortableId } from '../lib/ids.ts';
import type { Limiter } from '../lib/token-bucket.ts';
import type { Logger } from '../lib/logger.ts';
import type { AuditView, Page, Profile, ReportDecision, ReportKind, ReportRecord } from '../storage/community-store.ts';
import type { Account } from '../storage/store.ts';
import type { Spaces } from './spaces.ts';
import { requireVisibleText } from './text.ts';

export interface CommunityOptions {
  readonly spaces: Spaces;
  readonly log: Logger;
  /** Reports made per account. */
  readonly reportLimiter: Limiter;
  readonly avatarMaxBytes: number;
  /** Drops this node's cached sessions (a suspension takes effect at once here, within 5 s elsewhere). */
  readonly forgetSessions: () => void;
}

/** The picture types accepted, by their first bytes (the Content-Type must agree). */
const imageMagic: readonly { type: string; test: (b: Buffer) => boolean }[] = [
  { type: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/webp', test: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP' },
];

/** The image type of these bytes if they are a picture we take and the declared type agrees, else undefined. */
export function pictureType(bytes: Buffer, declared: string | undefined): string | undefined {
  const found = imageMagic.find((m) => bytes.length >= 12 && m.test(bytes));
  if (found === undefined) return undefined;
  return declared?.split(';')[0]?.trim().toLowerCase() === found.type ? found.type : undefined;
}

export interface NewReport {
  readonly kind: ReportKind;
  readonly spaceId?: string | undefined;
  readonly accountId?: string | undefined;
  readonly reason: string;
  readonly details?: string | undefined;
}

/**
 * People and trust: profiles (name, bio, picture), following hosts, reports and what operators decide
 * about them (with the statement of reasons the reported party gets), and the operator-wide audit log.
 * Operators are accounts marked `admin` (`amphi admin grant <handle>`).
 */
export class Community {
  readonly #o: CommunityOptions;

  constructor(options: CommunityOptions) {
    this.#o = options;
  }

  get #store() {
    return this.#o.spaces.store.community();
  }

  async profile(handle: string): Promise<Profile> {
    const p = await this.#store.findProfile(handle);
    if (p === undefined) throw new AmphiError('USER_NOT_FOUND');
    return p;
  }

  async updateProfile(actor: Account, patch: { displayName?: string | null; bio?: string | null }): Promise<Profile> {
    const clean = (field: string, v: string | null | undefined) => {
      if (v === undefined || v === null) return v;
      const t = v.trim();
      if (t === '') return null;
      requireVisibleText(field, t);
      return t;
    };
    await this.#store.updateProfile(actor.id, {
      displayName: clean('body/displayName', patch.displayName),
      bio: clean('body/bio', patch.bio),
    });
    return (await this.#store.getProfile(actor.id))!;
  }

  async setAvatar(actor: Account, bytes: Buffer | null, declaredType: string | undefined): Promise<Profile> {
    if (bytes === null) {
      await this.#store.setAvatar(actor.id, null);
    } else {
      const type = pictureType(bytes, declaredType);
      if (type === undefined || bytes.length > this.#o.avatarMaxBytes) throw new AmphiError('AVATAR_REFUSED');
      await this.#store.setAvatar(actor.id, { type, data: bytes });
    }
    return (await this.#store.getProfile(actor.id))!;
  }

  async avatar(handle: string): Promise<{ type: string; data: Buffer; version: number }> {
    const p = await this.profile(handle);
    const a = p.avatarVersion === 0 ? undefined : await this.#store.getAvatar(p.accountId);
    if (a === undefined) throw new AmphiError('AVATAR_NOT_FOUND');
    return a;
  }

  /** Follows a host: a reminder for each Space they have scheduled now, and for each they schedule later. */
  async follow(actor: Account, handle: string, on: boolean): Promise<{ following: boolean; followers: number }> {
    const host = await this.profile(handle);
    if (on && host.accountId !== actor.id) {
      if (await this.#store.follow(actor.id, host.accountId, this.#o.spaces.now())) {
        await this.#store.remindOfScheduled(actor.id, host.accountId, this.#o.spaces.now());
      }
    } else if (!on) {
      await this.#store.unfollow(actor.id, host.accountId);
    }
    return { following: on && host.accountId !== actor.id, followers: await this.#store.countFollowers(host.accountId) };
  }

  async following(actor: Account | undefined, hostId: string): Promise<{ following: boolean; followers: number }> {
    const [following, followers] = await Promise.all([
      actor === undefined ? false : this.#store.isFollowing(actor.id, hostId),
      this.#store.countFollowers(hostId),
    ]);
    return { following, followers };
  }

  /** A report about a Space, its replay, or a user. The reported party is the user, or the Space's host. */
  async report(actor: Account, r: NewReport): Promise<ReportRecord> {
    const details = (r.details ?? '').trim();
    if (details !== '') requireVisibleText('body/details', details);
    let subjectId: string;
    let spaceId: string | null = null;
    if (r.kind === 'user') {
      if (r.accountId === undefined || (await this.#o.spaces.store.getAccount(r.accountId)) === undefined)
        throw new AmphiError('ACCOUNT_NOT_FOUND');
      subjectId = r.accountId;
    } else {
      if (r.spaceId === undefined) throw new AmphiError('SPACE_NOT_FOUND');
      const { space } = await this.#o.spaces.snapshot(r.spaceId);
      if (r.kind === 'replay' && (space.state !== 'ended' || space.replayDeletedAt !== null))
        throw new AmphiError('REPORT_TARGET_INVALID');
      subjectId = space.hostId;
      spaceId = space.id;
    }
    if (subjectId === actor.id) throw new AmphiError('REPORT_TARGET_INVALID');
    const taken = await this.#o.reportLimiter.take(actor.id);
    if (!taken.ok) throw rateLimited(taken.retryAfterMs);
    const report: ReportRecord = {
      id: newId('rp'),
      reporterId: actor.id,
      kind: r.kind,
      spaceId,
      subjectId,
      reason: r.reason,
      details,
      createdAt: this.#o.spaces.now(),
      status: 'open',
      decision: null,
      statement: null,
      decidedBy: null,
      decidedAt: null,
    };
    await this.#store.createReport(report);
    this.#o.log.info({ reportId: report.id, kind: r.kind, spaceId }, 'report received');
    return report;
  }

  async requireAdmin(actor: Account): Promise<void> {
    const p = await this.#store.getProfile(actor.id);
    if (p?.admin !== true) throw new AmphiError('ADMIN_ONLY');
  }

  async reports(actor: Account, query: Page & { status?: 'open' | 'decided' | undefined }): Promise<ReportRecord[]> {
    await this.requireAdmin(actor);
    return this.#store.listReports(query);
  }

  /**
   * An operator's decision, applied, then recorded with its statement of reasons (the reported party
   * reads it in their notices). A decision that cannot apply to the report is refused before anything.
   */
  async decide(actor: Account, reportId: string, decision: ReportDecision, statement: string): Promise<ReportRecord> {
    await this.requireAdmin(actor);
    requireVisibleText('body/statement', statement.trim());
    const report = await this.#store.getReport(reportId);
    if (report === undefined) throw new AmphiError('REPORT_NOT_FOUND');
    if (report.status !== 'open') throw new AmphiError('REPORT_DECIDED');
    const spaces = this.#o.spaces;
    if ((decision === 'remove_replay' || decision === 'end_space') && report.spaceId === null)
      throw new AmphiError('DECISION_NOT_APPLICABLE');
    if (decision === 'end_space') await spaces.endByOperator(actor, report.spaceId!);
    if (decision === 'remove_replay') await spaces.deleteReplayByOperator(actor, report.spaceId!);
    if (decision === 'suspend_account') await this.#suspend(actor, report.subjectId);
    const decided = { decision, statement: statement.trim(), decidedBy: actor.id, decidedAt: spaces.now() };
    if (!(await this.#store.decideReport(reportId, decided))) throw new AmphiError('REPORT_DECIDED');
    await this.#store.addAudit({
      id: sortableId('au', decided.decidedAt),
      spaceId: report.spaceId,
      actorId: actor.id,
      action: `report_${decision}`,
      targetId: report.subjectId,
      detail: reportId,
      at: decided.decidedAt,
    });
    this.#o.log.info({ reportId, decision, by: actor.id }, 'report decided');
    return (await this.#store.getReport(reportId))!;
  }

  /** Statements of reasons about the caller (decisions that restricted them), and outcomes of their reports. */
  async notices(actor: Account, page: Page): Promise<{ statements: ReportRecord[]; myReports: ReportRecord[] }> {
    const [statements, myReports] = await Promise.all([
      this.#store.listStatements(actor.id, page),
      this.#store.listReportsBy(actor.id, page),
    ]);
    return { statements, myReports };
  }

  async operatorAudit(actor: Account, page: Page): Promise<AuditView[]> {
    await this.requireAdmin(actor);
    return this.#store.listAudit(page);
  }

  /** Suspends an account: signed out everywhere, no sign-in, its live Spaces ended. */
  async #suspend(actor: Account, accountId: string): Promise<void> {
    const spaces = this.#o.spaces;
    await this.#store.setSuspended(accountId, spaces.now());
    this.#o.forgetSessions();
    const live = await spaces.store.listSpaces({ hostId: accountId, state: 'live', limit: 1000, offset: 0 });
    for (const s of live) await spaces.endByOperator(actor, s.id);
  }
}
