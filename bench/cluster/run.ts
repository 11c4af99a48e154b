/** `npm run cluster`: starts a local cluster, prints where everything is, runs until Ctrl-C (then stops it all). */
import { withTeardown } from '../lib/teardown.ts';
import { startCluster, type ClusterOptions } from './launch.ts';
import { radosgwInstalled } from './radosgw.ts';

export async function runCluster(o: Pick<ClusterOptions, 'controls' | 'edges' | 'media' | 'databaseUrl'>): Promise<void> {
  await withTeardown(async (t) => {
    // Recordings go to a real S3 bucket (radosgw on loopback) where Ceph is installed, else to the media node's disk.
    const bucket = radosgwInstalled();
    process.stdout.write(
      `Starting a cluster: ${o.controls} control node(s), ${o.edges} edge(s), ${o.media ?? 1} media node(s), recordings ${bucket ? 'in an S3 bucket (radosgw)' : 'on local disk (install radosgw ceph-mon ceph-osd for a bucket)'}\n`,
    );
    const cluster = await startCluster(t, { ...o, bucket, progress: (line) => process.stdout.write(`  ${line}\n`) });
    process.stdout.write(
      [
        '',
        `Amphi cluster up. Open ${cluster.url}/ (the demo Space is live); hosts go live on ${cluster.stageUrl}.`,
        `Every node's health: <url>/healthz; logs: ${cluster.media.logFile.replace(/media\.log$/, '')}*.log`,
        'Ctrl-C stops everything (and drops its database).',
        '',
      ].join('\n'),
    );
    await new Promise(() => {}); // until SIGINT/SIGTERM: the teardown stops everything
  });
}
