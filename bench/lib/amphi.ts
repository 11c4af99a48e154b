/** Amphi as the benches run it: `amphi start` in a child process pinned to CPU 0, on free ports, in a temp data dir. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sleep } from './sleep.ts';
import type { Teardown } from './teardown.ts';

/** The repository's root, where bin/, deploy/ and node_modules/ are. */
export const root = fileURLToPath(new URL('../../', import.meta.url));

/** The program bitrate of the listener benches (Amphi and Icecast alike): TARGETS' reference rate. */
export const BENCH_BITRATE_BPS = 32_000;

/** Amphi stops within its own shutdown grace (10 s by default); past this it is killed. */
const STOP_GRACE_MS = 15_000;
/** Node start-up and migrations: a server that has not said it listens by then never will. */
const START_TIMEOUT_MS = 30_000;

export interface Amphi {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The API's base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
}

/** `extra` merged over `base`, objects key by key (arrays and values replace). */
export function mergeConfig(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prev = out[key];
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    out[key] = isObject(prev) && isObject(value) ? mergeConfig(prev, value) : value;
  }
  return out;
}

/**
 * The config of the benches that measure the edge, with `extra` merged over it (the drills set their
 * own admission settings). They join every listener from one process and put hundreds of listeners on
 * each source address, so per-address limits and the join burst are lifted: this measures the edge;
 * `amphi bench joins` and `amphi bench flood` measure the door.
 */
export function benchConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = {
    stage: { programBitrateBps: BENCH_BITRATE_BPS },
    admission: {
      maxListeners: 1_000_000,
      joinBurst: 1_000_000,
      limits: {
        joinsPerAddress: { capacity: 1_000_000, refillPerSecond: 100_000 },
        perAddress: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
      },
    },
    // A few loopback source addresses carry thousands of simulated listeners.
    edge: { maxStreamsPerAddress: 1_000_000 },
  };
  return mergeConfig(base, extra);
}

/**
 * Starts `amphi start` pinned to CPU 0 with `config` (written to a file in a new data dir named after
 * the bench); the teardown stops it and removes the dir. Resolves once it listens.
 */
export function startAmphi(t: Teardown, name: string, config: Record<string, unknown>): Promise<Amphi> {
  const dataDir = t.tempDir(`amphi-bench-${name}-`);
  const configFile = join(dataDir, 'bench.json');
  writeFileSync(configFile, JSON.stringify(config));
  const args = ['start', '--port', '0', '--stage-port', '0', '--data-dir', dataDir, '--config', configFile];
  const child = spawn('taskset', ['-c', '0', process.execPath, join(root, 'bin/amphi.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AMPHI_LOG_LEVEL: 'info' },
  });
  t.child(child, STOP_GRACE_MS);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`setup: amphi did not listen within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`setup: amphi ${why} (its log is above)`));
    };
    child.once('error', (e) => fail(`did not start: ${e.message}`));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = parseLine(line);
      if (e?.msg === 'amphi listening' && e.url !== undefined) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid!, url: e.url });
      }
    });
  });
}

function parseLine(line: string): { msg?: string; url?: string } | undefined {
  try {
    return JSON.parse(line) as { msg?: string; url?: string };
  } catch {
    return undefined; // not a log line
  }
}

/** The live demo Space (the built-in program), once the server has started it. */
export async function demoSpace(url: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${url}/api/spaces?state=live`);
    if (res.status !== 200) throw new Error(`setup: listing live Spaces answered ${res.status}: ${await res.text()}`);
    const spaces = (await res.json()) as { spaces: { id: string }[] };
    const id = spaces.spaces[0]?.id;
    if (id !== undefined) return id;
    await sleep(100); // the demo starts right after the listener is up
  }
  throw new Error('no live demo Space: the bench needs demo.enabled');
}
