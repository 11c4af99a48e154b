/**
 * The SIGTERM check every bench gets (issue 21, item 4), shared by test/bench/sigterm.test.ts and the
 * launch-night drill's own (test/drills/launch-night-sigterm.drill.ts, run alone: a whole cluster).
 *
 * A case spawns `node bench/main.ts <command> <short options>` in a process group of its own, with
 * a marker in its environment (AMPHI_BENCH_MARK=<random>) that every process it starts inherits. Once
 * the bench has really started (its line saying so, printed after its server listens), the bench
 * alone gets SIGTERM, as `timeout` or systemd would send it: the bench must end its servers, peers and
 * load generators itself. It must exit within 5 s with 143 (128 + SIGTERM: bench/lib/teardown.ts),
 * and by then no process may carry the marker nor remain in its group. Whatever is left is killed in
 * a `finally`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.ts';

const main = fileURLToPath(new URL('../../bench/main.ts', import.meta.url));
export const STOP_LIMIT_MS = 5000;

export interface Case {
  readonly command: string;
  readonly args: readonly string[];
  /** A line the bench prints once what it starts is running. */
  readonly ready: RegExp;
  /** How long it may take to get there. */
  readonly readyWithinMs: number;
  readonly signal?: 'SIGTERM' | 'SIGINT';
  readonly skip?: false | string;
  /** When the signal comes, where a command has two cases. */
  readonly label?: string;
}

/** The pids of live processes whose environment carries `mark` (zombies have none left). */
export function marked(mark: string): number[] {
  const needle = `AMPHI_BENCH_MARK=${mark}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(needle)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** The pids in process group `pgid` that are still running (not zombies). */
function inGroup(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

const describeProcess = (pid: number) => {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120)}`;
  } catch {
    return `${pid} (gone)`;
  }
};

/** Resolves with the output so far once `re` matches it; rejects if the bench exits or `ms` pass first. */
function started(child: ChildProcess, re: RegExp, ms: number, output: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not started within ${ms} ms:\n${output.text.slice(-3000)}`)), ms);
    const check = () => {
      if (!re.test(output.text)) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before it started:\n${output.text.slice(-3000)}`));
    });
  });
}

export async function stopsOnSignal(c: Case): Promise<void> {
  const mark = randomBytes(8).toString('hex');
  const signal = c.signal ?? 'SIGTERM';
  const child = spawn(process.execPath, [main, c.command, ...c.args], {
    detached: true, // a process group of its own: nothing it starts can hide from the final kill
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AMPHI_BENCH_MARK: mark },
  });
  const output = { text: '' };
  const keep = (d: Buffer) => (output.text = (output.text + d.toString()).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, sig) => resolve({ code, signal: sig, at: Date.now() })),
  );
  const pgid = child.pid!;
  try {
    await started(child, c.ready, c.readyWithinMs, output);
    // A process of its own besides itself (Redis hides its environment: it rewrites its title over it).
    await eventually(`${c.command} running a process of its own`, () => marked(mark).length > 1, {
      timeoutMs: c.readyWithinMs,
    });
    const sentAt = Date.now();
    child.kill(signal); // the bench alone, not its group: it must stop what it started itself
    const ended = await Promise.race([exit, new Promise<undefined>((r) => setTimeout(r, STOP_LIMIT_MS + 1000))]);
    assert.ok(
      ended !== undefined,
      `${c.command} still running ${STOP_LIMIT_MS + 1000} ms after ${signal}:\n${output.text.slice(-2000)}`,
    );
    assert.ok(ended.at - sentAt <= STOP_LIMIT_MS, `${c.command} took ${ended.at - sentAt} ms to stop`);
    console.log(`${c.command}${c.label === undefined ? '' : ` (${c.label})`}: stopped ${ended.at - sentAt} ms after ${signal}`);
    assert.equal(
      ended.code,
      signal === 'SIGTERM' ? 143 : 130,
      `exit ${ended.code ?? ended.signal}:\n${output.text.slice(-2000)}`,
    );
    // Everything it started is gone by the 5 s (a killed process takes a moment to be reaped).
    let left = marked(mark);
    let group = inGroup(pgid);
    while ((left.length > 0 || group.length > 0) && Date.now() - sentAt < STOP_LIMIT_MS) {
      await new Promise((r) => setTimeout(r, 50));
      left = marked(mark);
      group = inGroup(pgid);
    }
    assert.deepEqual(left.map(describeProcess), [], `${c.command} left processes behind (by its marker)`);
    assert.deepEqual(group.map(describeProcess), [], `${c.command} left processes in its group`);
  } finally {
    for (const pid of [...marked(mark), ...inGroup(pgid)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
