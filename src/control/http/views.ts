import type { Account } from '../../storage/store.ts';
import type { SpaceSnapshot } from '../snapshots.ts';
import { roomStateOf, type Backstage, type RoomStateView } from '../../shared/room-state.ts';

/** JSON views of domain records: ISO times, public fields only. */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function accountView(a: Account) {
  return { id: a.id, handle: a.handle, createdAt: iso(a.createdAt) };
}

/**
 * What changes too often to live in the database: reaction counts (control) and speaking levels
 * (stage). Read when a view is rendered, so the public view is at most its cache age behind.
 */
export interface LiveSignals {
  reactionCounts(spaceId: string): { emoji: string; count: number }[];
  speaking(spaceId: string): readonly { id: string; levelDbfs: number; speaking: boolean }[];
  listeners(spaceId: string): number;
  recording(spaceId: string): { live: boolean; durationMs: number } | undefined;
  /** When a live Space with no host on stage will end by itself, if it will (ms since the epoch). */
  endsAt(spaceId: string): number | undefined;
  /**
   * The green room of a scheduled Space as its host stands there (a co-host or speaker waiting is
   * not the host), where this process holds the stage; undefined where it cannot know.
   */
  backstage(spaceId: string, hostId: string): Backstage | undefined;
}

export function spaceView(snap: SpaceSnapshot, live: LiveSignals) {
  const s = snap.space;
  const levels = new Map(live.speaking(s.id).map((l) => [l.id, l]));
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
    tags: [...s.tags],
    cohostsMayEnd: s.cohostsMayEnd,
    stage: snap.members.map((m) => ({
      id: m.accountId,
      handle: m.handle,
      role: m.role,
      muted: m.muted,
      mutedByHost: m.mutedByHost,
      speaking: levels.get(m.accountId)?.speaking ?? false,
      levelDbfs: levels.get(m.accountId)?.levelDbfs ?? -100,
    })),
    requestCount: snap.requestCount,
    reminderCount: snap.reminderCount,
    reactions: live.reactionCounts(s.id),
    listenerCount: live.listeners(s.id),
    replay: replayView(s.state, s.replayDeletedAt === null ? live.recording(s.id) : undefined),
    recording: s.state === 'live' && live.recording(s.id)?.live === true,
    endsAt: s.state === 'live' ? iso(live.endsAt(s.id) ?? null) : null,
    backstage: s.state === 'scheduled' ? (live.backstage(s.id, s.hostId) ?? null) : null,
    version: s.version,
  };
}

function replayView(state: string, recording: { live: boolean; durationMs: number } | undefined) {
  const available = state === 'ended' && recording !== undefined && !recording.live;
  return { available, durationSeconds: available ? Math.round(recording.durationMs / 1000) : null };
}

export function spaceEnvelope(snap: SpaceSnapshot, live: LiveSignals) {
  return { space: spaceView(snap, live) };
}

/** What listeners follow through the edge (`state.json`): the parts of the public view that change during a Space. */
export function roomStateView(view: ReturnType<typeof spaceView>): RoomStateView {
  return roomStateOf(view);
}
