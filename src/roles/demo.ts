import type { ControlPlane } from '../control/plane.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { ListenerFailures } from '../lib/typed-emitter.ts';
import { DemoSpeaker, readFrames } from '../stage/demo-speaker.ts';
import type { StagePlane } from '../stage/plane.ts';
import type { Account, Store } from '../storage/store.ts';

const DEMO_HANDLE = 'amphi_demo';
const CLIP = new URL('../../assets/demo-voice.opus-frames', import.meta.url);

/**
 * The demo Space a newcomer hears within seconds of the first `npm start`: a live Space hosted by a
 * built-in account, fed by a recorded voice clip in a loop. `demo.enabled: false` switches it off.
 */
export async function startDemo(deps: {
  plane: ControlPlane;
  stage: StagePlane;
  store: Store;
  clock: Clock;
  log: Logger;
  failures: ListenerFailures;
  title: string;
  /** Keeps only a window of the demo's recording: it never ends. */
  keepRecordingWindow: (spaceId: string) => void;
  /** Cluster mode: whether this media node produces the demo Space (another may hold its lease). */
  owns?: (spaceId: string) => Promise<boolean>;
}): Promise<{ spaceId: string; close(): void }> {
  const { plane, stage, store, clock, log } = deps;
  const { account, spaceId } = await demoSpace(plane, store, log, deps.title);
  if (deps.owns !== undefined && !(await deps.owns(spaceId))) {
    log.info({ spaceId }, 'demo Space produced by another media node');
    return { spaceId, close: () => {} };
  }
  deps.keepRecordingWindow(spaceId);
  const speaker = new DemoSpeaker(readFrames(CLIP), clock, deps.failures.for('demo.speaker'));
  stage.openRoom(spaceId).attach(account.id, speaker, false);
  log.info({ spaceId }, 'demo Space live');
  return { spaceId, close: () => speaker.close('demo stopped') };
}

/**
 * The demo's host (the system account marked `demo`, never a user's account that happens to hold
 * the handle) and its live Space: the one it already hosts, so restarts reuse it and stay inside
 * the per-account quotas, or a new one.
 */
export async function demoSpace(
  plane: ControlPlane,
  store: Store,
  log: Logger,
  title: string,
): Promise<{ account: Account; spaceId: string }> {
  const { account, handleWasTaken } = await plane.accounts.systemAccount('demo', DEMO_HANDLE);
  if (handleWasTaken) {
    log.warn(
      { handle: DEMO_HANDLE, demoHandle: account.handle },
      'the demo handle belongs to an account the demo did not make (registered before it was reserved?): not using it, the demo is hosted by demoHandle',
    );
  }
  const [live] = await store.listSpaces({ state: 'live', hostId: account.id, limit: 1, offset: 0 });
  if (live !== undefined) return { account, spaceId: live.id };
  const spaceId = (await plane.spaces.create(account, { title })).space.id;
  await plane.spaces.start(account, spaceId);
  return { account, spaceId };
}
