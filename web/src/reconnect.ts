import { Backoff, realTimers, reconnectPolicy, type BackoffPolicy, type Timers } from './backoff.ts';

/** Where a self-healing connection stands, for the page to show. */
export type LinkStatus =
  | { readonly kind: 'connected' }
  | { readonly kind: 'reconnecting'; readonly attempt: number }
  | { readonly kind: 'stopped'; readonly reason: string };

/** One connection (a WHIP session, a held stream, a player): `dropped` settles when it ends unasked. */
export interface Link {
  readonly dropped: Promise<unknown>;
  close(): void | Promise<void>;
}

/**
 * An answer that asking again cannot change (removed, moved to the audience, the Space ended, an
 * offer the server will never take): the supervisor stops instead of retrying. Any other error
 * (the network, a restarting server, 5xx, 429) is retried.
 */
export class Refusal extends Error {}

export interface SupervisorOptions<L extends Link> {
  readonly onStatus: (status: LinkStatus) => void;
  /** A link already up, to follow first (its errors were the caller's); without one, `open` runs now. */
  readonly first?: L;
  readonly policy?: BackoffPolicy;
  readonly timers?: Timers;
  /** A link that stayed up this long has healed: the next drop starts the backoff over. */
  readonly stableMs?: number;
}

export interface Supervisor {
  /** Stops for good: no more retries, the current link closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Keeps a link up: when it drops, waits (`Backoff`) and opens a new one, again and again, until
 * `open` throws a `Refusal` (status `stopped`) or `close()` is called. Says `reconnecting` with the
 * attempt number before each wait, `connected` once a link is up again.
 */
export function supervise<L extends Link>(open: () => Promise<L>, options: SupervisorOptions<L>): Supervisor {
  const timers = options.timers ?? realTimers;
  const stableMs = options.stableMs ?? 10_000;
  const backoff = new Backoff(options.policy ?? reconnectPolicy, timers);
  let current: L | undefined;
  let stopped = false;

  const follow = (link: L) => {
    current = link;
    const since = timers.now();
    const onDrop = () => {
      if (current !== link) return; // replaced, or closed on purpose (close() forgets it)
      current = undefined;
      if (timers.now() - since >= stableMs) backoff.reset();
      void connect(true);
    };
    link.dropped.then(onDrop, onDrop);
  };

  const connect = async (waitFirst: boolean) => {
    for (let wait = waitFirst; !stopped; wait = true) {
      if (wait) {
        options.onStatus({ kind: 'reconnecting', attempt: backoff.attempt + 1 });
        if (!(await backoff.wait())) return;
      }
      try {
        const link = await open();
        if (stopped) {
          await link.close();
          return;
        }
        options.onStatus({ kind: 'connected' });
        follow(link);
        return;
      } catch (error) {
        if (stopped) return;
        if (error instanceof Refusal) {
          stopped = true;
          options.onStatus({ kind: 'stopped', reason: error.message });
          return;
        }
      }
    }
  };

  if (options.first !== undefined) follow(options.first);
  else void connect(false);
  return {
    async close() {
      if (stopped) return;
      stopped = true;
      backoff.cancel();
      const link = current;
      current = undefined;
      await link?.close();
    },
  };
}
