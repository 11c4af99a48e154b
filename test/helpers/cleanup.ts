import type { ChildProcess } from 'node:child_process';
import { stopProcess } from '../../bench/lib/teardown.ts';

/**
 * What a suite (or a test) started, closed however it ends. Add each part the moment it exists and
 * run the cleanup in `after` (or `finally`): a `before` that fails half-way then closes exactly what it
 * started, never an `undefined` it did not. Steps run last-added first, each bounded; a step that
 * throws or hangs does not stop the others (one left open would keep the test file's process alive),
 * and the first failure is thrown at the end.
 *
 * The benches' `Teardown` (bench/lib/teardown.ts) reports a failing step and carries on; a test must
 * fail instead, since a close() that throws is a bug. Its `stopProcess` is shared.
 */
export class Cleanup {
  readonly #steps: { what: string; step: () => unknown }[] = [];
  readonly #stepLimitMs: number;

  /** `stepLimitMs`: how long one step may take before it counts as hung (the others still run). */
  constructor({ stepLimitMs = 15_000 }: { stepLimitMs?: number } = {}) {
    this.#stepLimitMs = stepLimitMs;
  }

  /** Runs `step` at cleanup; `what` names it if it fails. */
  add(what: string, step: () => unknown): void {
    this.#steps.push({ what, step });
  }

  /** `value`, with `close(value)` added: `server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown())`. */
  use<T>(what: string, value: T, close: (value: T) => unknown): T {
    this.add(what, () => close(value));
    return value;
  }

  /** A child process, stopped at cleanup (SIGTERM, then SIGKILL after `graceMs`). */
  child<C extends ChildProcess>(what: string, child: C, graceMs = 5000): C {
    return this.use(what, child, (c) => stopProcess(c, graceMs));
  }

  /** Runs every step added so far once, the last added first; throws the first failure after all ran. */
  async run(): Promise<void> {
    const failures: Error[] = [];
    for (const { what, step } of this.#steps.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(step),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`still closing after ${this.#stepLimitMs} ms`)), this.#stepLimitMs);
          }),
        ]);
      } catch (error) {
        failures.push(new Error(`cleanup of ${what} failed: ${(error as Error).message}`, { cause: error }));
      } finally {
        clearTimeout(timer);
      }
    }
    const [first] = failures;
    if (first === undefined) return;
    throw failures.length === 1 ? first : new AggregateError(failures, failures.map((f) => f.message).join('; '));
  }
}
