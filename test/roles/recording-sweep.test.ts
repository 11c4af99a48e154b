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
});
