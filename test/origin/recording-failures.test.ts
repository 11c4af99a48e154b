import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import type { Logger } from '../../src/lib/logger.ts';
import { originMetrics } from '../../src/origin/metrics.ts';
import { OriginPlane } from '../../src/origin/plane.ts';
import type { RecordingManifest } from '../../src/origin/track.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';
import { ProgramStream } from '../../src/stage/program.ts';
import { rethrow } from '../helpers/events.ts';
import { MemoryMediaStorage } from '../helpers/media-storage.ts';
import { programFrame } from '../helpers/program.ts';
import { originConfig } from '../helpers/origin-config.ts';

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

/** An origin recording one Space on the test clock over in-memory storage that can fill up. */
function recordingOrigin() {
  const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
  const { log, errors } = recordingLog();
  const storage = new MemoryMediaStorage();
  const registry = new Registry();
  const origin = new OriginPlane({
    config: originConfig(),
    storage,
    clock,
    log,
    programBitrateBps: 48_000,
    preSkip: 312,
  });
  originMetrics(registry, origin);
  const program = new ProgramStream(rethrow);
  origin.attach(SPACE, program);
  let sequence = 0;
  const frames = (n: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      program.emit('frame', programFrame(SPACE, sequence++, clock.now() - 20));
    }
  };
  const manifest = () => JSON.parse(storage.text(SPACE, 'recording.json')!) as RecordingManifest;
  return { clock, origin, storage, program, frames, errors, registry, manifest };
}

/** The next process's origin over the same storage, an hour later. */
function restartedOrigin(storage: MemoryMediaStorage): OriginPlane {
  return new OriginPlane({
    config: originConfig(),
    storage,
    clock: new ManualClock(Date.UTC(2026, 10, 29, 21)),
    log: recordingLog().log,
    programBitrateBps: 48_000,
    preSkip: 312,
  });
}

describe('media storage faults at the origin', () => {
  test('a failed write is logged, counted and shown as degraded health until a write succeeds again', async () => {
    const { origin, storage, frames, errors, registry, clock } = recordingOrigin();
    frames(100);
    assert.deepEqual(origin.health, { ok: true });
    storage.full = true;
    const fullSince = clock.now();
    frames(100);
    assert.ok(errors.some((e) => e.msg === 'media write failed' && e.obj.file === 's1.m4s' && /ENOSPC/.test(String(e.obj.err))));
    const health = origin.health;
    assert.ok(!health.ok);
    assert.match(health.reason, /ENOSPC/);
    assert.equal(health.since, fullSince + 2000);
    assert.equal(health.file, 'recording.json', 'the last write that failed');
    const metrics = await registry.metrics();
    assert.match(metrics, /amphi_origin_storage_write_failures_total 2\n/, 'the segment and the manifest');
    assert.match(metrics, /amphi_origin_storage_healthy 0\n/);
    storage.full = false;
    frames(100);
    assert.deepEqual(origin.health, { ok: true });
    assert.match(await registry.metrics(), /amphi_origin_storage_healthy 1\n/);
  });

  test('a Space whose media cannot be stored is refused before it goes live (MEDIA_STORAGE_UNAVAILABLE)', () => {
    const { origin, storage } = recordingOrigin();
    origin.prepare('sp_OTHERSPACE000');
    assert.ok(storage.read('sp_OTHERSPACE000', 'init.mp4') !== undefined);
    storage.full = true;
    assert.throws(
      () => origin.prepare('sp_THIRDSPACE000'),
      (error: unknown) => error instanceof AmphiError && error.code === 'MEDIA_STORAGE_UNAVAILABLE' && error.status === 503,
    );
    assert.equal(origin.health.ok, false);
  });
});

describe('what shutdown and the end of a Space do to a recording', () => {
  test('shutdown suspends every recording: no ENDLIST, still live, resumed by the next origin', async () => {
    const { origin, storage, frames, manifest } = recordingOrigin();
    frames(130);
    origin.close();
    assert.equal(manifest().ended, false);
    assert.deepEqual(origin.recording(SPACE), { live: true, durationMs: 0 });
    await assert.rejects(origin.get(SPACE, 'media.m3u8', { msn: 2 }), { code: 'HLS_NOT_YET_AVAILABLE' });
    const playlist = new TextDecoder().decode((await origin.get(SPACE, 'media.m3u8', {})).body);
    assert.doesNotMatch(playlist, /ENDLIST/);
    assert.match(playlist, /#EXTINF:0\.600,\ns1\.m4s/);

    const next = restartedOrigin(storage);
    next.attach(SPACE, new ProgramStream(rethrow));
    assert.match(new TextDecoder().decode((await next.get(SPACE, 'media.m3u8', {})).body), /s1\.m4s\n(?!#EXT-X-ENDLIST)/);
  });

  test("a program that stops because the process does is not the Space's end; a final one is", () => {
    const { origin, program, frames, manifest } = recordingOrigin();
    frames(60);
    program.emit('end', { spaceId: SPACE, frames: 60, final: false });
    assert.equal(manifest().ended, false);
    assert.equal(manifest().suspended, true);
    const again = new ProgramStream(rethrow);
    origin.attach(SPACE, again);
    again.emit('end', { spaceId: SPACE, frames: 0, final: true });
    assert.equal(manifest().ended, true);
    assert.deepEqual(origin.recording(SPACE), { live: false, durationMs: 1200 });
  });

  test('ending a Space whose room is gone (after a crash) still finishes the replay', async () => {
    const { storage, frames, manifest } = recordingOrigin();
    frames(250);
    const crashed = manifest();
    assert.equal(crashed.ended, false);
    const restarted = restartedOrigin(storage);
    assert.deepEqual(restarted.recording(SPACE), { live: true, durationMs: 4000 });
    restarted.finish(SPACE);
    assert.deepEqual(restarted.recording(SPACE), { live: false, durationMs: 4000 });
    const playlist = new TextDecoder().decode((await restarted.get(SPACE, 'media.m3u8', {})).body);
    assert.match(playlist, /s1\.m4s\n#EXT-X-ENDLIST\n$/);
  });
});

test('a listener that throws does not stop the listeners after it', () => {
  const failures = new ListenerFailures(recordingLog().log);
  const program = new ProgramStream(failures.for('stage.program'));
  const heard: number[] = [];
  program.on('end', () => {
    throw new Error('first listener broke');
  });
  program.on('end', ({ frames }) => heard.push(frames));
  program.emit('end', { spaceId: SPACE, frames: 7, final: true });
  assert.deepEqual(heard, [7]);
  assert.deepEqual(failures.counts(), [{ emitter: 'stage.program', event: 'end', count: 1 }]);
});
