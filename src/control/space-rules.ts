import { AmphiError } from '../errors.ts';
import type { Account, MemberRecord, SpaceRecord, StageRole, Store } from '../storage/store.ts';
import type { SpaceSnapshot } from './snapshots.ts';

/**
 * Who may act on a Space, as checks that throw the refusal: one place for the rules every
 * mutation in `spaces.ts` applies, in the same order (who you are, may you, does the state allow it).
 */

const rank: Record<StageRole | 'listener', number> = { host: 3, cohost: 2, speaker: 1, listener: 0 };

/** Everything a decision about one actor in one Space needs. */
export interface Ctx {
  readonly snap: SpaceSnapshot;
  readonly space: SpaceRecord;
  readonly actor: Account;
  readonly me: MemberRecord | undefined;
  /** Inside a mutation: the store bound to its transaction (every read and write goes through it). */
  readonly store: Store;
}

export function requireRole(space: SpaceRecord, actor: Account, role: 'host'): void {
  if (role === 'host' && space.hostId !== actor.id) throw new AmphiError('HOST_ONLY');
}

export function requireModerator(ctx: Ctx): void {
  if (ctx.me === undefined || rank[ctx.me.role] < rank.cohost) throw new AmphiError('MODERATOR_ONLY');
}

export function requireOutranks(ctx: Ctx, target: { role: StageRole }): void {
  if (rank[ctx.me?.role ?? 'listener'] <= rank[target.role]) throw new AmphiError('OUTRANKED');
}

export function requireOnStage(snap: SpaceSnapshot, accountId: string): MemberRecord {
  const m = memberOf(snap, accountId);
  if (m === undefined) throw new AmphiError('NOT_ON_STAGE');
  return m;
}

export function requireNotEnded(space: SpaceRecord): void {
  if (space.state === 'ended') throw new AmphiError('SPACE_ENDED');
}

export function requireLive(space: SpaceRecord): void {
  requireNotEnded(space);
  if (space.state !== 'live') throw new AmphiError('SPACE_NOT_LIVE');
}

export function requireScheduled(space: SpaceRecord): void {
  if (space.state !== 'scheduled') throw new AmphiError('SPACE_NOT_SCHEDULED');
}

/** A scheduled start must be a representable time in the future. */
export function requireFutureStart(ms: number, now: number): void {
  if (!Number.isFinite(ms)) {
    throw new AmphiError('VALIDATION_FAILED', {
      details: [{ field: 'body/scheduledStart', problem: 'is not a representable time' }],
    });
  }
  if (ms <= now) throw new AmphiError('SCHEDULED_START_IN_PAST');
}

/**
 * An account's standing on the stage (see `Spaces.stageStanding`): its membership, or the refusal
 * (removed, ended, not a speaker, not live yet).
 */
export function standingOf(snap: SpaceSnapshot, accountId: string): MemberRecord {
  if (snap.banned.has(accountId)) throw new AmphiError('REMOVED_FROM_SPACE');
  const me = memberOf(snap, accountId);
  if (me === undefined) throw new AmphiError('SPEAKER_ONLY');
  if (snap.space.state === 'ended') throw new AmphiError('SPACE_ENDED');
  // Hosts and co-hosts may connect before going live, so the show starts the moment they press start.
  if (snap.space.state !== 'live' && me.role === 'speaker') throw new AmphiError('SPACE_NOT_LIVE');
  return me;
}

/** A caller's relation to one Space (`GET /api/spaces/:id/me`). */
export async function relationOf(snap: SpaceSnapshot, accountId: string, store: Store): Promise<MyRelation> {
  const spaceId = snap.space.id;
  const me = memberOf(snap, accountId);
  const [requestPending, invited, reminded] = await Promise.all([
    store.hasRelation('speak_requests', spaceId, accountId),
    store.hasInvitation(spaceId, accountId),
    store.hasRelation('reminders', spaceId, accountId),
  ]);
  const role = snap.banned.has(accountId) ? 'removed' : (me?.role ?? 'listener');
  return { role, muted: me?.muted ?? false, mutedByHost: me?.mutedByHost ?? false, requestPending, invited, reminded };
}

export function memberOf(snap: SpaceSnapshot, accountId: string): MemberRecord | undefined {
  return snap.members.find((m) => m.accountId === accountId);
}

export function countRole(snap: SpaceSnapshot, role: StageRole): number {
  return snap.members.filter((m) => m.role === role).length;
}

/** A caller's relation to one Space, as `GET /api/spaces/:id/me` reports it. */
export interface MyRelation {
  readonly role: StageRole | 'listener' | 'removed';
  readonly muted: boolean;
  readonly mutedByHost: boolean;
  readonly requestPending: boolean;
  readonly invited: boolean;
  readonly reminded: boolean;
}

/** An actor's context in a Space, refusing a removed user. */
export function contextOf(snap: SpaceSnapshot, actor: Account, store: Store): Ctx {
  if (snap.banned.has(actor.id)) throw new AmphiError('REMOVED_FROM_SPACE');
  return { snap, space: snap.space, actor, me: memberOf(snap, actor.id), store };
}
