/**
 * The room-state document listeners follow through the edge (`/l/<token>/<space>/state.json?v=N`):
 * what a listener sees change during a Space, identical for every listener (no per-user data), so
 * one copy serves them all. The server builds it (`roomStateView` in `control/http/views.ts`, plus the
 * shedding level); the web app reads it. No imports: shared by Node and the browser.
 */

export type SpaceStatus = 'scheduled' | 'live' | 'ended';

/** Someone on stage, as listeners see them: who, and whether they are heard right now. */
export interface RoomStateSpeaker {
  readonly id: string;
  readonly handle: string;
  readonly role: 'host' | 'cohost' | 'speaker';
  readonly muted: boolean;
  readonly mutedByHost: boolean;
  /** Heard in the program in the last ~400 ms (the level itself is left out: it changes every tick). */
  readonly speaking: boolean;
}

/** The parts of the public Space view that change while it runs. */
export interface RoomStateView {
  readonly status: SpaceStatus;
  readonly title: string;
  readonly stage: readonly RoomStateSpeaker[];
  readonly listenerCount: number;
  readonly reactions: readonly { readonly emoji: string; readonly count: number }[];
  readonly pinnedLink: string | null;
  readonly replay: { readonly available: boolean; readonly durationSeconds: number | null };
  /** Set while no host or co-host is on stage: when the Space ends by itself unless one returns (ISO time). */
  readonly endsAt: string | null;
  /** Being recorded right now (a live Space whose recording is under way): listeners are told so. */
  readonly recording: boolean;
  /** When a scheduled Space starts (ISO time; the host may revise it until going live), or null. */
  readonly scheduledStart: string | null;
  /** What the waiting audience sees backstage before the start; null once live, or where unknown. */
  readonly backstage: Backstage | null;
}

/** The doors' honest status, before the start: is the host there, and has their microphone been heard. */
export interface Backstage {
  /** A host or co-host is connected to the stage, waiting to go live. */
  readonly hostConnected: boolean;
  /** The stage has heard their microphone (sound, not silence). */
  readonly micChecked: boolean;
}

/** The document as served: the room state and how much the server is shedding now. */
export interface RoomStateDocument extends RoomStateView {
  /**
   * The shedding level (0 = nothing shed). Above 0 the origin re-reads the room state less often, so
   * changes (reactions, the listener count) reach listeners later; players may say so.
   */
  readonly degradation: number;
}

/** The body of `state.json`: `version` grows with every change of `state` (per origin process). */
export interface RoomStateResponse {
  readonly version: number;
  readonly state: RoomStateDocument;
}

/** The fields of a public Space view the room state is made of (any view with more fields fits). */
export type SpaceViewFields = Omit<RoomStateView, 'status'> & { readonly state: SpaceStatus };

/**
 * The room state of a public Space view: the server serves it, and the web app derives the same
 * from the Space it loaded before it plays, so the page reads one shape either way.
 */
export function roomStateOf(view: SpaceViewFields): RoomStateView {
  const { state, title, listenerCount, reactions, pinnedLink, replay, endsAt, recording, scheduledStart, backstage } = view;
  // Levels change every tick; listeners need who is speaking, so only the flag is in the document
  // (keeping levels made its version change on every poll and quadrupled the long-poll traffic).
  const stage = view.stage.map((m) => ({
    id: m.id,
    handle: m.handle,
    role: m.role,
    muted: m.muted,
    mutedByHost: m.mutedByHost,
    speaking: m.speaking,
  }));
  const room = { status: state, title, stage, listenerCount, reactions, pinnedLink, replay, endsAt, recording };
  return { ...room, scheduledStart, backstage };
}
