import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/lib/clock.ts';
import { BucketMediaStorage } from '../../src/origin/bucket-storage.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import { MemoryBucket } from '../helpers/memory-bucket.ts';
import { settle } from '../helpers/settle.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function rig(options: { localSegments?: number; concurrency?: number; bucket?: MemoryBucket; dir?: string } = {}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'amphi-bucket-'));
  dirs.push(dir);
  const clock = new ManualClock();
  const local = new FileMediaStorage(dir);
  const bucket = options.bucket ?? new MemoryBucket();
  const storage = new BucketMediaStorage({
    local,
    bucket,
    clock,
    log: pino({ level: 'silent' }),
    localSegments: options.localSegments ?? 3,
    retryBaseMs: 250,
    retryMaxMs: 4000,
    concurrency: options.concurrency ?? 4,
  });
  return { dir, clock, local, bucket, storage };
}

const bytes = (text: string) => new TextEncoder().encode(text);

/** Lets every upload that can run now finish (no clock time passes). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await settle();
}

describe('recordings in a bucket, local disk as the write-ahead buffer', () => {
  test('nothing is uploaded before recover(); then what was written goes, segments before the manifest that lists them', async () => {
    const { storage, bucket } = rig();
    storage.create('sp1', 's0.m4s', bytes('seg0'));
    storage.write('sp1', 'recording.json', '{"segments":[0]}');
    storage.create('sp1', 's1.m4s', bytes('seg1'));
    storage.write('sp1', 'recording.json', '{"segments":[0,1]}');
    await flush();
    assert.deepEqual(bucket.log, [], 'held until recover()');
    assert.equal(storage.pending, 4, 'each manifest behind the segment written before it');
    await storage.recover();
    await flush();
    assert.deepEqual(bucket.log, ['put sp1/s0.m4s', 'put sp1/recording.json', 'put sp1/s1.m4s', 'put sp1/recording.json']);
    assert.equal(bucket.text('sp1/recording.json'), '{"segments":[0,1]}');
    assert.equal(storage.pending, 0);
    assert.equal(bucket.types.get('sp1/recording.json'), 'application/json');
    assert.equal(bucket.types.get('sp1/s0.m4s'), 'audio/mp4');
  });

  test("a manifest waits behind the segments written before it, as it was then: the bucket's manifest moves with every segment", async () => {
    const { storage, bucket } = rig();
    await storage.recover();
    bucket.hold = true;
    storage.create('sp1', 's0.m4s', bytes('seg0'));
    storage.write('sp1', 'recording.json', '{"segments":[0]}'); // waits behind s0 (in flight)
    storage.create('sp1', 's1.m4s', bytes('seg1'));
    storage.write('sp1', 'recording.json', '{"segments":[0,1]}'); // behind s1; the first keeps its place
    storage.create('sp1', 's2.m4s', bytes('seg2'));
    storage.write('sp1', 'recording.json', '{"segments":[0,1,2]}');
    await flush();
    for (let i = 0; i < 2; i++) {
      bucket.step(); // s0, then the manifest written after it
      await flush();
    }
    assert.equal(bucket.text('sp1/recording.json'), '{"segments":[0]}', 'the manifest as it was when s0 was the newest');
    bucket.release();
    await flush();
    assert.deepEqual(
      bucket.log,
      ['s0.m4s', 'recording.json', 's1.m4s', 's2.m4s', 'recording.json'].map((f) => `put sp1/${f}`),
      'the first waiting manifest kept its place; the newest replaced the one between',
    );
    assert.equal(bucket.text('sp1/recording.json'), '{"segments":[0,1,2]}');
  });

  test('a newer manifest replaces a waiting one when nothing was queued after it', async () => {
    const { storage, bucket } = rig();
    await storage.recover();
    bucket.hold = true;
    storage.create('sp1', 's0.m4s', bytes('seg0'));
    storage.write('sp1', 'recording.json', 'm1');
    storage.write('sp1', 'recording.json', 'm2');
    bucket.release();
    await flush();
    assert.deepEqual(bucket.log, ['put sp1/s0.m4s', 'put sp1/recording.json']);
    assert.equal(bucket.text('sp1/recording.json'), 'm2');
  });

  test('a manifest rewritten while its previous version is in flight is uploaded again after it', async () => {
    const { storage, bucket } = rig();
    await storage.recover();
    bucket.hold = true;
    storage.write('sp1', 'recording.json', 'm1');
    await flush(); // m1 is in flight
    storage.write('sp1', 'recording.json', 'm2');
    bucket.release();
    await flush();
    assert.deepEqual(bucket.log, ['put sp1/recording.json', 'put sp1/recording.json']);
    assert.equal(bucket.text('sp1/recording.json'), 'm2');
  });

  test('a bucket outage: uploads retry with doubling backoff, hold their line in order, health says since when; all arrives once it is back', async () => {
    const { storage, bucket, clock } = rig();
    await storage.recover();
    bucket.down = true;
    const start = clock.now();
    storage.create('sp1', 's0.m4s', bytes('seg0'));
    storage.write('sp1', 'recording.json', 'm0');
    await flush();
    assert.equal(storage.health.ok, false);
    assert.deepEqual(
      storage.health.ok ? undefined : { since: storage.health.since, file: storage.health.file, reason: storage.health.reason },
      { since: start, file: 's0.m4s', reason: 'connect ECONNREFUSED 127.0.0.1:7480' },
    );
    // Attempts at 0, +250, +500 (750), +1000 (1750), +2000 (3750), then every 4000 (the cap).
    const attemptsBy = async (ms: number) => {
      clock.advance(ms - (clock.now() - start));
      await flush();
      return storage.counts.failed;
    };
    assert.equal(await attemptsBy(249), 1);
    assert.equal(await attemptsBy(250), 2);
    assert.equal(await attemptsBy(749), 2);
    assert.equal(await attemptsBy(750), 3);
    assert.equal(await attemptsBy(1750), 4);
    assert.equal(await attemptsBy(3750), 5);
    assert.equal(await attemptsBy(7750), 6);
    assert.equal(await attemptsBy(11_749), 6, 'the wait stops doubling at retryMaxMs');
    assert.equal(await attemptsBy(11_750), 7);
    storage.create('sp1', 's1.m4s', bytes('seg1'));
    storage.write('sp1', 'recording.json', 'm1');
    assert.equal(storage.oldestPendingMs, 11_750, 'the oldest waiting object has waited since the outage began');
    if (!storage.health.ok) assert.equal(storage.health.since, start, 'the outage began with the first failure');
    bucket.down = false;
    await attemptsBy(15_750);
    assert.deepEqual(bucket.log, ['put sp1/s0.m4s', 'put sp1/recording.json', 'put sp1/s1.m4s', 'put sp1/recording.json']);
    assert.equal(bucket.text('sp1/recording.json'), 'm1');
    assert.deepEqual(storage.health, { ok: true });
    assert.equal(storage.pending, 0);
    assert.equal(storage.oldestPendingMs, 0);
  });

  test('one Space whose upload fails does not hold another Space back', async () => {
    const { storage, bucket, clock } = rig();
    await storage.recover();
    const put = bucket.put.bind(bucket);
    bucket.put = async (key, body, type) => {
      if (key.startsWith('bad/')) throw new Error('AccessDenied');
      return put(key, body, type);
    };
    storage.create('bad', 's0.m4s', bytes('x'));
    storage.create('good', 's0.m4s', bytes('y'));
    storage.write('good', 'recording.json', 'g');
    await flush();
    clock.advance(1000);
    await flush();
    assert.deepEqual(bucket.log, ['put good/s0.m4s', 'put good/recording.json']);
    assert.equal(storage.pending, 1);
  });

  test('once a segment is in the bucket, the local copy `localSegments` older goes; load() and stat() then read the bucket', async () => {
    const { storage, bucket, local } = rig({ localSegments: 3 });
    await storage.recover();
    for (let msn = 0; msn < 6; msn++) storage.create('sp1', `s${msn}.m4s`, bytes(`segment ${msn}`));
    await flush();
    assert.deepEqual(
      local.files('sp1').sort(),
      ['s3.m4s', 's4.m4s', 's5.m4s'],
      'the newest three stay on local disk, the older ones are only in the bucket',
    );
    assert.equal(bucket.objects.size, 6);
    assert.equal(storage.read('sp1', 's0.m4s'), undefined, 'the synchronous read is local only');
    assert.equal(new TextDecoder().decode(await storage.load('sp1', 's0.m4s')), 'segment 0');
    assert.equal(await storage.stat('sp1', 's1.m4s'), 'segment 1'.length);
    assert.equal(new TextDecoder().decode(await storage.load('sp1', 's5.m4s')), 'segment 5');
    assert.equal(storage.counts.fromBucket, 1, 'only the evicted one that was read came from the bucket (stat reads nothing)');
    assert.equal(await storage.load('sp1', 's9.m4s'), undefined);
  });

  test('a segment is never evicted before it is in the bucket', async () => {
    const { storage, bucket, local } = rig({ localSegments: 1 });
    await storage.recover();
    bucket.down = true;
    for (let msn = 0; msn < 4; msn++) storage.create('sp1', `s${msn}.m4s`, bytes(`segment ${msn}`));
    await flush();
    assert.equal(local.files('sp1').length, 4, 'all still local while the bucket is down');
  });

  test('a restart (or a crash) uploads what the last process left: missing segments in order, then the manifest', async () => {
    const first = rig();
    await first.storage.recover();
    first.bucket.down = true;
    first.storage.create('sp1', 's0.m4s', bytes('seg0'));
    first.storage.create('sp1', 's1.m4s', bytes('seg1'));
    first.storage.write('sp1', 'recording.json', '{"n":2}');
    await flush();
    first.storage.close(); // the process stops; its line was in memory only
    first.bucket.down = false;
    first.bucket.objects.set('sp1/s0.m4s', bytes('seg0')); // one had made it before the stop

    const second = rig({ dir: first.dir, bucket: first.bucket });
    second.storage.create('sp1', 's2.m4s', bytes('seg2')); // the resumed track writes before recover() ran
    second.storage.write('sp1', 'recording.json', '{"n":3}');
    assert.equal(await second.storage.recover(), 1, 'only s1 is missing: s2 and the manifest already wait in the line');
    await flush();
    assert.deepEqual(first.bucket.log, ['put sp1/s1.m4s', 'put sp1/s2.m4s', 'put sp1/recording.json']);
    assert.equal(first.bucket.text('sp1/recording.json'), '{"n":3}');
  });

  test('hydrate() brings a manifest and init segment from the bucket to a node that has none', async () => {
    const { storage, bucket, local } = rig();
    bucket.objects.set('sp9/recording.json', bytes('{"segments":[]}'));
    bucket.objects.set('sp9/init.mp4', bytes('init'));
    assert.equal(await storage.hydrate('sp9'), true);
    assert.equal(new TextDecoder().decode(local.read('sp9', 'recording.json')), '{"segments":[]}');
    assert.equal(new TextDecoder().decode(local.read('sp9', 'init.mp4')), 'init');
    assert.equal(await storage.hydrate('nothing-here'), false);
  });

  test('remove() deletes from the bucket too, in the line: one object, or everything of a Space', async () => {
    const { storage, bucket } = rig();
    await storage.recover();
    storage.create('sp1', 's0.m4s', bytes('a'));
    storage.create('sp1', 's1.m4s', bytes('b'));
    storage.create('sp2', 's0.m4s', bytes('c'));
    await flush();
    storage.remove('sp1', 's0.m4s');
    await flush();
    assert.deepEqual([...bucket.objects.keys()].sort(), ['sp1/s1.m4s', 'sp2/s0.m4s']);
    storage.remove('sp1');
    await flush();
    assert.deepEqual([...bucket.objects.keys()], ['sp2/s0.m4s']);
  });

  test('drained() resolves once the line is empty; at most `concurrency` Spaces upload at once', async () => {
    const { storage, bucket } = rig({ concurrency: 2 });
    await storage.recover();
    bucket.hold = true;
    let inFlight = 0;
    let most = 0;
    const put = bucket.put.bind(bucket);
    bucket.put = async (key, body, type, options) => {
      most = Math.max(most, ++inFlight);
      try {
        return await put(key, body, type, options);
      } finally {
        inFlight--;
      }
    };
    for (const id of ['a', 'b', 'c', 'd']) storage.create(id, 's0.m4s', bytes(id));
    let drained = false;
    void storage.drained().then(() => (drained = true));
    await flush();
    assert.equal(most, 2);
    assert.equal(drained, false);
    bucket.release();
    await flush();
    bucket.release();
    await flush();
    assert.equal(drained, true);
    assert.equal(bucket.objects.size, 4);
  });
});

describe("fencing: a deposed owner never replaces its successor's manifest", () => {
  /** Two media nodes on one bucket, each with its own disk; `a` held the lease with fence 1, `b` takes it with fence 2. */
  async function twoOwners() {
    const a = rig();
    const b = rig({ bucket: a.bucket });
    await a.storage.recover();
    await b.storage.recover();
    a.storage.fence('sp1', 1);
    a.storage.create('sp1', 's0.m4s', bytes('a0'));
    a.storage.write('sp1', 'recording.json', '{"by":"a","n":1}');
    await flush();
    return { a, b, bucket: a.bucket };
  }
  const text = (local: FileMediaStorage, name: string) => new TextDecoder().decode(local.read('sp1', name));

  test("manifest writes carry the fence; the old owner's next manifest is refused and it uploads nothing more of the Space", async () => {
    const { a, b, bucket } = await twoOwners();
    assert.equal(bucket.fences.get('sp1/recording.json'), 1);
    assert.equal(await b.storage.hydrate('sp1'), true);
    b.storage.fence('sp1', 2);
    // The new owner lists s1 and s2 as the hole's gap and goes on from s3.
    b.storage.create('sp1', 's3.m4s', bytes('b3'));
    b.storage.write('sp1', 'recording.json', '{"by":"b","n":4}');
    await flush();
    // `a` has not noticed yet (a pause): its next writes race the new owner's.
    a.storage.create('sp1', 's1.m4s', bytes('a1'));
    a.storage.write('sp1', 'recording.json', '{"by":"a","n":2}');
    a.storage.create('sp1', 's2.m4s', bytes('a2'));
    await flush();
    assert.equal(bucket.text('sp1/recording.json'), '{"by":"b","n":4}', "the successor's manifest stands");
    assert.equal(bucket.fences.get('sp1/recording.json'), 2);
    assert.equal(a.storage.counts.fenced, 1);
    assert.equal(bucket.objects.has('sp1/s2.m4s'), false, 'nothing after the refusal is uploaded');
    assert.equal(a.storage.pending, 0);
    a.storage.create('sp1', 's3.m4s', bytes('a3'));
    a.storage.write('sp1', 'recording.json', '{"by":"a","n":4}');
    await flush();
    assert.equal(bucket.text('sp1/s3.m4s'), 'b3', "the successor's segment stands");
    assert.equal(bucket.text('sp1/recording.json'), '{"by":"b","n":4}');
  });

  test('a late write of the older owner is overwritten by the newer one (compare-and-set retried)', async () => {
    const { b, bucket } = await twoOwners();
    await b.storage.hydrate('sp1');
    b.storage.fence('sp1', 2);
    b.storage.write('sp1', 'recording.json', '{"by":"b","n":2}');
    await flush();
    // An upload of the old owner that was in flight when it lost the lease lands now.
    await bucket.put('sp1/recording.json', bytes('{"by":"a","late":true}'), 'application/json', { fence: 1 });
    b.storage.write('sp1', 'recording.json', '{"by":"b","n":3}');
    await flush();
    assert.equal(bucket.text('sp1/recording.json'), '{"by":"b","n":3}');
    assert.equal(bucket.fences.get('sp1/recording.json'), 2);
    assert.equal(b.storage.counts.fenced, 0);
  });

  test("a restarted old owner uploads none of its leftovers over the new owner's objects", async () => {
    const { a, b, bucket } = await twoOwners();
    a.storage.close(); // `a` dies; these never left its disk
    a.local.create('sp1', 's1.m4s', bytes('a1'));
    a.local.write('sp1', 'recording.json', '{"by":"a","n":2}');
    await b.storage.hydrate('sp1');
    b.storage.fence('sp1', 2);
    b.storage.write('sp1', 'recording.json', '{"by":"b","n":2}');
    await flush();

    const restarted = rig({ dir: a.dir, bucket });
    bucket.hold = true;
    assert.equal(await restarted.storage.recover(), 2, 's1 and the manifest are sent again');
    // The new owner's s1 lands while the restarted node's upload of its own s1 is in flight.
    bucket.objects.set('sp1/s1.m4s', bytes('b1'));
    bucket.release();
    await flush();
    assert.equal(bucket.text('sp1/s1.m4s'), 'b1', 'the segment the new owner wrote stands');
    assert.equal(bucket.text('sp1/recording.json'), '{"by":"b","n":2}');
    assert.equal(restarted.storage.counts.fenced, 1);
    assert.equal(restarted.storage.counts.uploaded, 0);
  });

  test("hydrate() prefers the bucket's manifest when a newer owner wrote it, and local disk when this node wrote the newest", async () => {
    const { a, b, bucket } = await twoOwners();
    await b.storage.hydrate('sp1');
    b.storage.fence('sp1', 2);
    b.storage.write('sp1', 'recording.json', '{"by":"b","n":2}');
    await flush();
    // `a` takes the Space back (fence 3): its own manifest is older than the bucket's.
    assert.equal(await a.storage.hydrate('sp1'), true);
    assert.equal(text(a.local, 'recording.json'), '{"by":"b","n":2}');
    a.storage.fence('sp1', 3);
    a.storage.write('sp1', 'recording.json', '{"by":"a","n":3}');
    await flush();
    assert.equal(bucket.text('sp1/recording.json'), '{"by":"a","n":3}');
    // Taken again by `a` after a restart: its disk holds the newest, written under the bucket's fence.
    a.local.write('sp1', 'recording.json', '{"by":"a","n":4}');
    assert.equal(await a.storage.hydrate('sp1'), true);
    assert.equal(text(a.local, 'recording.json'), '{"by":"a","n":4}');
  });
});
