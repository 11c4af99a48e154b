/**
 * What a bench started, undone once: when its run ends, however it ends, or on SIGINT/SIGTERM.
 *
 * Every bench runs inside `withTeardown`, and adds each thing it starts (Amphi, nginx, Icecast, a
 * peer server, a temp dir) the moment it exists, so an interrupted bench leaves no server running and
 * no directory behind. On the first SIGINT or SIGTERM every active teardown runs, then the process
 * exits 128 + the signal's number; later signals only say it is still stopping (a terminal's Ctrl-C
 * and `amphi bench` forwarding it arrive together).
 *
 * A signal means "stop now", not "finish politely", and the promise is 5 s: every child still running
 * gets SIGTERM at once (their stops overlap instead of queueing behind each other: an Amphi waiting
 * out its 10 s shutdown grace on connections this very process holds open made the old sequential stop
 * outlast `timeout`), each step's grace shrinks to INTERRUPTED_GRACE_MS, and at STOP_LIMIT_MS whatever
 * is still running, with its own children (nginx workers, a shell's command), gets SIGKILL before this
 * process exits: it never exits leaving a child behind.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids } from './proc.ts';

type Step = () => unknown;

/** From a signal to this process's exit, at most (the promise is 5 s). */
const STOP_LIMIT_MS = 4000;
/** A child's grace once a signal came: SIGKILL after this. */
const INTERRUPTED_GRACE_MS = 2000;

/** Every child a teardown holds, until it exits. */
const running = new Set<ChildProcess>();

export class Teardown {
  readonly #steps: Step[] = [];
  #done: Promise<void> | undefined;

  /** Runs `step` at teardown, the last added first. Added once teardown began, it runs at once. */
  add(step: Step): void {
    if (this.#done === undefined) this.#steps.push(step);
    else void runStep(step);
  }

  /** A new temporary directory, removed at teardown. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.add(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A child process, stopped at teardown (SIGTERM, then SIGKILL after `graceMs`). */
  child<C extends ChildProcess>(child: C, graceMs = 5000): C {
    if (child.exitCode === null && child.signalCode === null) {
      running.add(child);
      const gone = () => running.delete(child);
      child.once('exit', gone);
      child.once('error', gone);
    }
    this.add(() => stopProcess(child, graceMs));
    return child;
  }

  /** Runs every step once, in reverse; a step that fails is reported, and the others still run. */
  run(): Promise<void> {
    this.#done ??= (async () => {
      for (const step of this.#steps.reverse()) await runStep(step);
    })();
    return this.#done;
  }
}

async function runStep(step: Step): Promise<void> {
  try {
    await step();
  } catch (error) {
    process.stderr.write(`bench: teardown step failed: ${(error as Error).message}\n`);
  }
}

/** Resolves when `child` has exited (at once if it has). */
export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. A child that never started is left. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const grace = stoppedBy === undefined ? graceMs : Math.min(graceMs, INTERRUPTED_GRACE_MS);
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    done.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), grace))),
  ]);
  clearTimeout(timer);
  if (inTime) return;
  killTree(child, 'SIGKILL');
  await done;
}

/** Every process under `pid`, deepest first (read before any is signalled: orphans are re-parented). */
function descendants(pid: number): number[] {
  return childPids(pid).flatMap((c) => [...descendants(c), c]);
}

/** Sends `signal` to `child` and every process under it (nginx's workers, a shell's command). */
function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  const under = child.pid === undefined ? [] : descendants(child.pid);
  child.kill(signal);
  for (const pid of under) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

const active = new Set<Teardown>();
let stoppedBy: NodeJS.Signals | undefined;

/** True once a SIGINT or SIGTERM has begun stopping the benches (their errors from then on are expected). */
export function interrupted(): boolean {
  return stoppedBy !== undefined;
}

/** The exit code of a bench a signal stopped: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). */
export function interruptedCode(): number | undefined {
  return stoppedBy === undefined ? undefined : 128 + constants.signals[stoppedBy];
}

function onSignal(signal: NodeJS.Signals): void {
  if (stoppedBy !== undefined) {
    process.stderr.write(`bench: ${signal} again: still stopping\n`);
    return;
  }
  stoppedBy = signal;
  process.stderr.write(`\nbench: ${signal}: stopping what the bench started\n`);
  stopAll(128 + constants.signals[signal]);
}

/** An error nothing awaited (a rejected promise left pending): Node would exit past the teardown; stop, then exit 1. */
function onFatal(error: unknown): void {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  if (stoppedBy !== undefined) return;
  stoppedBy = 'SIGTERM';
  stopAll(1);
}

function stopAll(code: number): void {
  // All at once: each child starts stopping now, whatever step of the teardown would reach it.
  for (const child of running) child.kill('SIGTERM');
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    for (const child of running) killTree(child, 'SIGKILL');
    process.exit(code);
  };
  setTimeout(() => {
    process.stderr.write(`bench: not stopped within ${STOP_LIMIT_MS / 1000} s: killing what is left\n`);
    exit();
  }, STOP_LIMIT_MS).unref();
  void Promise.all([...active].map((t) => t.run())).finally(exit);
}

let listening = false;

/** Runs `body` with a teardown that runs when it settles, or on SIGINT/SIGTERM before that. */
export async function withTeardown<T>(body: (t: Teardown) => Promise<T>): Promise<T> {
  if (!listening) {
    listening = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('uncaughtException', onFatal);
    process.on('unhandledRejection', onFatal);
  }
  const t = new Teardown();
  active.add(t);
  try {
    return await body(t);
  } finally {
    await t.run();
    active.delete(t);
  }
}
