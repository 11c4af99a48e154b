import type { Account } from '../../storage/store.ts';
import type { Reactions } from '../reactions.ts';
import type { SpaceSnapshot } from '../snapshots.ts';

/** JSON views of domain records: ISO times, public fields only. */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function accountView(a: Account) {
  return { id: a.id, handle: a.handle, createdAt: iso(a.createdAt) };
}

export function spaceView(snap: SpaceSnapshot, reactions: Pick<Reactions, 'counts'>) {
  const s = snap.space;
  return {
    id: s.id,
    title: s.title,
    state: s.state,
    allowAnonymous: s.allowAnonymous,
    host: { id: s.hostId, handle: snap.hostHandle },
    scheduledStart: iso(s.scheduledStart),
    startedAt: iso(s.startedAt),
    endedAt: iso(s.endedAt),
    createdAt: iso(s.createdAt),
    pinnedLink: s.pinnedLink,
    stage: snap.members.map((m) => ({
      id: m.accountId,
      handle: m.handle,
      role: m.role,
      muted: m.muted,
      mutedByHost: m.mutedByHost,
    })),
    requestCount: snap.requestCount,
    reminderCount: snap.reminderCount,
    reactions: reactions.counts(s.id),
    version: s.version,
  };
}

export function spaceEnvelope(snap: SpaceSnapshot, reactions: Pick<Reactions, 'counts'>) {
  return { space: spaceView(snap, reactions) };
}
