import { AmphiError } from '../errors.ts';
import type { Account, MemberRecord, SpaceRecord, StageRole } from '../storage/store.ts';
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

export function memberOf(snap: SpaceSnapshot, accountId: string): MemberRecord | undefined {
  return snap.members.find((m) => m.accountId === accountId);
}

export function countRole(snap: SpaceSnapshot, role: StageRole): number {
  return snap.members.filter((m) => m.role === role).length;
}
