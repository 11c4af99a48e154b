import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { FAILED_MEDIA_GRACE_MS, FailedConnection } from '../../src/stage/media-liveness.ts';

function watch() {
  const clock = new ManualClock(0);
  let gone = 0;
  const failure = new FailedConnection(clock, FAILED_MEDIA_GRACE_MS, () => gone++);
  /** `ms` of media every 20 ms (a talking speaker), on the clock. */
  const talk = (ms: number) => {
    for (let t = 0; t < ms; t += 20) {
      clock.advance(20);
      failure.media();
    }
  };
  return { clock, failure, talk, gone: () => gone };
}

describe('a failed connection ends a session only once its media stopped too', () => {
  test('failed while RTP still arrives: kept as long as it arrives, ended a grace period after the last packet', () => {
    const { clock, failure, talk, gone } = watch();
    talk(1000);
    failure.state('failed');
    talk(10_000);
    assert.equal(gone(), 0, 'media kept arriving for 10 s after failed');
    clock.advance(FAILED_MEDIA_GRACE_MS - 1);
    assert.equal(gone(), 0, 'one millisecond short of the grace period without media');
    clock.advance(1);
    assert.equal(gone(), 1, 'failed and no media for the grace period');
    clock.advance(60_000);
    assert.equal(gone(), 1, 'once');
  });

  test('failed and quiet for the grace period already: ended at once', () => {
    const { clock, failure, talk, gone } = watch();
    talk(200);
    clock.advance(FAILED_MEDIA_GRACE_MS);
    failure.state('failed');
    assert.equal(gone(), 1);
  });

  test('failed before any media: ended at once (nothing says it works)', () => {
    const { failure, gone } = watch();
    failure.state('failed');
    assert.equal(gone(), 1);
  });

  test('the connection coming back cancels it; disconnected alone ends nothing', () => {
    const { clock, failure, talk, gone } = watch();
    talk(100);
    failure.state('disconnected');
    clock.advance(60_000);
    assert.equal(gone(), 0, 'disconnected is not failed');
    talk(100);
    failure.state('failed');
    failure.state('connected');
    clock.advance(60_000);
    assert.equal(gone(), 0, 'connected again');
    talk(100);
    failure.state('failed');
    failure.stop(); // the session closed for another reason
    clock.advance(60_000);
    assert.equal(gone(), 0);
  });
});
