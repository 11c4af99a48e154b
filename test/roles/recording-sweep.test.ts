import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { retentionSweep } from '../../src/roles/media-storage.ts';
import { settle } from '../helpers/settle.ts';
import { originRig } from '../helpers/origin-rig.ts';

describe('the recordings sweep', () => {
  test('removes what remains of a replay its host deleted (the bus event was missed), and nothing else', async () => {
    const rig = originRig();
    const origin = rig.make();
    for (const id of ['sp_deletedAAAAA', 'sp_keptBBBBBBBB']) {
      rig.play(origin, id, 4000).emit('end', { spaceId: id, frames: 200, final: true });
    }
    assert.ok(origin.recording('sp_deletedAAAAA') !== undefined && rig.storage.spaces().includes('sp_deletedAAAAA'));
    const sweep = retentionSweep(null, origin, () => Promise.resolve(['sp_deletedAAAAA']), rig.clock, pino({ level: 'silent' }));
    sweep.start();
    await settle();
    try {
      assert.equal(origin.recording('sp_deletedAAAAA'), undefined);
      assert.deepEqual(rig.storage.spaces(), ['sp_keptBBBBBBBB'], 'the deleted one is gone, the other kept');
      assert.ok(origin.recording('sp_keptBBBBBBBB') !== undefined);
    } finally {
      sweep.stop();
    }
  });

  test('retention: the recordings it deletes are handed to `forget` (their transcript lines), the kept ones are not', async () => {
    const rig = originRig();
    const origin = rig.make();
    rig.play(origin, 'sp_oldAAAAAAAAA', 4000).emit('end', { spaceId: 'sp_oldAAAAAAAAA', frames: 200, final: true });
    rig.clock.advance(2 * 86_400_000);
    rig.play(origin, 'sp_recentBBBBBB', 4000).emit('end', { spaceId: 'sp_recentBBBBBB', frames: 200, final: true });
    const forgotten: string[][] = [];
    const forget = (ids: readonly string[]) => {
      forgotten.push([...ids]);
      return Promise.resolve();
    };
    const sweep = retentionSweep(1, origin, () => Promise.resolve([]), rig.clock, pino({ level: 'silent' }), forget);
    sweep.start();
    await settle();
    try {
      assert.deepEqual(rig.storage.spaces(), ['sp_recentBBBBBB'], 'the old recording deleted by retention');
      assert.deepEqual(forgotten, [['sp_oldAAAAAAAAA']], 'its lines are forgotten, once');
      rig.clock.advance(3_600_000); // the next hourly sweep deletes nothing: nothing to forget
      await settle();
      assert.deepEqual(forgotten, [['sp_oldAAAAAAAAA']]);
      rig.clock.advance(86_400_000);
      await settle();
      rig.clock.advance(3_600_000); // a sweep a day later: the recent one's turn
      await settle();
      assert.deepEqual(forgotten, [['sp_oldAAAAAAAAA'], ['sp_recentBBBBBB']]);
    } finally {
      sweep.stop();
    }
  });
});
