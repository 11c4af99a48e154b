import type { Fleet } from '../cluster/fleet.ts';
import type { LiveSignals } from '../control/http/views.ts';
import type { Edge } from '../edge/edge.ts';
import type { OriginPlane } from '../origin/plane.ts';
import type { StagePlane } from '../stage/plane.ts';
import type { controlServices } from './control.ts';

/** What the public view reads from the planes when it is rendered: reactions, speaking, listeners, recordings, the green room. */
export function liveSignals(p: {
  services: ReturnType<typeof controlServices>;
  stage: StagePlane;
  origin: OriginPlane;
  edge: Edge;
  fleet: Fleet | undefined;
  clustered: boolean;
}): LiveSignals {
  const { services, stage, origin, edge, fleet } = p;
  return {
    reactionCounts: (spaceId) => services.plane.reactions.counts(spaceId),
    speaking: (spaceId) => stage.levels(spaceId),
    listeners: (spaceId) => fleet?.listeners(spaceId) ?? edge.listeners(spaceId),
    recording: (spaceId) => origin.recording(spaceId),
    endsAt: (spaceId) => services.abandonment?.endsAt(spaceId),
    backstage: (spaceId, hostId) => {
      const waiting = stage.backstage(spaceId);
      // In a cluster the host may wait on another media node: an empty green room here says nothing.
      if (waiting.length === 0 && p.clustered) return undefined;
      // Only the host's own sessions say "the host is backstage": a co-host warming up is not them.
      const host = waiting.filter((w) => w.accountId === hostId && w.connected);
      return { hostConnected: host.length > 0, micChecked: host.some((w) => w.heard) };
    },
  };
}
