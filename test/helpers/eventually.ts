import { setTimeout as sleep } from 'node:timers/promises';
import { debuglog, inspect } from 'node:util';

/** NODE_DEBUG=amphi-test prints what each wait was for and how long it took. */
const debug = debuglog('amphi-test');

/** What a probe's answer is once it counts: not false, 0, '', null or undefined. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

export interface EventuallyOptions {
  /** How long to keep trying before failing (default 5000 ms). */
  readonly timeoutMs?: number;
  /** The pause between two tries (default 20 ms; 0 tries again on the next turn of the event loop). */
  readonly intervalMs?: number;
}

/**
 * Waits for a condition on real sockets, processes or media, where there is no event to await.
 * Calls `probe` at once, then again `intervalMs` after each answer, until it returns a truthy value,
 * and resolves with that value. A probe that throws (an assertion, a refused connection) counts as
 * "not yet"; throw an assertion to have its message shown on failure. Past `timeoutMs` it rejects
 * with what was awaited (`what`, read as "waiting for <what>") and the last value or error seen;
 * a probe still running then is not waited for. Tries never overlap.
 *
 * Logic on the injected clock needs none of this: advance the `ManualClock` instead.
 */
export function eventually<T>(what: string, probe: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<Truthy<T>> {
  const { timeoutMs = 5000, intervalMs = 20 } = options;
  const startedAt = performance.now();
  let tries = 0;
  let probing = false;
  let last: { value: unknown } | { error: unknown } | undefined;
  let over = false;
  return new Promise<Truthy<T>>((resolve, reject) => {
    const deadline = setTimeout(() => {
      over = true;
      const seen =
        last === undefined
          ? 'no try had answered'
          : 'error' in last
            ? `last error: ${last.error instanceof Error ? last.error.message : inspect(last.error)}`
            : `last value: ${inspect(last.value, { depth: 3, maxStringLength: 2000, breakLength: Infinity })}`;
      const running = probing && last !== undefined ? '; a later try was still running' : '';
      reject(
        new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${tries} tries); ${seen}${running}`, {
          cause: last !== undefined && 'error' in last ? last.error : undefined,
        }),
      );
    }, timeoutMs);
    const poll = async () => {
      while (!over) {
        tries++;
        probing = true;
        try {
          const value = await probe();
          if (over) return;
          if (value) {
            clearTimeout(deadline);
            debug('%s: after %d ms (%d tries)', what, Math.round(performance.now() - startedAt), tries);
            resolve(value as Truthy<T>);
            return;
          }
          last = { value };
        } catch (error) {
          last = { error };
        }
        probing = false;
        await sleep(intervalMs);
      }
    };
    void poll();
  });
}

/**
 * Lets real time pass, for the few waits that are not for a condition: real media has to flow for
 * a while before it can be measured (a tone through the mix, a browser playing, a gap in a stream).
 * `why` says what must flow; NODE_DEBUG=amphi-test prints it. Whatever can be checked is awaited
 * with `eventually` instead.
 */
export async function realTime(ms: number, why: string): Promise<void> {
  debug('real time, %d ms: %s', ms, why);
  await sleep(ms);
}
