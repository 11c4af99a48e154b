import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { ManualClock } from '../../src/lib/clock.ts';
import { OriginPlane } from '../../src/origin/plane.ts';
import { RoomState } from '../../src/origin/room-state.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import { ProgramStream } from '../../src/stage/program.ts';
import { rethrow } from '../helpers/events.ts';
import { originConfig } from '../helpers/origin-config.ts';
import { originRig } from '../helpers/origin-rig.ts';
import { programFrame } from '../helpers/program.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('memory: hundreds of Spaces made live and ended leave the heap near its baseline', () => {
  const root = mkdtempSync(join(tmpdir(), 'amphi-soak-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
  const roomState = new RoomState((spaceId) => Promise.resolve({ spaceId, listeners: 1 }), clock);
  const origin = new OriginPlane({
    roomState,
    config: originConfig(),
    storage: new FileMediaStorage(root),
    clock,
    log: pino({ level: 'silent' }),
    programBitrateBps: 48_000,
    preSkip: 312,
  });
  let sequence = 0;

  /** One Space's life: live for `seconds` of program (its room state polled), then ended. */
  async function liveAndEnded(spaceId: string, seconds: number): Promise<void> {
    const program = new ProgramStream(rethrow);
    origin.attach(spaceId, program);
    await origin.get(spaceId, 'state.json', {});
    for (let t = 0; t < seconds * 1000; t += 20) {
      clock.advance(20);
      program.emit('frame', programFrame(spaceId, sequence++, clock.now() - 20));
    }
    program.emit('end', { spaceId, frames: 0, final: true });
    origin.finish(spaceId);
  }

  test('300 Spaces of 20 s each: the origin keeps no track, and the heap grows by less than 1 MB', async () => {
    for (let i = 0; i < 20; i++) await liveAndEnded(`sp_warmup${String(i).padStart(4, '0')}`, 20);
    const baseline = heapAfterGc();
    for (let i = 0; i < 300; i++) await liveAndEnded(`sp_soak${String(i).padStart(8, '0')}`, 20);
    const grown = heapAfterGc() - baseline;
    console.log(`heap after 300 Spaces: ${(grown / 1_048_576).toFixed(2)} MB over the baseline`);
    assert.equal(origin.liveTracks, 0);
    assert.equal(origin.tracksHeld, 0, 'ended tracks (and their parts) leave the origin');
    assert.equal(roomState.size, 0, 'ended Spaces leave the room-state map');
    assert.ok(grown < 1_048_576, `heap grew ${grown} bytes over 300 ended Spaces`);
    // The replay is still there, from its files.
    assert.deepEqual(origin.recording('sp_soak00000299'), { live: false, durationMs: 20_000 });
  });
});

describe('recording info for the public views comes from memory', () => {
  test('listing Spaces reads no manifest: one read per recording made elsewhere, none for one that ended here', () => {
    const rig = originRig();
    const before = rig.make();
    // The process dies with this recording open: the next one finishes it from its manifest.
    rig.play(before, 'sp_crashed0001', 4000);
    const origin = rig.make();
    const ended = rig.play(origin, 'sp_endedhere01', 4000);
    ended.emit('end', { spaceId: 'sp_endedhere01', frames: 0, final: true });
    origin.finish('sp_crashed0001');
    rig.storage.readsByName.clear();
    for (let i = 0; i < 100; i++) {
      assert.deepEqual(origin.recording('sp_endedhere01'), { live: false, durationMs: 4000 });
      assert.deepEqual(origin.recording('sp_crashed0001'), { live: false, durationMs: 4000 });
      assert.equal(origin.recording('sp_neverlive01'), undefined);
    }
    assert.equal(rig.storage.readsByName.get('recording.json') ?? 0, 1, 'only the never-recorded Space was looked up, once');
  });
});
