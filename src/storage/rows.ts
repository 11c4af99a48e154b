import type { Row, SqlValue } from './driver.ts';
import type { Account, MemberRecord, SpaceRecord, SpaceState } from './store.ts';

/** Rows to records and patches to SET clauses: the mapping between the SQL columns and the Store's types. */

export function flag(b: boolean): number {
  return b ? 1 : 0;
}

function nullableNumber(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

export function assignments<P extends object>(
  patch: P,
  columns: Record<keyof P, string>,
): { sets: string[]; values: SqlValue[] } {
  const sets: string[] = [];
  const values: SqlValue[] = [];
  for (const [key, value] of Object.entries(patch) as [keyof P, unknown][]) {
    if (value === undefined) continue;
    sets.push(`${columns[key]} = ?`);
    values.push(typeof value === 'boolean' ? flag(value) : (value as SqlValue));
  }
  return { sets, values };
}

export function toAccount(r: Row): Account {
  return { id: String(r.id), handle: String(r.handle), createdAt: Number(r.created_at) };
}

export function toSpace(r: Row): SpaceRecord {
  return {
    id: String(r.id),
    hostId: String(r.host_id),
    title: String(r.title),
    state: r.state as SpaceState,
    allowAnonymous: Number(r.allow_anonymous) === 1,
    scheduledStart: nullableNumber(r.scheduled_start),
    startedAt: nullableNumber(r.started_at),
    endedAt: nullableNumber(r.ended_at),
    createdAt: Number(r.created_at),
    pinnedLink: typeof r.pinned_link === 'string' ? r.pinned_link : null,
    replayDeletedAt: nullableNumber(r.replay_deleted_at),
    tags: typeof r.tags === 'string' ? r.tags.split(' ').filter(Boolean) : [],
    cohostsMayEnd: Number(r.cohosts_may_end) === 1,
    version: Number(r.version),
  };
}

export function toMember(r: Row): MemberRecord {
  return {
    spaceId: String(r.space_id),
    accountId: String(r.account_id),
    role: r.role as MemberRecord['role'],
    muted: Number(r.muted) === 1,
    mutedByHost: Number(r.muted_by_host) === 1,
    joinedAt: Number(r.joined_at),
  };
}
