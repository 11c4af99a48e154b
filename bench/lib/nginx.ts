/** Debian's nginx as a bench's peer: one master and its worker pinned to CPU 0, in a temp prefix. */
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childPids } from './proc.ts';
import { sleep } from './sleep.ts';
import type { Teardown } from './teardown.ts';

export interface Nginx {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The workers and their children (the master only hands out work). */
  readonly pids: () => number[];
}

export interface NginxOptions {
  /** Names the temp prefix: amphi-bench-<name>-XXXXXX. */
  readonly name: string;
  /** nginx.conf for this prefix, listening on `listen` (host:port); it must say `daemon off`. */
  readonly conf: (prefix: string, listen: string) => string;
  /** Fills the prefix before nginx starts (cache or html directories, files to serve). */
  readonly setup?: (prefix: string) => void;
}

/** Starts nginx; the teardown stops it and removes its prefix. */
export async function startNginx(t: Teardown, o: NginxOptions): Promise<Nginx> {
  const prefix = t.tempDir(`amphi-bench-${o.name}-`);
  chmodSync(prefix, 0o755);
  o.setup?.(prefix);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(join(prefix, 'nginx.conf'), o.conf(prefix, `127.0.0.1:${port}`));
  const child = t.child(
    spawn('taskset', ['-c', '0', 'nginx', '-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' }),
  );
  await sleep(500);
  const master = child.pid!;
  return { url: `http://127.0.0.1:${port}`, pids: () => childPids(master).flatMap((p) => [p, ...childPids(p)]) };
}
