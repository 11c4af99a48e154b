import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import HLS from 'hls-parser';
import { originRig } from '../helpers/origin-rig.ts';
import { MemoryMediaStorage } from '../helpers/media-storage.ts';

HLS.setOptions({ strictMode: true });
const DAY_MS = 86_400_000;

const segmentFiles = (storage: MemoryMediaStorage, spaceId: string) =>
  [...storage.files.keys()].filter((k) => k.startsWith(`${spaceId}/s`)).length;

describe('what recordings keep and for how long', () => {
  test('a Space that never ends (the demo) keeps a window of its recording, across a restart', async () => {
    const { storage, make, play } = originRig(Date.UTC(2026, 10, 1, 20));
    const DEMO = 'sp_DEMOWINDOW00';
    const first = make();
    first.keepRecordingWindow(DEMO, 1); // one minute: 30 segments
    play(first, DEMO, 120_000);
    first.close();
    assert.equal(segmentFiles(storage, DEMO), 30, 'older segments are deleted as new ones are written');
    const second = make();
    second.keepRecordingWindow(DEMO, 1);
    play(second, DEMO, 90_000);
    assert.equal(segmentFiles(storage, DEMO), 30);
    const dvr = new TextDecoder().decode((await second.get(DEMO, 'dvr.m3u8', {})).body);
    const parsed = HLS.parse(dvr) as InstanceType<typeof HLS.types.MediaPlaylist>;
    assert.equal(parsed.mediaSequenceBase, 105 - 30, 'numbered on from the first segment kept');
    assert.equal(parsed.discontinuitySequenceBase, 1, 'the restart, deleted with its segments, still counts');
    assert.doesNotMatch(dvr, /PLAYLIST-TYPE:EVENT/, 'segments were removed: not an EVENT playlist');
  });

  test('recordings of Spaces ended longer ago than the retention are deleted; newer and live ones stay', () => {
    const { clock, storage, make, play } = originRig(Date.UTC(2026, 10, 1, 20));
    const origin = make();
    play(origin, 'sp_OLDSPACE0000', 10_000).emit('end', { spaceId: 'sp_OLDSPACE0000', frames: 500, final: true });
    clock.advance(3 * DAY_MS);
    play(origin, 'sp_NEWSPACE0000', 10_000).emit('end', { spaceId: 'sp_NEWSPACE0000', frames: 500, final: true });
    play(origin, 'sp_LIVESPACE000', 10_000);
    clock.advance(4 * DAY_MS);
    assert.deepEqual(origin.sweepRetention(7), ['sp_OLDSPACE0000']);
    assert.equal(origin.recording('sp_OLDSPACE0000'), undefined, 'its replay is gone with it');
    assert.equal(storage.spaces().includes('sp_OLDSPACE0000'), false);
    assert.deepEqual(origin.recording('sp_NEWSPACE0000'), { live: false, durationMs: 10_000 });
    clock.advance(30 * DAY_MS);
    assert.deepEqual(origin.sweepRetention(7), ['sp_NEWSPACE0000'], 'a live recording is never deleted');
    assert.deepEqual(origin.recording('sp_LIVESPACE000'), { live: true, durationMs: 0 });
  });
});
