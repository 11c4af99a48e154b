import type { Logger } from './logger.ts';

/**
 * A small typed event emitter. Listeners are isolated: one that throws is reported through the
 * emitter's `onListenerError` — required, so no failure is ever swallowed — and never breaks the
 * emitter or the listeners after it.
 */
export type EventMap = Record<string, unknown>;
type Listener<T> = (payload: T) => void;

/** Told about every listener that threw: which event, and the error. */
export type OnListenerError = (event: string, error: unknown) => void;

export class TypedEmitter<Events extends EventMap> {
  #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #onListenerError: OnListenerError;

  constructor(onListenerError: OnListenerError) {
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        this.#onListenerError(String(event), error);
      }
    }
  }
}

/**
 * Where every emitter of a process reports listeners that threw (a bus subscriber, a recording write
 * on the program stream): each failure is logged with the emitter and event, and counted for
 * `/metrics` (`amphi_event_listener_failures_total`).
 */
export class ListenerFailures {
  readonly #log: Logger;
  readonly #counts = new Map<string, { readonly emitter: string; readonly event: string; count: number }>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The `onListenerError` for one emitter, named for the logs and metrics (e.g. `control.bus`). */
  for(emitter: string): OnListenerError {
    return (event, error) => {
      const key = `${emitter} ${event}`;
      const entry = this.#counts.get(key) ?? { emitter, event, count: 0 };
      entry.count++;
      this.#counts.set(key, entry);
      this.#log.error({ err: error, emitter, event }, 'event listener failed');
    };
  }

  /** Failures so far, by emitter and event. */
  counts(): readonly { readonly emitter: string; readonly event: string; readonly count: number }[] {
    return [...this.#counts.values()];
  }
}
