import type { ObjectStore } from '../../src/origin/bucket.ts';

/** A bucket in memory that records the order of what reaches it and can be switched off. */
export class MemoryBucket implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly types = new Map<string, string>();
  /** Every put and delete that succeeded, in order. */
  readonly log: string[] = [];
  down = false;
  /** Puts answered only when released (`hold` true): to see what is in flight. */
  hold = false;
  readonly #held: (() => void)[] = [];

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    this.#check();
    this.objects.set(key, body.slice());
    this.types.set(key, contentType);
    this.log.push(`put ${key}`);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#check();
    return Promise.resolve(this.objects.get(key));
  }

  async size(key: string): Promise<number | undefined> {
    this.#check();
    return Promise.resolve(this.objects.get(key)?.length);
  }

  async delete(key: string): Promise<void> {
    this.#check();
    this.objects.delete(key);
    this.log.push(`delete ${key}`);
    return Promise.resolve();
  }

  async list(prefix: string): Promise<string[]> {
    this.#check();
    return Promise.resolve([...this.objects.keys()].filter((k) => k.startsWith(prefix)));
  }

  release(): void {
    this.hold = false;
    for (const resolve of this.#held.splice(0)) resolve();
  }

  text(key: string): string | undefined {
    const data = this.objects.get(key);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }

  #check(): void {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:7480');
  }
}
