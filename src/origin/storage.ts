import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where recordings live. The origin writes every segment here before it lists it, so the recording
 * is the live stream itself. Files under `<dataDir>/media/<spaceId>/` by default.
 */
export interface MediaStorage {
  /** Writes durably and atomically (a reader never sees half a file). */
  write(spaceId: string, name: string, data: Uint8Array | string): void;
  read(spaceId: string, name: string): Uint8Array | undefined;
  /** Space ids that have anything stored. */
  spaces(): string[];
}

export class FileMediaStorage implements MediaStorage {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    mkdirSync(root, { recursive: true });
  }

  write(spaceId: string, name: string, data: Uint8Array | string): void {
    const dir = join(this.#root, spaceId);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${name}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, name));
  }

  read(spaceId: string, name: string): Uint8Array | undefined {
    try {
      return readFileSync(join(this.#root, spaceId, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  spaces(): string[] {
    return readdirSync(this.#root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  }
}
