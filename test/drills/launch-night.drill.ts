/**
 * The launch-night drill as CI runs it, through its own command (`node bench/main.ts launch-night`,
 * what `amphi drill launch-night` runs): the short night must pass every goal, and the drill's
 * self-check, a cluster broken on purpose (`--broken-line`: each control node keeps its own line), must
 * fail it on FIFO. A drill is real time on every core, so `npm test` runs this file alone, after the
 * rest of the suite (files named *.drill.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bucketSkip, clusterSkip } from '../helpers/cluster.ts';
import { optionalSuite } from '../helpers/skip.ts';

interface Target {
  readonly name: string;
  readonly value: number;
  readonly pass: boolean;
}
interface NightSummary {
  readonly pass: boolean;
  readonly targets: readonly Target[];
  readonly perNode: Record<string, number | undefined>;
  /** The crowd's errors by kind (an answer other than 200/202, a socket error, a timeout). */
  readonly crowd: { readonly attempts: number; readonly errors: Record<string, number> };
}

/** A drill run's exit code and its scorecard (stdout's last line with --json); SIGTERM past `limitMs`. */
function drill(args: readonly string[], limitMs: number): Promise<{ code: number | null; summary: NightSummary | undefined }> {
  const child = spawn(process.execPath, ['bench/main.ts', 'launch-night', '--short', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'], // progress on stderr, as a person running it sees it
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const timer = setTimeout(() => child.kill('SIGTERM'), limitMs); // the drill stops its cluster on SIGTERM
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1);
      resolve({ code, summary: last?.startsWith('{') === true ? (JSON.parse(last) as NightSummary) : undefined });
    }),
  );
}

const failed = (s: NightSummary) => s.targets.filter((t) => !t.pass).map((t) => `${t.name}: ${t.value}`);

/**
 * What a failed night leaves to read in CI's output (the out folder goes with the test): when each
 * fault was, the holes, the warnings the media nodes and edges logged, and the media nodes' lease
 * and recording lines (a take-over that started the recording over instead of resuming it), a line each.
 */
function explainFailure(out: string): void {
  const figures = (
    JSON.parse(readFileSync(join(out, 'drill-launch-night.json'), 'utf8')) as { figures?: Record<string, unknown> }
  ).figures;
  const pick = ['faults', 'programGapMs', 'stallsAt', 'speakerInterruptionsS', 'replay', 'listenerReconnects'];
  console.error('night figures:', JSON.stringify(Object.fromEntries(pick.map((k) => [k, figures?.[k]]))));
  const logs = join(out, 'drill-launch-night-logs');
  for (const file of existsSync(logs) ? readdirSync(logs).filter((f) => /^(media|edge)-/.test(f)) : []) {
    for (const line of readFileSync(join(logs, file), 'utf8').split('\n')) {
      const entry = line.startsWith('{')
        ? (JSON.parse(line) as { level?: number; time?: string; msg?: string; spaceId?: string })
        : undefined;
      // Warnings, and the take-over's story: whether a new owner resumed the recording or started it over.
      const story = /^(recording (started|resumed)|lease taken|taking over)/.test(entry?.msg ?? '');
      if (entry !== undefined && ((entry.level ?? 0) >= 40 || story))
        console.error(`${file} ${entry.time} ${entry.msg} ${entry.spaceId ?? ''}`);
    }
  }
}

optionalSuite('the launch-night drill (short)', { skip: clusterSkip || bucketSkip(), timeout: 1_200_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'amphi-night-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  test('the night passes every goal, with a report and per-node figures', async () => {
    const { code, summary } = await drill(['--out', out], 480_000);
    assert.ok(summary !== undefined, 'the scorecard is the last line');
    if (failed(summary).length > 0) explainFailure(out);
    assert.deepEqual(failed(summary), [], 'every goal met');
    assert.equal(summary.pass, true);
    assert.equal(code, 0);
    assert.ok(summary.targets.length >= 10, 'the whole scorecard');
    assert.ok(summary.crowd.attempts > 0, 'the crowd came');
    assert.deepEqual(summary.crowd.errors, {}, 'and saw no error of any kind');
    for (const figure of ['controlCpuMicrosPerJoin', 'edgeCpuMicrosPerListenerSecond', 'mediaCpuMicrosPerSpaceSecond']) {
      assert.ok((summary.perNode[figure] ?? 0) > 0, `${figure} measured: ${summary.perNode[figure]}`);
    }
    const report = readFileSync(join(out, 'drill-launch-night.html'), 'utf8');
    assert.match(report, /The launch-night drill: PASS/);
    assert.ok(existsSync(join(out, 'drill-launch-night-logs')), "the nodes' logs are kept");
  });

  test('broken on purpose (a line per control node), it fails on FIFO and exits 1', async () => {
    const { code, summary } = await drill(['--out', out, '--broken-line'], 480_000);
    assert.ok(summary !== undefined, 'the scorecard is the last line');
    const fifo = summary.targets.find((t) => t.name === 'FIFO violations');
    assert.ok(fifo !== undefined && fifo.value > 0 && !fifo.pass, `FIFO violations: ${fifo?.value}`);
    assert.equal(summary.pass, false);
    assert.equal(code, 1);
  });
});
