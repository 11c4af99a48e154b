import { randomBytes } from 'node:crypto';
import type { ControlPlane } from '../control/plane.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { ListenerFailures } from '../lib/typed-emitter.ts';
import { DemoSpeaker, readFrames } from '../stage/demo-speaker.ts';
import type { StagePlane } from '../stage/plane.ts';
import type { Store } from '../storage/store.ts';

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
}): Promise<{ spaceId: string; close(): void }> {
  const { plane, stage, store, clock, log } = deps;
  const existing = await store.findAccountByHandle(DEMO_HANDLE);
  const account =
    existing === undefined
      ? (await plane.accounts.signUp(DEMO_HANDLE, randomBytes(24).toString('base64url'))).account
      : { id: existing.id, handle: existing.handle, createdAt: existing.createdAt };
  const live = await store.listSpaces({ state: 'live', limit: 100, offset: 0 });
  let spaceId = live.find((s) => s.hostId === account.id)?.id;
  if (spaceId === undefined) {
    spaceId = (await plane.spaces.create(account, { title: deps.title })).space.id;
    await plane.spaces.start(account, spaceId);
  }
  deps.keepRecordingWindow(spaceId);
  const speaker = new DemoSpeaker(readFrames(CLIP), clock, deps.failures.for('demo.speaker'));
  stage.openRoom(spaceId).attach(account.id, speaker, false);
  log.info({ spaceId }, 'demo Space live');
  return { spaceId, close: () => speaker.close('demo stopped') };
}
