import {
  closeSync,
  fdatasyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Where recordings live. The origin writes every segment here before it lists it, so the recording
 * is the live stream itself. Files under `<dataDir>/media/<spaceId>/` by default.
 */
export interface MediaStorage {
  /** Writes durably and atomically (a reader never sees half a file), replacing what was there. */
  write(spaceId: string, name: string, data: Uint8Array | string): void;
  /**
   * Writes durably and atomically, once: throws (code `EEXIST`) when `name` already exists, so a
   * segment that was written is never rewritten, whatever a restart gets wrong.
   */
  create(spaceId: string, name: string, data: Uint8Array): void;
  read(spaceId: string, name: string): Uint8Array | undefined;
  /** A stored file's length in bytes, without reading it; undefined when there is none. */
  size(spaceId: string, name: string): number | undefined;
  /**
   * `read` for the serving paths (replays, DVR, downloads), which may reach past local disk: with a
   * bucket, an object no longer kept locally is fetched from it.
   */
  load(spaceId: string, name: string): Promise<Uint8Array | undefined>;
  /** `size` for the serving paths, likewise. */
  stat(spaceId: string, name: string): Promise<number | undefined>;
  /** Renames `name` out of the way (kept for an operator, never served), if it exists. */
  setAside(spaceId: string, name: string, suffix: string): boolean;
  /** Deletes one file, or everything stored for the Space when `name` is omitted. */
  remove(spaceId: string, name?: string): void;
  /** Space ids that have anything stored. */
  spaces(): string[];
}

/** Media is readable by the owner's group (a backup or a web server), never by everyone. */
const FILE_MODE = 0o640;
const DIR_MODE = 0o750;

export class FileMediaStorage implements MediaStorage {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    mkdirSync(root, { recursive: true, mode: DIR_MODE });
  }

  write(spaceId: string, name: string, data: Uint8Array | string): void {
    const { dir, tmp } = this.#temp(spaceId, name, data);
    renameSync(tmp, join(dir, name));
  }

  create(spaceId: string, name: string, data: Uint8Array): void {
    const { dir, tmp } = this.#temp(spaceId, name, data);
    // link() refuses an existing target: the atomic "create, never replace" that rename() is not.
    try {
      linkSync(tmp, join(dir, name));
    } finally {
      unlinkSync(tmp);
    }
  }

  read(spaceId: string, name: string): Uint8Array | undefined {
    try {
      return readFileSync(join(this.#root, spaceId, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  size(spaceId: string, name: string): number | undefined {
    return statSync(join(this.#root, spaceId, name), { throwIfNoEntry: false })?.size;
  }

  load(spaceId: string, name: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.read(spaceId, name));
  }

  stat(spaceId: string, name: string): Promise<number | undefined> {
    return Promise.resolve(this.size(spaceId, name));
  }

  setAside(spaceId: string, name: string, suffix: string): boolean {
    try {
      renameSync(join(this.#root, spaceId, name), join(this.#root, spaceId, `.${name}.${suffix}`));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  remove(spaceId: string, name?: string): void {
    rmSync(name === undefined ? join(this.#root, spaceId) : join(this.#root, spaceId, name), { recursive: true, force: true });
  }

  /** The files stored for a Space (set-aside and temporary files left out). */
  files(spaceId: string): string[] {
    try {
      return readdirSync(join(this.#root, spaceId)).filter((name) => !name.startsWith('.'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  spaces(): string[] {
    return readdirSync(this.#root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  }

  /** Writes `data` to a temporary file beside `name` and syncs it; removed again if anything fails. */
  #temp(spaceId: string, name: string, data: Uint8Array | string): { dir: string; tmp: string } {
    const dir = join(this.#root, spaceId);
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    const tmp = join(dir, `.${name}.tmp`);
    try {
      const fd = openSync(tmp, 'w', FILE_MODE);
      try {
        writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      // A full disk leaves a half-written temporary file: free its space for the next attempt.
      rmSync(tmp, { force: true });
      throw error;
    }
    return { dir, tmp };
  }
}
