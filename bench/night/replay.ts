/** The replay after the end: the final manifest in the bucket, then `recording.m4a` decoded by ffmpeg. */
import { S3ObjectStore } from '../../src/origin/bucket.ts';
import type { RecordingManifest } from '../../src/origin/track.ts';
import { SAMPLE_RATE, toneShare } from '../../src/stage/audio.ts';
import type { Cluster, ClusterNode } from '../cluster/launch.ts';
import { ffmpegDecode } from '../lib/ffmpeg.ts';
import { sleep } from '../lib/sleep.ts';

export /** Waits for the replay: the final manifest in the bucket, then `recording.m4a` from a media node. */
async function replay(cluster: Cluster, spaceId: string, media: ClusterNode, endedAt: number) {
  const bucket = cluster.bucket!;
  const objects = new S3ObjectStore({
    url: bucket.url,
    region: 'us-east-1',
    accessKeyId: bucket.rgw.accessKeyId,
    secretAccessKey: bucket.rgw.secretAccessKey,
  });
  try {
    let manifest: RecordingManifest | undefined;
    let readyMs: number | undefined;
    const url = `${media.url}/api/spaces/${spaceId}/recording.m4a`;
    while (Date.now() - endedAt < 30_000 && readyMs === undefined) {
      const raw = await objects.get(`${spaceId}/recording.json`).catch(() => undefined);
      manifest = raw === undefined ? undefined : (JSON.parse(new TextDecoder().decode(raw)) as RecordingManifest);
      const head = manifest?.ended === true ? await fetch(url, { method: 'HEAD' }).catch(() => undefined) : undefined;
      if (head?.status === 200) readyMs = Date.now() - endedAt;
      else await sleep(100);
    }
    const decoded = readyMs === undefined ? undefined : await ffmpegDecode(url);
    const segments = manifest?.segments ?? [];
    const gaps = segments.filter((s) => s.gap === true);
    const gapRuns = gaps.filter((g, i) => i === 0 || gaps[i - 1]!.msn !== g.msn - 1).length;
    return {
      readyMs,
      decodedMs: decoded === undefined ? 0 : (decoded.pcm.length / SAMPLE_RATE) * 1000,
      listedMs: segments.filter((s) => s.gap !== true).reduce((n, s) => n + s.durationMs, 0),
      gapRuns,
      gapMs: gaps.reduce((n, g) => n + g.durationMs, 0),
      /** Each gap segment: its number and its wall-clock start. */
      gaps: gaps.map((g) => ({ msn: g.msn, at: g.programDateTimeMs })),
      toneShare: decoded === undefined ? 0 : Math.round(toneShare(decoded.pcm, 440) * 1000) / 1000,
    };
  } finally {
    objects.close();
  }
}
