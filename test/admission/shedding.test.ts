import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkSheddingPolicy, Shedder, workPriorities, type ShedLevel, type WorkKind } from '../../src/admission/shedding.ts';
import { defaultConfig } from '../../src/config/defaults.ts';

const table = defaultConfig.admission.shedding;

function shedAt(level: number): WorkKind[] {
  const shedder = new Shedder(table, () => level);
  return workPriorities.filter((k) => shedder.shouldShed(k));
}

describe('Shedder', () => {
  test('nothing is shed at level 0', () => {
    const s = new Shedder(table, () => 0);
    assert.deepEqual(shedAt(0), []);
    assert.equal(s.roomStateIntervalMs(250), 250);
    assert.equal(s.reactionSampleEvery, 1);
    assert.ok([1, 2, 3].every(() => s.keepReaction()));
  });

  test('lowest priority first: reactions and room state, then joins; audio and stage never', () => {
    assert.deepEqual(shedAt(1), ['roomState', 'reactions']);
    assert.deepEqual(shedAt(2), ['joins', 'roomState', 'reactions']);
    for (let level = 0; level <= 20; level++) {
      const shed = shedAt(level);
      assert.ok(!shed.includes('audio') && !shed.includes('stage'), `level ${level}`);
      // Whatever is shed is the tail of the priority order.
      assert.deepEqual(shed, workPriorities.slice(workPriorities.length - shed.length), `level ${level}`);
      if (shed.length > 0) assert.ok(shed.includes('reactions'), 'reactions go first');
    }
    assert.deepEqual(shedAt(99), shedAt(3), 'levels past the table use its last row');
  });

  test('room state slows and reactions are sampled, per the table', () => {
    let level = 1;
    const s = new Shedder(table, () => level);
    assert.equal(s.level, 1);
    assert.equal(s.roomStateIntervalMs(250), 500);
    const kept = Array.from({ length: 400 }, () => s.keepReaction()).filter(Boolean).length;
    assert.equal(kept, 100, 'one in four');
    level = 3;
    assert.equal(s.roomStateIntervalMs(250), 2500);
    assert.equal(s.reactionSampleEvery, 100);
  });

  test('tables that break the priority order or ease off with the level are refused', () => {
    assert.throws(
      () =>
        checkSheddingPolicy({ levels: [{ joinsToWaitingRoom: true, roomStateIntervalMultiplier: 1, reactionsKeepOneIn: 4 }] }),
      /sheds joins but keeps roomState, which has lower priority/,
    );
    assert.throws(
      () =>
        checkSheddingPolicy({
          levels: [
            { joinsToWaitingRoom: false, roomStateIntervalMultiplier: 4, reactionsKeepOneIn: 4 },
            { joinsToWaitingRoom: false, roomStateIntervalMultiplier: 2, reactionsKeepOneIn: 4 },
          ],
        }),
      /levels\[1\] \(level 2\) sheds less than the level below it/,
    );
    assert.throws(() => checkSheddingPolicy({ levels: [] }), /at least one row/);
  });

  test('each row needs a usable multiplier and sample, and may not ease off joins or reactions', () => {
    const row: ShedLevel = { joinsToWaitingRoom: false, roomStateIntervalMultiplier: 2, reactionsKeepOneIn: 4 };
    const refusals: [ShedLevel[], RegExp][] = [
      [[{ ...row, roomStateIntervalMultiplier: 0.5 }], /levels\[0\] \(level 1\): roomStateIntervalMultiplier must be >= 1/],
      [[{ ...row, roomStateIntervalMultiplier: Number.NaN }], /roomStateIntervalMultiplier must be >= 1/],
      [[{ ...row, reactionsKeepOneIn: 0 }], /levels\[0\] \(level 1\): reactionsKeepOneIn must be a whole number >= 1/],
      [[{ ...row, reactionsKeepOneIn: 2.5 }], /reactionsKeepOneIn must be a whole number >= 1/],
      [[{ ...row, joinsToWaitingRoom: true }, row], /levels\[1\] \(level 2\) sheds less than the level below it/],
      [[row, { ...row, reactionsKeepOneIn: 2 }], /levels\[1\] \(level 2\) sheds less than the level below it/],
    ];
    for (const [levels, message] of refusals) {
      assert.throws(() => checkSheddingPolicy({ levels }), message, JSON.stringify(levels));
    }
    // Equal rows, and a row that sheds nothing at all, are fine.
    checkSheddingPolicy({ levels: [row, row] });
    checkSheddingPolicy({ levels: [{ joinsToWaitingRoom: false, roomStateIntervalMultiplier: 1, reactionsKeepOneIn: 1 }] });
  });
});
