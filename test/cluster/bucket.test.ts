import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { radosgwInstalled, startRadosgw, type Radosgw } from '../../bench/cluster/radosgw.ts';
import { Teardown } from '../../bench/lib/teardown.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { S3ObjectStore } from '../../src/origin/bucket.ts';
import { BucketMediaStorage } from '../../src/origin/bucket-storage.ts';
import { RecordingDownloads } from '../../src/origin/download.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import type { RecordingManifest } from '../../src/origin/track.ts';
import { SAMPLE_RATE, toneShare } from '../../src/stage/audio.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/eventually.ts';
import { ffmpegDecode } from '../helpers/ffmpeg.ts';
import { withRecordingFiles } from '../helpers/recording-app.ts';
import { toneOrigin } from '../helpers/tone-origin.ts';
import { hasCommands, optionalSuite, skipUnless } from '../helpers/skip.ts';

/**
 * Recordings in a real S3 server: Ceph's radosgw on loopback (in-memory OSD), started by this suite.
 * A minute of a 440 Hz tone is packaged by the origin on the test clock into a bucket-backed storage;
 * radosgw is SIGKILLed half way and restarted; the replay is then served from the bucket (local disk
 * keeps only the last 3 segments) and decoded by ffmpeg. CI installs Ceph and sets AMPHI_TEST_S3=1.
 */
const skip = skipUnless({
  available: radosgwInstalled() && hasCommands('ffmpeg'),
  env: 'AMPHI_TEST_S3',
  suite: 'recordings in a real S3 server (radosgw)',
  install: 'radosgw ceph-mon ceph-osd ffmpeg',
});

const BITRATE_BPS = 48_000;
const HALF_SECONDS = 30;

optionalSuite('recordings in a real S3 server (radosgw)', { skip, timeout: 240_000 }, () => {
  const t = new Teardown();
  let rgw: Radosgw;
  let amphi: TestApp;
  before(async () => {
    rgw = await startRadosgw(t, t.tempDir('amphi-rgw-'));
    amphi = await makeTestApp();
    t.add(() => amphi.close());
  });
  after(() => t.run());

  test('radosgw killed mid-Space: uploads fail loudly and retry; once it is back nothing is lost, and the replay from the bucket decodes', async () => {
    const objects = new S3ObjectStore({
      url: `${rgw.endpoint}/amphi-test`,
      region: 'us-east-1',
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
      requestTimeoutMs: 2000,
    });
    t.add(() => objects.close());
    await objects.ensureBucket();
    await objects.ensureBucket(); // a second time: it exists, nothing happens
    const storage = new BucketMediaStorage({
      local: new FileMediaStorage(join(t.tempDir('amphi-wal-'), 'media')),
      bucket: objects,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      localSegments: 3,
      retryBaseMs: 100,
      retryMaxMs: 1000,
      concurrency: 4,
    });
    t.add(() => storage.close());
    await storage.recover();

    const host = await amphi.signUp('bucket_host');
    const spaceId = (await amphi.call('POST', '/api/spaces', { token: host.token, body: { title: 'A minute of A' } })).json.space
      .id as string;
    assert.equal((await amphi.call('POST', `/api/spaces/${spaceId}/start`, { token: host.token })).status, 200);
    const { origin, play, end, preSkip } = toneOrigin({
      config: amphi.config.origin,
      storage,
      clock: amphi.clock,
      spaceId,
      bitrateBps: BITRATE_BPS,
    });

    play(HALF_SECONDS);
    await eventually('the first half in the bucket', () => storage.pending === 0, { timeoutMs: 20_000 });
    assert.deepEqual(storage.health, { ok: true });
    const firstHalf = (await objects.list(`${spaceId}/`)).filter((k) => k.endsWith('.m4s')).length;
    assert.equal(firstHalf, (HALF_SECONDS * 1000) / 2000, 'one object per 2 s segment');

    rgw.gateway().kill('SIGKILL');
    play(HALF_SECONDS);
    await eventually('the outage shows', () => !storage.health.ok, { timeoutMs: 10_000 });
    assert.ok(storage.pending >= 15, `the second half waits on local disk (${storage.pending} objects)`);
    assert.ok(storage.counts.failed >= 1);
    assert.equal(origin.health.ok, true, 'local disk (the write-ahead buffer) took every write meanwhile');

    await rgw.restart();
    await eventually('everything uploaded after the outage', () => storage.pending === 0, { timeoutMs: 30_000 });
    assert.deepEqual(storage.health, { ok: true }, 'health clears once the line is through');

    end();
    assert.equal((await amphi.call('POST', `/api/spaces/${spaceId}/end`, { token: host.token })).status, 200);
    await eventually('the final files in the bucket', () => storage.pending === 0, { timeoutMs: 20_000 });

    const manifest = JSON.parse(new TextDecoder().decode(await objects.get(`${spaceId}/recording.json`))) as RecordingManifest;
    assert.equal(manifest.ended, true, 'the final manifest reached the bucket');
    assert.equal(manifest.segments.filter((s) => s.gap === true).length, 0, 'no gap: nothing was lost to the outage');
    const keys = new Set(await objects.list(`${spaceId}/`));
    const missing = manifest.segments.filter((s) => !keys.has(`${spaceId}/s${s.msn}.m4s`)).map((s) => s.msn);
    assert.deepEqual(missing, [], 'every listed segment is in the bucket');
    assert.ok(keys.has(`${spaceId}/media.m3u8`) && keys.has(`${spaceId}/init.mp4`));
    const playlist = new TextDecoder().decode((await origin.get(spaceId, 'media.m3u8', {})).body);
    assert.match(playlist, /#EXT-X-ENDLIST/);
    assert.equal(new TextDecoder().decode(await objects.get(`${spaceId}/media.m3u8`)), playlist);

    // The replay, with local disk holding only the last 3 segments: the rest comes from the bucket.
    const fromBucketBefore = storage.counts.fromBucket;
    const files = new RecordingDownloads({ storage, log: pino({ level: 'silent' }) });
    const app = await withRecordingFiles(amphi, files);
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as AddressInfo;
      const decoded = await ffmpegDecode(`http://127.0.0.1:${port}/api/spaces/${spaceId}/recording.m4a`);
      assert.equal(decoded.code, 0, decoded.stderr);
      const decodedMs = (decoded.pcm.length / SAMPLE_RATE) * 1000;
      const listedMs = manifest.segments.reduce((n, s) => n + s.durationMs, 0);
      const preSkipMs = (preSkip / SAMPLE_RATE) * 1000;
      console.log(
        `bucket: ${keys.size} objects, ${storage.counts.failed} failed attempts during the outage, replay ${decodedMs.toFixed(0)} ms decoded of ${listedMs} ms listed, ${storage.counts.fromBucket - fromBucketBefore} reads from the bucket`,
      );
      assert.equal(listedMs, 2 * HALF_SECONDS * 1000);
      assert.ok(Math.abs(decodedMs - (listedMs - preSkipMs)) <= 100, `decoded ${decodedMs} ms of ${listedMs} ms`);
      assert.ok(toneShare(decoded.pcm, 440) > 0.95);
      assert.ok(storage.counts.fromBucket - fromBucketBefore >= 25, 'the evicted segments were read from the bucket');
    } finally {
      await app.close();
    }
  });
});
