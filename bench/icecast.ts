/**
 * Debian's Icecast 2 on loopback with a steady Opus source, as the progressive-streaming peer the
 * listener benchmarks compare against: a minimal icecast.xml in a temp dir, `taskset -c <cpu> icecast2`,
 * then ffmpeg feeding a 440 Hz tone at a constant bitrate to /live.opus. Resolves once the mount serves
 * bytes. pids() is icecast2 alone (taskset execs it), so the source's CPU is never counted as Icecast's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installed } from './lib/proc.ts';
import { sleep } from './lib/sleep.ts';
import { stopProcess, type Teardown } from './lib/teardown.ts';

export interface IcecastOptions {
  readonly bitrateBps: number;
  /** CPU list for taskset (`0`, `0-1`). */
  readonly cpu: string;
  /**
   * Ogg page duration of the source. Icecast writes to every listener once per page it gets, so this
   * sets its CPU per listener: ffmpeg's default, 1000 ms, is the cheapest; 100 ms pages (lower latency)
   * cost about 6 times as much at 32 kb/s. The burst on connect grows with it (see burstBytes).
   */
  readonly pageMs?: number;
}

export interface Icecast {
  /** The mount: `http://127.0.0.1:<port>/live.opus`. */
  readonly url: string;
  readonly pids: () => number[];
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const INSTALL_HINTS: Record<string, string> = {
  icecast2: "install Debian's icecast2 (apt-get install icecast2)",
  ffmpeg: 'install ffmpeg (apt-get install ffmpeg)',
  taskset: 'install util-linux',
};

/** A free loopback port in 20000–40000, as the other benchmarks pick theirs. */
async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000-40000');
}

/** icecast2 refuses to run as root unless it can drop to another user; Debian has nobody:nogroup. */
function changeowner(): string {
  if (process.getuid?.() !== 0) return '';
  const group = /^nogroup:/m.test(readFileSync('/etc/group', 'utf8')) ? 'nogroup' : 'nobody';
  return `<security><chroot>0</chroot><changeowner><user>nobody</user><group>${group}</group></changeowner></security>`;
}

/**
 * One GET of `url`: true when anything answers (`firstByte` false), or when it answers 200 and sends a
 * first byte (`firstByte` true); false on an error, a timeout or another status.
 */
function probe(url: string, timeoutMs: number, firstByte: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      const done = (ok: boolean) => {
        req.destroy();
        resolve(ok);
      };
      if (!firstByte) {
        res.resume();
        done(true);
      } else if (res.statusCode !== 200) done(false);
      else res.once('data', () => done(true));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** The config: loopback on `port`, a big enough queue, a burst on connect worth 1 s more than a page. */
function icecastXml(dir: string, logDir: string, port: number, password: string, o: IcecastOptions): string {
  const bytesPerSecond = Math.ceil(o.bitrateBps / 8);
  const pageMs = o.pageMs ?? 1000;
  // Icecast bursts whole pages back from the newest: 1 s beyond one page means a listener that joins
  // just after a page arrived still starts with >= 1 s, not a buffer that runs dry before the next page.
  const burstBytes = Math.ceil((bytesPerSecond * (1000 + pageMs)) / 1000);
  return `<icecast>
  <limits>
    <clients>20000</clients>
    <sources>2</sources>
    <queue-size>${Math.max(524_288, 30 * bytesPerSecond)}</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>${burstBytes}</burst-size>
  </limits>
  <authentication>
    <source-password>${password}</source-password>
    <admin-user>admin</admin-user>
    <admin-password>${password}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <location>loopback</location>
  <admin>bench@localhost</admin>
  <listen-socket><port>${port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>0</fileserve>
  <paths><basedir>${dir}</basedir><logdir>${logDir}</logdir><webroot>${dir}</webroot><adminroot>${dir}</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  ${changeowner()}
</icecast>
`;
}

/** ffmpeg feeding a 440 Hz tone as constant-bitrate Opus in Ogg pages of `pageMs` to the mount. */
function startSource(port: number, password: string, o: IcecastOptions): ChildProcess {
  const pageMs = o.pageMs ?? 1000;
  // prettier-ignore
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-ac', '1', '-c:a', 'libopus', '-b:a', String(o.bitrateBps), '-vbr', 'off',
    '-page_duration', String(Math.round(pageMs * 1000)),
    '-f', 'ogg', '-content_type', 'application/ogg',
    `icecast://source:${password}@127.0.0.1:${port}/live.opus`,
  ];
  return spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Starts Icecast and its source; with a teardown, they are stopped by it (even if stopped mid-start). */
export async function startIcecast(o: IcecastOptions, t?: Teardown): Promise<Icecast> {
  for (const [tool, hint] of Object.entries(INSTALL_HINTS)) if (!installed(tool)) throw new Error(`${tool} not found: ${hint}`);
  const dir = mkdtempSync(join(tmpdir(), 'amphi-bench-icecast-'));
  chmodSync(dir, 0o755); // icecast2 reads its config as root, then runs as nobody
  const logDir = join(dir, 'log');
  mkdirSync(logDir);
  chmodSync(logDir, 0o777); // it opens its logs after dropping to nobody
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'icecast.xml'), icecastXml(dir, logDir, port, password, o));
  const url = `http://127.0.0.1:${port}/live.opus`;
  let output = '';
  const keep = (b: Buffer) => (output = (output + b.toString()).slice(-2000));
  const icecast = spawn('taskset', ['-c', o.cpu, 'icecast2', '-c', join(dir, 'icecast.xml')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t?.child(icecast);
  icecast.stdout.on('data', keep);
  icecast.stderr.on('data', keep);
  icecast.on('error', (e) => keep(Buffer.from(e.message)));
  let ffmpeg: ChildProcess | undefined;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await Promise.all([ffmpeg === undefined ? undefined : stopProcess(ffmpeg), stopProcess(icecast)]);
      rmSync(dir, { recursive: true, force: true });
    })());
  t?.add(close);

  const until = Date.now() + READY_TIMEOUT_MS;
  const waitFor = async (ready: () => Promise<boolean>, what: string) => {
    for (;;) {
      if (icecast.exitCode !== null) throw new Error(`icecast2 exited (${icecast.exitCode})`);
      if (ffmpeg !== undefined && ffmpeg.exitCode !== null) throw new Error(`ffmpeg exited (${ffmpeg.exitCode})`);
      if (await ready()) return;
      if (Date.now() > until) throw new Error(`${what} within ${READY_TIMEOUT_MS / 1000} s`);
      await sleep(100);
    }
  };
  try {
    // The source gives up at once if nobody listens yet.
    await waitFor(() => probe(`http://127.0.0.1:${port}/`, 1000, false), `icecast2 did not answer on port ${port}`);
    ffmpeg = startSource(port, password, o);
    t?.child(ffmpeg);
    ffmpeg.stderr?.on('data', keep);
    ffmpeg.on('error', (e) => keep(Buffer.from(e.message)));
    await waitFor(() => probe(url, 2000, true), `icecast mount ${url} served nothing`);
  } catch (e) {
    await close();
    throw new Error(`${(e as Error).message}\n${output}${errorLog(logDir)}`, { cause: e });
  }
  return { url, pids: () => (icecast.pid === undefined ? [] : [icecast.pid]), close };
}

/** The end of icecast2's error log, if it got as far as opening it. */
function errorLog(logDir: string): string {
  try {
    return readFileSync(join(logDir, 'error.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
