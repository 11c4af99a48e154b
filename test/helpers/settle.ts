import { setImmediate } from 'node:timers/promises';

/**
 * Lets what a `ManualClock` advance set going run to its next wait: promise callbacks, then one turn
 * of the event loop. Tests on the injected clock call it after `clock.advance(ms)`; it waits for no
 * condition and no real time (for those, see `eventually` and `realTime`).
 */
export async function settle(): Promise<void> {
  await setImmediate();
}
