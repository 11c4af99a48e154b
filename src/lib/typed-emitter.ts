/**
 * A small typed event emitter. Listeners are isolated: one that throws is reported through
 * `onListenerError` and never breaks the emitter or the listeners after it.
 */
export type EventMap = Record<string, unknown>;
type Listener<T> = (payload: T) => void;

export class TypedEmitter<Events extends EventMap> {
  #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #onListenerError: (event: keyof Events, error: unknown) => void;

  constructor(onListenerError: (event: keyof Events, error: unknown) => void = () => {}) {
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
        this.#onListenerError(event, error);
      }
    }
  }
}
