/**
 * Hosts, moderators and operators: profiles, follows, host-level blocks, reports, the audit log, the
 * audience and the per-minute figures behind a host's analytics. Same database as the `Store` (and,
 * taken from a transaction's store, the same transaction). Times are milliseconds since the epoch.
 */
import type { TranscriptStore } from './transcript-store.ts';

export interface Profile {
  readonly accountId: string;
  readonly handle: string;
  readonly displayName: string | null;
  readonly bio: string | null;
  /** 0: no avatar; bumped by every change (the image's URL carries it, so caches never show an old one). */
  readonly avatarVersion: number;
  readonly admin: boolean;
  readonly suspendedAt: number | null;
  readonly createdAt: number;
}

export interface Avatar {
  readonly type: string;
  readonly data: Buffer;
  readonly version: number;
}

export type ReportKind = 'space' | 'replay' | 'user';
export type ReportDecision = 'dismiss' | 'remove_replay' | 'end_space' | 'suspend_account';

export interface ReportRecord {
  readonly id: string;
  readonly reporterId: string;
  /** Read with the report (never stored): the handles of its two parties. */
  readonly reporterHandle?: string;
  readonly subjectHandle?: string;
  readonly kind: ReportKind;
  readonly spaceId: string | null;
  /** The reported party: the user, or the host of the reported Space or replay. */
  readonly subjectId: string;
  readonly reason: string;
  readonly details: string;
  readonly createdAt: number;
  readonly status: 'open' | 'decided';
  readonly decision: ReportDecision | null;
  /** The statement of reasons the reported party is given (and the reporter sees). */
  readonly statement: string | null;
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
}

export interface AuditEntry {
  readonly id: string;
  /** The Space acted on; null for an act on an account (a block, a suspension). */
  readonly spaceId: string | null;
  readonly actorId: string;
  readonly action: string;
  readonly targetId: string | null;
  readonly detail: string | null;
  readonly at: number;
}

export interface AuditView extends AuditEntry {
  readonly actorHandle: string;
  /** The target's handle when the target is an account. */
  readonly targetHandle: string | null;
}

/** One minute of one Space, as counted by the control nodes (each adds its own). */
export interface MinuteStats {
  readonly spaceId: string;
  /** The minute's start. */
  readonly minute: number;
  /** Listener tokens issued for the first time (not renewals), live or replay. */
  readonly joins: number;
  /** Places in line handed out (the waiting room). */
  readonly queued: number;
  /** Tickets exchanged for a listener token: waited and got in. */
  readonly fromLine: number;
  readonly maxWaitMs: number;
  readonly replayPlays: number;
  readonly reactions: number;
  /** The most distinct listeners seen at once in the minute (a maximum, not a sum). */
  readonly peakListeners: number;
}

export interface AudienceMember {
  readonly accountId: string;
  readonly handle: string;
  readonly displayName: string | null;
  readonly avatarVersion: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface Page {
  readonly limit: number;
  readonly offset: number;
}

export interface CommunityStore extends TranscriptStore {
  getProfile(accountId: string): Promise<Profile | undefined>;
  findProfile(handle: string): Promise<Profile | undefined>;
  updateProfile(accountId: string, patch: { displayName?: string | null; bio?: string | null }): Promise<void>;
  /** Sets (or, with null, removes) the avatar; bumps its version. */
  setAvatar(accountId: string, avatar: { type: string; data: Buffer } | null): Promise<void>;
  getAvatar(accountId: string): Promise<Avatar | undefined>;
  setAdmin(accountId: string, admin: boolean): Promise<void>;
  /** Suspends (a time) or reinstates (null); a suspension also ends every session of the account. */
  setSuspended(accountId: string, atMs: number | null): Promise<void>;

  follow(followerId: string, hostId: string, nowMs: number): Promise<boolean>;
  unfollow(followerId: string, hostId: string): Promise<boolean>;
  isFollowing(followerId: string, hostId: string): Promise<boolean>;
  countFollowers(hostId: string): Promise<number>;
  /** Reminders for every follower of the host on this Space (a new Space by a followed host). */
  remindFollowers(spaceId: string, hostId: string, nowMs: number): Promise<number>;
  /** Reminders for the follower on each of the host's scheduled Spaces (a new follow). */
  remindOfScheduled(followerId: string, hostId: string, nowMs: number): Promise<number>;

  block(hostId: string, accountId: string, nowMs: number): Promise<boolean>;
  unblock(hostId: string, accountId: string): Promise<boolean>;
  listBlocks(hostId: string): Promise<{ accountId: string; handle: string; createdAt: number }[]>;
  /** Lifts a ban from one Space; false if there was none. */
  unban(spaceId: string, subject: string): Promise<boolean>;

  createReport(report: ReportRecord): Promise<void>;
  getReport(id: string): Promise<ReportRecord | undefined>;
  listReports(query: Page & { status?: 'open' | 'decided' | undefined }): Promise<ReportRecord[]>;
  /** Decides an open report; false if it was decided already (two admins at once: the first wins). */
  decideReport(
    id: string,
    d: { decision: ReportDecision; statement: string; decidedBy: string; decidedAt: number },
  ): Promise<boolean>;
  /** Decided reports about this account (its statements of reasons), newest first. */
  listStatements(subjectId: string, page: Page): Promise<ReportRecord[]>;
  /** Reports this account made, newest first. */
  listReportsBy(reporterId: string, page: Page): Promise<ReportRecord[]>;

  addAudit(entry: AuditEntry): Promise<void>;
  /** Newest first; one Space's, or (spaceId undefined) everything. */
  listAudit(query: Page & { spaceId?: string | undefined }): Promise<AuditView[]>;

  /** Notes listeners (an account id or an anonymous `an_…` subject): first and last time seen. */
  recordAudience(rows: readonly { spaceId: string; subject: string; atMs: number }[]): Promise<void>;
  /** Signed-in listeners, most recently seen first; `q` matches handle or display name. */
  listAudience(spaceId: string, query: Page & { q?: string | undefined }): Promise<AudienceMember[]>;
  countAudience(spaceId: string): Promise<{ accounts: number; anonymous: number }>;
  /** Adds each row to its minute: counts add up, maxima take the larger. */
  addStats(rows: readonly MinuteStats[]): Promise<void>;
  listStats(spaceId: string): Promise<MinuteStats[]>;
}
