import { TypedEmitter } from '../lib/typed-emitter.ts';
import type { StageRole } from '../storage/store.ts';

/**
 * What the control plane tells the other planes. The stage listens to tear down or mute media;
 * caches listen to drop stale snapshots. In the embedded mode this is in-process; in cluster mode the
 * same events cross a bus.
 */
export interface ControlEvents extends Record<string, unknown> {
  'space.changed': { spaceId: string };
  'space.started': { spaceId: string };
  'space.ended': { spaceId: string };
  /** The host deleted the replay: whoever stores the recording deletes it. */
  'recording.deleted': { spaceId: string };
  'member.role': { spaceId: string; accountId: string; role: StageRole | 'listener' };
  'member.muted': { spaceId: string; accountId: string; muted: boolean; byHost: boolean };
  'member.removed': { spaceId: string; accountId: string };
  /** A removal lifted (an unban, a host unblocking): edges accept the subject's new tokens again. */
  'member.unbanned': { spaceId: string; accountId: string };
}

export class ControlBus extends TypedEmitter<ControlEvents> {}
