/** A byte-bounded least-recently-used map for the edge's objects. */
export class ByteLru<V extends { readonly size: number }> {
  readonly #maxBytes: number;
  #bytes = 0;
  #entries = new Map<string, V>();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    if (value.size > this.#maxBytes) return;
    this.#entries.set(key, value);
    this.#bytes += value.size;
    while (this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  delete(key: string): void {
    const existing = this.#entries.get(key);
    if (existing === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= existing.size;
  }

  get bytes(): number {
    return this.#bytes;
  }
}
