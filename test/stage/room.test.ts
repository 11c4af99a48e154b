import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FRAME_SAMPLES, toneFrame } from '../../src/stage/audio.ts';
import { OpusEncoderMono } from '../../src/stage/codec.ts';
import type { ProgramEvents, ProgramFrame } from '../../src/stage/program.ts';
import { quietRoom, FakeSession, TrackingClock } from './fakes.ts';

const SPACE = 'sp_room0000000';

function makeRoom(clock = new TrackingClock(0)) {
  const { room, closed } = quietRoom(clock, SPACE);
  const frames: ProgramFrame[] = [];
  const ends: ProgramEvents['end'][] = [];
  room.program.on('frame', (f) => frames.push(f));
  room.program.on('end', (e) => ends.push(e));
  return { room, clock, frames, ends, closed };
}

/** Sends `count` frames of a tone from `session`, 20 ms apart on the clock. */
function speak(session: FakeSession, clock: TrackingClock, count: number, from = 0): void {
  const encoder = new OpusEncoderMono({ bitrateBps: 48_000 });
  for (let n = from; n < from + count; n++) {
    const payload = Buffer.from(encoder.encode(toneFrame(440, 0.3, n * FRAME_SAMPLES)));
    session.emit('audio', { rtpTimestamp: n * FRAME_SAMPLES, payload });
    clock.advance(20);
  }
}

describe('StageRoom', () => {
  test('a session attached after the room closed is turned away at once', () => {
    const { room } = makeRoom();
    room.close();
    const late = new FakeSession('ss_late');
    room.attach('ac_a', late, false);
    assert.equal(late.closedWith, 'the Space has ended');
    assert.equal(room.speakerCount, 0);
    assert.equal(room.session('ac_a'), undefined);
  });

  test('a reconnect closes the old session; its late "closed" leaves the new one on the stage', () => {
    const { room, clock } = makeRoom();
    const first = new FakeSession('ss_1', { closesLater: true });
    const second = new FakeSession('ss_2');
    room.attach('ac_a', first, false);
    room.attach('ac_a', second, false);
    assert.equal(first.closedWith, 'replaced by a new connection');
    first.finishClose(); // the old transport reports closed only now
    assert.equal(room.speakerCount, 1);
    assert.equal(room.session('ac_a'), second);
    const before = second.sent.length;
    clock.advance(100);
    assert.equal(second.sent.length - before, 5, 'the new session still gets its mix-minus every tick');
    room.close();
  });

  test('a session that reports closed after the room has closed is ignored', () => {
    const { room } = makeRoom();
    const session = new FakeSession('ss_1', { closesLater: true });
    room.attach('ac_a', session, false);
    room.close();
    assert.equal(session.closedWith, 'the Space has ended');
    assert.doesNotThrow(() => session.finishClose());
  });

  test('kick and session() for an account not on the stage do nothing', () => {
    const { room } = makeRoom();
    const session = new FakeSession('ss_1');
    room.attach('ac_a', session, false);
    assert.doesNotThrow(() => room.kick('ac_nobody', 'removed'));
    assert.equal(room.session('ac_nobody'), undefined);
    assert.equal(room.session('ac_a'), session);
    assert.equal(session.closedWith, undefined);
    room.close();
  });

  test('levels list every speaker; frames counts the program frames emitted', () => {
    const { room, clock, frames } = makeRoom();
    const a = new FakeSession('ss_a');
    room.attach('ac_a', a, false);
    room.attach('ac_b', new FakeSession('ss_b'), false);
    speak(a, clock, 10);
    assert.equal(room.frames, 10);
    assert.equal(frames.length, 10);
    const levels = room.levels();
    assert.deepEqual(
      levels.map((l) => [l.id, l.speaking]),
      [
        ['ac_a', true],
        ['ac_b', false],
      ],
    );
    room.close();
  });

  test('a speaker that receives no audio is never sent a mix-minus; one that does gets one low-delay packet per tick', () => {
    const { room, clock } = makeRoom();
    const listenOnly = new FakeSession('ss_a', { receivesAudio: false });
    const hearing = new FakeSession('ss_b');
    room.attach('ac_a', listenOnly, false);
    room.attach('ac_b', hearing, false);
    speak(listenOnly, clock, 10);
    assert.equal(listenOnly.sent.length, 0);
    assert.equal(hearing.sent.length, 10);
    // The return path is low-delay Opus: CELT-only 20 ms frames (TOC configs 16-31, every fourth is 20 ms).
    const configs = new Set(hearing.sent.map((p) => p[0]! >> 3));
    assert.ok(
      [...configs].every((c) => c >= 16 && c % 4 === 3),
      `TOC configs ${[...configs].join(',')}`,
    );
    room.close();
  });

  test('close ends the program once, as final, and leaves no timer behind', () => {
    const { room, clock, frames, ends, closed } = makeRoom();
    clock.advance(60);
    room.close();
    room.close();
    assert.deepEqual(ends, [{ spaceId: SPACE, frames: 3, final: true }]);
    assert.deepEqual(closed, [SPACE]);
    assert.equal(clock.pendingTimers, 0);
    clock.advance(1000);
    assert.equal(frames.length, 3);
  });

  test('close on shutdown tells speakers to reconnect, and the program end is not final', () => {
    const { room, ends } = makeRoom();
    const session = new FakeSession('ss_1');
    room.attach('ac_a', session, false);
    room.close('shutdown');
    assert.equal(session.closedWith, 'the server is restarting; reconnect');
    assert.equal(ends[0]!.final, false);
  });

  test('closing the room from a program frame listener stops the ticks there', () => {
    const { room, clock, frames } = makeRoom();
    room.program.on('frame', (f) => {
      if (f.sequence === 2) room.close();
    });
    clock.advance(200);
    assert.equal(frames.length, 3);
    assert.equal(clock.pendingTimers, 0, 'nothing rescheduled after close');
  });
});
