import type { CaptionsChoices } from './captions-store.ts';
import type { CommunityStore } from './community-store.ts';

/**
 * The control plane's durable state, behind one interface. Two implementations share one SQL body
 * (`SqlStore`) over two drivers: SQLite (embedded default) and PostgreSQL (`DATABASE_URL`).
 * Times are milliseconds since the Unix epoch.
 */
export type SpaceState = 'scheduled' | 'live' | 'ended';
export type StageRole = 'host' | 'cohost' | 'speaker';

export interface Account {
  readonly id: string;
  readonly handle: string;
  readonly createdAt: number;
}

export interface AccountWithSecret extends Account {
  readonly passwordHash: string;
}

/** What a system account is for: accounts the service makes for itself, marked in the database. */
export type SystemRole = 'demo';

export interface SessionRecord {
  readonly tokenHash: string;
  readonly accountId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface SpaceRecord {
  readonly id: string;
  readonly hostId: string;
  readonly title: string;
  readonly state: SpaceState;
  readonly allowAnonymous: boolean;
  readonly scheduledStart: number | null;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly createdAt: number;
  readonly pinnedLink: string | null;
  /** When the host deleted its replay (the recording is gone; the Space stays), or null. */
  readonly replayDeletedAt: number | null;
  /** Topics, lower-case, at most a few (searchable). */
  readonly tags: readonly string[];
  /** The host's setting: may co-hosts end the Space. */
  readonly cohostsMayEnd: boolean;
  /** Bumped by every change a listener could see. */
  readonly version: number;
}

/** A clip: `startMs`..`endMs` of a Space's recording (its timeline, gaps included), made by an account. */
export interface ClipRecord {
  readonly id: string;
  readonly spaceId: string;
  readonly accountId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly createdAt: number;
}

export interface MemberRecord {
  readonly spaceId: string;
  readonly accountId: string;
  readonly role: StageRole;
  readonly muted: boolean;
  readonly mutedByHost: boolean;
  readonly joinedAt: number;
}

export interface MemberWithHandle extends MemberRecord {
  readonly handle: string;
}

export interface PendingRequest {
  readonly accountId: string;
  readonly handle: string;
  readonly createdAt: number;
}

export type SpacePatch = Partial<
  Pick<
    SpaceRecord,
    | 'title'
    | 'state'
    | 'scheduledStart'
    | 'startedAt'
    | 'endedAt'
    | 'pinnedLink'
    | 'allowAnonymous'
    | 'replayDeletedAt'
    | 'hostId'
    | 'tags'
    | 'cohostsMayEnd'
  >
>;
export type MemberPatch = Partial<Pick<MemberRecord, 'role' | 'muted' | 'mutedByHost'>>;

/** A per-Space relation kind that is just "this account, in this Space, since then". */
export type Relation = 'speak_requests' | 'reminders';

export interface SpaceQuery {
  readonly state?: SpaceState | undefined;
  /** Only the Spaces this account hosts. */
  readonly hostId?: string | undefined;
  /** Words that must each appear in the title or the host's handle or display name (case-insensitive). */
  readonly text?: string | undefined;
  /** Only Spaces with this topic. */
  readonly tag?: string | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** One ban: a Space and the subject removed from it (an account id, or an anonymous listener's `an_...`). */
export interface BanRecord {
  readonly spaceId: string;
  readonly subject: string;
}

export interface Store {
  ping(): Promise<void>;
  /** Profiles, follows, blocks, reports, the audit log, analytics: on this store's connection or transaction. */
  community(): CommunityStore;
  /** The hosts' live-captions toggles (`space_captions`). */
  captionsChoices(): CaptionsChoices;
  close(): Promise<void>;

  /**
   * Runs `fn` as one transaction that holds the Space's row lock (PostgreSQL `SELECT … FOR UPDATE`;
   * SQLite's single write lock), with a Store whose every call is part of it: all of it commits, or
   * none. This lock, not any in-process one, is what keeps two nodes from both taking the last seat.
   */
  inSpaceTransaction<T>(spaceId: string, fn: (tx: Store) => Promise<T>): Promise<T>;
  /**
   * Inside `inSpaceTransaction`: also holds the account's row lock to COMMIT (PostgreSQL; SQLite's
   * write lock covers it already), for a rule over all of one account's Spaces (live at once).
   */
  lockAccount(accountId: string): Promise<void>;

  /**
   * Returns undefined when the handle is taken (compared case-insensitively), or, for a system
   * account, when one with that role exists already.
   */
  createAccount(account: AccountWithSecret, system?: SystemRole): Promise<Account | undefined>;
  /** Spaces whose replay the host deleted (the sweep that removes what files remain). */
  deletedReplays(): Promise<string[]>;
  createClip(clip: ClipRecord): Promise<void>;
  getClip(id: string): Promise<ClipRecord | undefined>;
  getAccount(id: string): Promise<Account | undefined>;
  /** The account the service made for this role (never a user's account, whatever its handle). */
  findSystemAccount(role: SystemRole): Promise<Account | undefined>;
  findAccountByHandle(handle: string): Promise<AccountWithSecret | undefined>;

  createSession(session: SessionRecord): Promise<void>;
  findSession(tokenHash: string, nowMs: number): Promise<SessionRecord | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteExpiredSessions(nowMs: number): Promise<number>;

  /** Creates the Space and its host's stage membership together. */
  createSpace(space: SpaceRecord): Promise<void>;
  getSpace(id: string): Promise<SpaceRecord | undefined>;
  listSpaces(query: SpaceQuery): Promise<SpaceRecord[]>;
  /** Applies the patch and bumps the version; returns the new record or undefined if missing. */
  updateSpace(id: string, patch: SpacePatch): Promise<SpaceRecord | undefined>;

  listMembers(spaceId: string): Promise<MemberWithHandle[]>;
  getMember(spaceId: string, accountId: string): Promise<MemberRecord | undefined>;
  /** Adds a stage member; false if they already are one. */
  addMember(member: MemberRecord): Promise<boolean>;
  updateMember(spaceId: string, accountId: string, patch: MemberPatch): Promise<boolean>;
  removeMember(spaceId: string, accountId: string): Promise<boolean>;

  /** Adds a relation row; false if it already exists. */
  addRelation(kind: Relation, spaceId: string, accountId: string, nowMs: number): Promise<boolean>;
  removeRelation(kind: Relation, spaceId: string, accountId: string): Promise<boolean>;
  hasRelation(kind: Relation, spaceId: string, accountId: string): Promise<boolean>;
  countRelation(kind: Relation, spaceId: string): Promise<number>;
  /** The ids of the scheduled Spaces this account set reminders for, soonest first. */
  listRemindedSpaces(accountId: string, limit: number): Promise<string[]>;
  listRequests(spaceId: string): Promise<PendingRequest[]>;

  addInvitation(spaceId: string, accountId: string, invitedBy: string, nowMs: number): Promise<boolean>;
  hasInvitation(spaceId: string, accountId: string): Promise<boolean>;
  removeInvitation(spaceId: string, accountId: string): Promise<boolean>;

  /**
   * Bans a subject (an account, or an anonymous listener's `an_...` id) and, in the same
   * transaction, drops its membership, request and invitation.
   */
  ban(spaceId: string, accountId: string, bannedBy: string, nowMs: number): Promise<void>;
  /** Banned from this Space, or blocked by its host from all their Spaces. */
  isBanned(spaceId: string, accountId: string): Promise<boolean>;
  /** Everyone refused in this Space: its bans and its host's blocks. */
  listBanned(spaceId: string): Promise<string[]>;
  /** Every ban (and host block) in Spaces not yet ended (scheduled or live): what an edge must refuse after a restart. */
  listActiveBans(): Promise<BanRecord[]>;
}
