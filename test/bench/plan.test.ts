import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { plan } from '../../bench/plan.ts';

const dir = mkdtempSync(join(tmpdir(), 'amphi-plan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("amphi plan --drill sizes the night from the launch-night drill's per-node figures", () => {
  const drill = join(dir, 'drill.json');
  writeFileSync(
    drill,
    JSON.stringify({
      perNode: { controlCpuMicrosPerJoin: 400, edgeCpuMicrosPerListenerSecond: 35, mediaCpuMicrosPerSpaceSecond: 900_000 },
    }),
  );
  const base = plan({ listeners: 8_000_000, benchFile: join(dir, 'none.json'), json: false });
  const night = plan({ listeners: 8_000_000, benchFile: join(dir, 'none.json'), drillFile: drill, json: false });
  assert.equal(night.inputs.cpuMicrosPerListenerSecond, 35);
  // 8 M listeners x 35 us / 0.7 = 400 cores.
  assert.equal(night.edgeCores, 400);
  assert.equal(night.cluster.controlCpuMicrosPerJoin, 400);
  // 133k joins/s x 400 us = 53.2 cores, at 70% busy 76.0: rounded up (floating point) to 77.
  assert.equal(night.cluster.controlCores, 77);
  // A Space at 0.9 of a core (0.7 busy): two cores each, doubled.
  assert.equal(night.stageCores, 4);
  assert.notEqual(base.edgeCores, night.edgeCores);
  assert.equal(base.stageCores, 2);
});

test('amphi plan --drill refuses a file that is not there or has no per-node figures', () => {
  assert.throws(
    () => plan({ listeners: 1, benchFile: 'x', drillFile: join(dir, 'missing.json'), json: false }),
    /does not exist/,
  );
  const empty = join(dir, 'empty.json');
  writeFileSync(empty, '{}');
  assert.throws(() => plan({ listeners: 1, benchFile: 'x', drillFile: empty, json: false }), /no per-node figures/);
});
