import type { MediaStorage } from '../../src/origin/storage.ts';

/**
 * Media storage in memory with a switch that makes every write fail like a full disk (ENOSPC), the
 * way `FileMediaStorage` fails: nothing is stored, the error is thrown. Write-once like the real one.
 */
export class MemoryMediaStorage implements MediaStorage {
  readonly files = new Map<string, Uint8Array>();
  full = false;
  failedWrites = 0;
  /** Reads per file name (`recording.json`: 3), to show what the hot paths do not read. */
  readonly readsByName = new Map<string, number>();

  write(spaceId: string, name: string, data: Uint8Array | string): void {
    this.#check();
    this.files.set(`${spaceId}/${name}`, typeof data === 'string' ? new TextEncoder().encode(data) : data.slice());
  }

  create(spaceId: string, name: string, data: Uint8Array): void {
    this.#check();
    if (this.files.has(`${spaceId}/${name}`)) throw Object.assign(new Error(`EEXIST: ${name}`), { code: 'EEXIST' });
    this.files.set(`${spaceId}/${name}`, data.slice());
  }

  read(spaceId: string, name: string): Uint8Array | undefined {
    this.readsByName.set(name, (this.readsByName.get(name) ?? 0) + 1);
    return this.files.get(`${spaceId}/${name}`);
  }

  size(spaceId: string, name: string): number | undefined {
    return this.files.get(`${spaceId}/${name}`)?.length;
  }

  load(spaceId: string, name: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.read(spaceId, name));
  }

  stat(spaceId: string, name: string): Promise<number | undefined> {
    return Promise.resolve(this.size(spaceId, name));
  }

  setAside(spaceId: string, name: string, suffix: string): boolean {
    const data = this.files.get(`${spaceId}/${name}`);
    if (data === undefined) return false;
    this.files.delete(`${spaceId}/${name}`);
    this.files.set(`${spaceId}/.${name}.${suffix}`, data);
    return true;
  }

  remove(spaceId: string, name?: string): void {
    for (const key of [...this.files.keys()]) {
      if (name === undefined ? key.startsWith(`${spaceId}/`) : key === `${spaceId}/${name}`) this.files.delete(key);
    }
  }

  spaces(): string[] {
    return [...new Set([...this.files.keys()].map((k) => k.split('/')[0]!))];
  }

  text(spaceId: string, name: string): string | undefined {
    const data = this.read(spaceId, name);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }

  #check(): void {
    if (!this.full) return;
    this.failedWrites++;
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }
}
