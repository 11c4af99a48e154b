import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { exited } from '../../bench/lib/teardown.ts';
import type { Cleanup } from './cleanup.ts';

export const bin = new URL('../../bin/amphi.mjs', import.meta.url).pathname;

/**
 * A data directory of its own (removed by `cleanup`) with a config that turns the demo off, and the
 * `amphi start` arguments that use both: start, stop and start again on the same `args`.
 */
export function quietDataDir(cleanup: Cleanup, prefix: string): { dir: string; args: string[] } {
  const dir = mkdtempSync(join(tmpdir(), `amphi-${prefix}-`));
  cleanup.add('data dir', () => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'amphi.yaml');
  writeFileSync(config, 'demo:\n  enabled: false\n');
  return { dir, args: ['--data-dir', dir, '--config', config] };
}

export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly logs: Record<string, unknown>[];
}

/** How long `amphi start` may take to listen, and to stop after a signal. */
const START_LIMIT_MS = 20_000;
const STOP_LIMIT_MS = 15_000;

/**
 * Starts the real `amphi start` process (`--port 0 --stage-port 0` and `args`) and waits (bounded)
 * for its "listening" log line. The child is added to `cleanup` at once, so it is stopped whatever
 * the test does next. Its JSON log lines are kept in `logs`.
 */
export function startAmphi(cleanup: Cleanup, args: string[], env: Record<string, string> = {}): Promise<Running> {
  const child = cleanup.child(
    'amphi start',
    spawn(process.execPath, [bin, 'start', '--port', '0', '--stage-port', '0', ...args], {
      env: { ...process.env, ...env, AMPHI_LOG_LEVEL: 'info' },
    }),
  );
  const logs: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(
      () => reject(new Error(`amphi not listening after ${START_LIMIT_MS} ms: ${stderr}`)),
      START_LIMIT_MS,
    );
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`amphi exited with ${code} before listening: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: 'not JSON', line }; // shown by the assertions that read the logs
      }
      logs.push(entry);
      if (entry.msg === 'amphi listening') {
        clearTimeout(timer);
        resolve({ child, url: String(entry.url), logs });
      }
    });
  });
}

/** Sends `signal` and resolves with the exit code; rejects (the cleanup then kills it) if it does not exit in time. */
export async function stop(running: Running, signal: NodeJS.Signals): Promise<number | null> {
  const { child } = running;
  const done = exited(child);
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`amphi still running ${STOP_LIMIT_MS} ms after ${signal}`)), STOP_LIMIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  return child.exitCode;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
export type Json = Record<string, any>;

/** One JSON API call to a running process (`body` undefined: no body). */
export async function call(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; json: Json }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

export const post = (url: string, body: unknown, token?: string) => call('POST', url, body, token);
