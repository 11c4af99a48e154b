/**
 * The launch-night drill stops on SIGTERM within 5 s and leaves no process behind (issue 21, item 4):
 * signalled while its cluster starts (Ceph up, the Amphi nodes starting: Ceph's tools used to run
 * with spawnSync, which held the signal until they returned), and once the night is under way (the
 * crowd, the junk, the listeners and every node running). A drill, run alone: a whole cluster.
 */
import { describe, test } from 'node:test';
import { stopsOnSignal, type Case } from '../helpers/bench-signal.ts';
import { bucketSkip, clusterSkip } from '../helpers/cluster.ts';

const cases: readonly Case[] = [
  {
    command: 'launch-night',
    args: ['--short'],
    label: 'while Ceph starts',
    ready: /^\s*postgres\s/m, // printed just before Ceph starts
    readyWithinMs: 90_000,
    skip: clusterSkip || bucketSkip(),
  },
  {
    command: 'launch-night',
    args: ['--short'],
    label: 'the night under way',
    ready: /go-live: \d+ after/,
    readyWithinMs: 150_000,
    skip: clusterSkip || bucketSkip(),
  },
];

describe('the launch night stops on a signal within 5 s and leaves no process behind', { concurrency: 1 }, () => {
  for (const c of cases) {
    test(
      `${c.command} ${c.args.join(' ')} (SIGTERM, ${c.label ?? ''})`,
      { skip: c.skip ?? false, timeout: c.readyWithinMs + 15_000 },
      () => stopsOnSignal(c),
    );
  }
});
