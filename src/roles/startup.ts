import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/logger.ts';
import type { StagePlane } from '../stage/plane.ts';
import type { Store } from '../storage/store.ts';
import { redactUrlPassword } from '../lib/redact-url.ts';

/** A start-up failure an operator can fix, said in one line with what to do. */
export class StartupError extends Error {
  override name = 'StartupError';
}

interface SystemError {
  readonly code?: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly address?: string;
  readonly port?: number;
  readonly message: string;
}

const dataDirFix = '--data-dir (AMPHI_DATA_DIR)';

/** What a file-system error on the data directory means, and what to do. */
function dataDirProblem(error: SystemError, dataDir: string): string | undefined {
  const where = `cannot use the data directory ${dataDir}`;
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      return `${where}: permission denied on ${error.path ?? dataDir}; make it writable by this user (${process.getuid?.() ?? '?'}), or choose another with ${dataDirFix}`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `${where}: a file is in the way of ${error.path ?? dataDir} (a directory must be there); move it, or choose another with ${dataDirFix}`;
    case 'EROFS':
      return `${where}: it is on a read-only file system; choose a writable one with ${dataDirFix}`;
    case 'ENOSPC':
      return `${where}: the disk is full; free space, or choose another with ${dataDirFix}`;
    default:
      return undefined;
  }
}

/**
 * Holds a data directory for this process: a second Amphi given the same directory stops before it
 * reads or writes anything there. The lock is an abstract Unix socket named after the directory's
 * real path: the kernel frees it when the process ends however it ends (kill -9 included), so a crash
 * never leaves a stale lock. `amphi.pid` beside the data says who holds it, for the message.
 */
export async function lockDataDir(dataDir: string): Promise<{ release(): void }> {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StartupError(
      dataDirProblem(error as SystemError, dataDir) ?? `cannot create the data directory ${dataDir}: ${(error as Error).message}`,
    );
  }
  const real = realpathSync(dataDir);
  const name = `\0amphi-data-${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
  const pidFile = join(real, 'amphi.pid');
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: Error & SystemError) => {
      if (error.code !== 'EADDRINUSE') {
        reject(error);
        return;
      }
      let holder = '';
      try {
        holder = ` (pid ${readFileSync(pidFile, 'utf8').trim()})`;
      } catch {
        // The other one has not written its pid yet.
      }
      reject(
        new StartupError(
          `another Amphi${holder} is running with the data directory ${real}; stop it first, or give this one its own ${dataDirFix} and ports`,
        ),
      );
    });
    server.listen(name, resolve);
  });
  server.unref();
  try {
    writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  } catch (error) {
    server.close();
    throw new StartupError(
      dataDirProblem(error as SystemError, dataDir) ?? `cannot write ${pidFile}: ${(error as Error).message}`,
    );
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      rmSync(pidFile, { force: true });
      server.close();
    },
  };
}

/** Which setting chooses a port, for the message. */
function portSetting(config: Readonly<Config>, port: number | undefined): string {
  if (port === config.stage.port) return '--stage-port (AMPHI_STAGE_PORT)';
  if (port === config.server.port) return '--port (AMPHI_SERVER_PORT)';
  return 'its setting';
}

/**
 * The one line (without the `amphi: ` prefix) that explains a start-up failure and what to do about
 * it, or undefined for a failure that is not the operator's to fix (a bug: its stack is shown).
 */
export function explainStartupFailure(error: unknown, config: Readonly<Config>): string | undefined {
  if (error instanceof StartupError) return error.message;
  const e = error as SystemError;
  if (e.syscall === 'listen' || e.syscall === 'bind') {
    const at = `${e.address ?? config.server.host}:${e.port ?? '?'}`;
    if (e.code === 'EADDRINUSE')
      return `cannot listen on ${at}: the port is in use (another Amphi, or another program); stop it, or choose another port with ${portSetting(config, e.port)}`;
    if (e.code === 'EACCES')
      return `cannot listen on ${at}: permission denied (ports below 1024 need privileges); choose a port above 1023 with ${portSetting(config, e.port)}`;
    if (e.code === 'EADDRNOTAVAIL')
      return `cannot listen on ${at}: that address is not on this machine; choose one of its addresses with --host (AMPHI_SERVER_HOST)`;
  }
  if (e.path !== undefined && e.path.startsWith(config.dataDir)) return dataDirProblem(e, config.dataDir);
  return undefined;
}

/** What a failure to reach the database at start means, in one line with what to do. */
export function databaseUnreachable(error: unknown, databaseUrl: string): StartupError {
  const e = error as SystemError & { code?: string };
  const url = redactUrlPassword(databaseUrl);
  const why: Record<string, string> = {
    ECONNREFUSED: 'nothing is listening there; start PostgreSQL, or fix the host and port',
    ENOTFOUND: 'the host name does not resolve; fix the host',
    ETIMEDOUT: 'the connection timed out; check the host, the port and the firewall',
    EHOSTUNREACH: 'the host is unreachable; check the host and the network',
    '28P01': 'the password was refused; fix the user and password',
    '28000': 'the server refused this user; check pg_hba.conf and the user',
    '3D000': 'that database does not exist; create it (createdb) or fix its name',
  };
  const reason = why[e.code ?? ''] ?? e.message;
  return new StartupError(`cannot reach the database at ${url}: ${reason} (DATABASE_URL)`);
}

/**
 * After a restart or a crash, every Space still live reopens its room: its program runs again (silence
 * until a speaker reconnects), so its recording resumes and its listeners hear it at once.
 */
export async function reopenLiveSpaces(store: Store, stage: StagePlane, log: Logger): Promise<void> {
  const page = 100;
  const ids: string[] = [];
  for (let offset = 0; ; offset += page) {
    const spaces = await store.listSpaces({ state: 'live', limit: page, offset });
    ids.push(...spaces.map((s) => s.id));
    if (spaces.length < page) break;
  }
  for (const spaceId of ids) stage.openRoom(spaceId);
  if (ids.length > 0) log.info({ spaces: ids.length }, 'live Spaces reopened');
}
