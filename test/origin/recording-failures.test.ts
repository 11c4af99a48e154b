import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/lib/clock.ts';
import type { Logger } from '../../src/lib/logger.ts';
import { listenerFailureMetrics } from '../../src/lib/metrics.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';
import { OriginPlane } from '../../src/origin/plane.ts';
import type { MediaStorage } from '../../src/origin/storage.ts';
import { ProgramStream } from '../../src/stage/program.ts';
import { programFrame } from '../helpers/program.ts';

const SPACE = 'sp_FAILWRITE0000';

/** A logger that keeps what it is told at error level. */
function recordingLog(): { log: Logger; errors: { obj: Record<string, unknown>; msg: string }[] } {
  const errors: { obj: Record<string, unknown>; msg: string }[] = [];
  const log = {
    error: (obj: Record<string, unknown>, msg: string) => errors.push({ obj, msg }),
    warn: () => {},
    info: () => {},
    debug: () => {},
    child: () => log,
  } as unknown as Logger;
  return { log, errors };
}

/** Media storage on a disk that fills up after the init segment. */
function fullDisk(): MediaStorage & { writes: number } {
  const files = new Map<string, Uint8Array | string>();
  return {
    writes: 0,
    write(spaceId, name, data) {
      if (name !== 'init.mp4') throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      this.writes++;
      files.set(`${spaceId}/${name}`, data);
    },
    read: () => undefined,
    spaces: () => [],
  };
}

test('a recording write that fails on the program stream is logged and counted, never swallowed', async () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
  const { log, errors } = recordingLog();
  const failures = new ListenerFailures(log);
  const registry = new Registry();
  listenerFailureMetrics(registry, failures);
  const origin = new OriginPlane({
    config: { partDurationMs: 500, partsPerSegment: 4, blockingTimeoutMs: 6000 },
    storage: fullDisk(),
    clock,
    log,
    programBitrateBps: 48_000,
    preSkip: 312,
  });
  const program = new ProgramStream(failures.for('stage.program'));
  origin.attach(SPACE, program);
  // 2 s of program: the first segment is written (and fails) when its last frame arrives.
  for (let sequence = 0; sequence < 100; sequence++) {
    clock.advance(20);
    program.emit('frame', programFrame(SPACE, sequence, clock.now()));
  }
  assert.deepEqual(failures.counts(), [{ emitter: 'stage.program', event: 'frame', count: 1 }]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.msg, 'event listener failed');
  assert.equal(errors[0]!.obj.emitter, 'stage.program');
  assert.match(String(errors[0]!.obj.err), /ENOSPC/);
  assert.match(await registry.metrics(), /amphi_event_listener_failures_total\{emitter="stage.program",event="frame"\} 1/);
});

test('a listener that throws does not stop the listeners after it', () => {
  const { log } = recordingLog();
  const failures = new ListenerFailures(log);
  const program = new ProgramStream(failures.for('stage.program'));
  const heard: number[] = [];
  program.on('end', () => {
    throw new Error('first listener broke');
  });
  program.on('end', ({ frames }) => heard.push(frames));
  program.emit('end', { spaceId: SPACE, frames: 7 });
  assert.deepEqual(heard, [7]);
  assert.deepEqual(failures.counts(), [{ emitter: 'stage.program', event: 'end', count: 1 }]);
});
