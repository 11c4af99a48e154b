import { describe } from 'node:test';
import { MemoryLineStore } from '../../src/admission/line-store.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { lineStoreBehaviour } from './line-store-behaviour.ts';

/** The embedded mode's line store: one process, the injected clock. Redis runs the same suite. */
describe('MemoryLineStore', () => {
  const clock = new ManualClock(0);
  const store = new MemoryLineStore(clock);
  lineStoreBehaviour(() => ({
    node: () => store,
    elapse: (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    },
  }));
});
