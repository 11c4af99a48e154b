import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import HLS from 'hls-parser';
import { pino } from 'pino';
import { Edge } from '../../src/edge/edge.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { OriginPlane } from '../../src/origin/plane.ts';
import { originRig } from '../helpers/origin-rig.ts';

const SPACE = 'sp_LIVEWINDOW00';
HLS.setOptions({ strictMode: true });
type Media = InstanceType<typeof HLS.types.MediaPlaylist>;

/** An origin two hours into a Space (on the test clock), with a restart in the middle. */
function twoHoursIn() {
  const { clock, make, play } = originRig();
  const first = make();
  play(first, SPACE, 3_600_000);
  first.close(); // a restart an hour in
  const second = make();
  play(second, SPACE, 3_600_000 + 1_300);
  return { origin: second, clock };
}

const text = async (o: OriginPlane, file: string, skip = false) =>
  new TextDecoder().decode((await o.get(SPACE, file, { skip })).body);

describe('a bounded live playlist (RFC 8216bis sliding window, delta updates, gzip)', () => {
  const { origin, clock } = twoHoursIn();

  test('media.m3u8 is a 60 s window two hours in: small, numbered on, the restart counted', async () => {
    const live = await text(origin, 'media.m3u8');
    const parsed = HLS.parse(live) as Media;
    assert.equal(live.match(/#EXTINF/g)?.length, 30);
    assert.ok(parsed.segments.length >= 30, 'it parses (strict), in-progress parts included');
    assert.equal(parsed.mediaSequenceBase, 3600 - 30, 'the window slides: MEDIA-SEQUENCE is its first segment');
    assert.equal(parsed.discontinuitySequenceBase, 1, 'the restart, now out of the window, still counts');
    assert.equal(parsed.playlistType, undefined, 'a sliding window is not an EVENT playlist');
    assert.ok(live.length < 8_000, `${live.length} bytes`);
  });

  test('dvr.m3u8 lists the whole Space for a player that seeks back to the start', async () => {
    const dvr = HLS.parse(await text(origin, 'dvr.m3u8')) as Media;
    assert.equal(
      dvr.segments.filter((seg) => seg.duration > 0 && seg.uri.startsWith('s')).length,
      3600,
      'two hours of 2 s segments',
    );
    assert.equal(dvr.mediaSequenceBase ?? 0, 0);
    assert.equal(dvr.playlistType, 'EVENT');
  });

  test('a delta update skips what is older than 6 target durations, on both playlists', async () => {
    for (const file of ['media.m3u8', 'dvr.m3u8']) {
      const full = await text(origin, file);
      const delta = await text(origin, file, true);
      assert.match(full, /CAN-SKIP-UNTIL=12,/);
      const skipped = Number(/#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)/.exec(delta)?.[1]);
      const listed = delta.match(/#EXTINF/g)?.length ?? 0;
      assert.equal(skipped + listed, full.match(/#EXTINF/g)?.length, file);
      assert.ok(listed >= 6 && listed <= 7, `${file}: ${listed} segments after the skip`);
      assert.ok(delta.length < 3_000, `${file} delta: ${delta.length} bytes`);
    }
  });

  test('the edge keys delta updates apart and gzips playlists for clients that take it', async () => {
    const signer = new TokenSigner([{ id: 'k', secret: 'a-live-window-test-key-long-enough' }]);
    const edge = new Edge({ signer, clock, origin, log: pino({ level: 'silent' }), cacheMaxBytes: 1 << 24 });
    const token = signer.sign({ t: 'l', s: SPACE, u: 'an_gzip00000001' }, clock.now() + 60_000);
    const plain = await edge.serve({ token, spaceId: SPACE, file: 'dvr.m3u8' });
    const gz = await edge.serve({ token, spaceId: SPACE, file: 'dvr.m3u8', gzip: true });
    const delta = await edge.serve({ token, spaceId: SPACE, file: 'dvr.m3u8', skip: true });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(gz.headers.vary, 'accept-encoding');
    assert.notEqual(gz.headers.etag, plain.headers.etag, 'another representation, another ETag');
    assert.deepEqual(gunzipSync(gz.body!), Buffer.from(plain.body!));
    assert.ok(gz.body!.length * 5 < plain.body!.length, `gzip: ${plain.body!.length} -> ${gz.body!.length} bytes`);
    assert.match(new TextDecoder().decode(delta.body), /#EXT-X-SKIP/);
    assert.equal(
      (await edge.serve({ token, spaceId: SPACE, file: 'dvr.m3u8', gzip: true, ifNoneMatch: gz.headers.etag })).status,
      304,
    );
    assert.equal(edge.originFetches, 2, 'plain and gzip share one fetch; the delta is its own object');
  });
});
