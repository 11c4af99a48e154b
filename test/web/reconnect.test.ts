import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Refusal, supervise, type Link, type LinkStatus } from '../../web/src/reconnect.ts';
import { settle } from '../helpers/settle.ts';
import { FakeTimers } from './timers.ts';

/** A connection the test drops or closes by hand. */
class FakeLink implements Link {
  readonly dropped: Promise<void>;
  closed = 0;
  drop!: () => void;
  constructor() {
    this.dropped = new Promise((resolve) => (this.drop = resolve));
  }
  close(): void {
    this.closed++;
  }
}

/**
 * A supervisor on fake timers whose `open` answers from a script: a link, an error to retry, or a
 * refusal. Statuses, links and opens are recorded.
 */
function harness(script: (Error | 'link')[], options: { first?: boolean; stableMs?: number } = {}) {
  const timers = new FakeTimers();
  const statuses: LinkStatus[] = [];
  const links: FakeLink[] = [];
  let opens = 0;
  const open = () => {
    const step = script[opens++] ?? new Error('no more script');
    if (step !== 'link') return Promise.reject(step);
    const link = new FakeLink();
    links.push(link);
    return Promise.resolve(link);
  };
  const first = options.first === false ? undefined : new FakeLink();
  const supervisor = supervise(open, {
    ...(first === undefined ? {} : { first }),
    onStatus: (s) => statuses.push(s),
    timers,
    ...(options.stableMs === undefined ? {} : { stableMs: options.stableMs }),
  });
  return { timers, statuses, links, first, supervisor, opens: () => opens };
}

/** Lets the supervisor reach its next wait after each step of the clock. */
async function advance(timers: FakeTimers, ms: number): Promise<void> {
  await settle();
  timers.clock.advance(ms);
  await settle();
}

describe('supervise', { timeout: 5000 }, () => {
  test('a dropped link is replaced after the first backoff wait, and says so', async () => {
    const h = harness(['link']);
    h.first!.drop();
    await settle();
    assert.deepEqual(h.statuses, [{ kind: 'reconnecting', attempt: 1 }]);
    await advance(h.timers, 499);
    assert.equal(h.opens(), 0, 'no retry before the wait is over');
    await advance(h.timers, 1);
    assert.equal(h.opens(), 1);
    assert.deepEqual(h.statuses.at(-1), { kind: 'connected' });
    assert.equal(h.links.length, 1);
  });

  test('failures back off 0.5, 1, 2, 4, 8, 10, 10 s, counting attempts, until one succeeds', async () => {
    const failures = Array.from({ length: 6 }, () => new Error('connection refused'));
    const h = harness([...failures, 'link']);
    h.first!.drop();
    for (let i = 0; i < 7; i++) await advance(h.timers, 10_000);
    assert.deepEqual(h.timers.scheduled, [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    assert.deepEqual(
      h.statuses.map((s) => (s.kind === 'reconnecting' ? s.attempt : s.kind)),
      [1, 2, 3, 4, 5, 6, 7, 'connected'],
    );
    assert.equal(h.opens(), 7);
  });

  test('a refusal stops for good: no more tries, no timer left', async () => {
    const h = harness([new Error('503'), new Refusal('You were moved to the audience.')]);
    h.first!.drop();
    await advance(h.timers, 500);
    await advance(h.timers, 1000);
    assert.deepEqual(h.statuses.at(-1), { kind: 'stopped', reason: 'You were moved to the audience.' });
    assert.equal(h.timers.pending, 0);
    await advance(h.timers, 60_000);
    assert.equal(h.opens(), 2);
  });

  test('close() during a wait: no retry, and the wait is cancelled; close is idempotent', async () => {
    const h = harness(['link']);
    h.first!.drop();
    await settle();
    await h.supervisor.close();
    await h.supervisor.close();
    assert.equal(h.timers.pending, 0);
    await advance(h.timers, 60_000);
    assert.equal(h.opens(), 0);
    assert.equal(h.first!.closed, 0, 'a dropped link is not closed again');
  });

  test('close() closes the link that is up, and a drop after it is not a reason to reconnect', async () => {
    const h = harness([]);
    await h.supervisor.close();
    assert.equal(h.first!.closed, 1);
    h.first!.drop();
    await advance(h.timers, 60_000);
    assert.deepEqual(h.statuses, []);
    assert.equal(h.opens(), 0);
  });

  test('a link that opens after close() is closed at once, not followed', async () => {
    const timers = new FakeTimers();
    let resolveOpen!: (link: FakeLink) => void;
    const late = new FakeLink();
    const first = new FakeLink();
    const supervisor = supervise(() => new Promise<FakeLink>((resolve) => (resolveOpen = resolve)), {
      first,
      onStatus: () => {},
      timers,
    });
    first.drop();
    await advance(timers, 500);
    await supervisor.close();
    resolveOpen(late);
    await settle();
    assert.equal(late.closed, 1);
  });

  test('a link that stayed up a while resets the backoff; one that dropped at once does not', async () => {
    const h = harness(['link', 'link', 'link'], { stableMs: 10_000 });
    h.first!.drop(); // at once: attempt 1 (500 ms)
    await advance(h.timers, 500);
    h.links[0]!.drop(); // at once again: attempt 2 (1 s)
    await advance(h.timers, 1000);
    await advance(h.timers, 10_000); // the third link stays up 10 s
    h.links[1]!.drop();
    await advance(h.timers, 500);
    assert.deepEqual(h.timers.scheduled, [500, 1000, 500]);
    assert.equal(h.links.length, 3);
  });

  test('without a first link it opens at once, and backs off only after a failure', async () => {
    const h = harness([new Error('offline'), 'link'], { first: false });
    await settle();
    assert.equal(h.opens(), 1);
    assert.deepEqual(h.statuses, [{ kind: 'reconnecting', attempt: 1 }]);
    await advance(h.timers, 500);
    assert.equal(h.opens(), 2);
    assert.deepEqual(h.statuses.at(-1), { kind: 'connected' });
  });
});
