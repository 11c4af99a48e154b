/**
 * Debian's Icecast 2 on loopback with a steady Opus source, as the progressive-streaming peer the
 * listener benchmarks compare against: a minimal icecast.xml in a temp dir, `taskset -c <cpu> icecast2`,
 * then ffmpeg feeding a 440 Hz tone at a constant bitrate to /live.opus. Resolves once the mount serves
 * bytes. pids() is icecast2 alone (taskset execs it), so the source's CPU is never counted as Icecast's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

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

/** True once anything answers HTTP at url. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => {
      res.resume();
      req.destroy();
      resolve(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** True once the mount answers 200 and sends a first byte. */
function servesBytes(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2000 }, (res) => {
      if (res.statusCode !== 200) {
        req.destroy();
        resolve(false);
        return;
      }
      res.once('data', () => {
        req.destroy();
        resolve(true);
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const done = exited(child);
  if (!(await Promise.race([done.then(() => true), sleep(3000).then(() => false)]))) {
    child.kill('SIGKILL');
    await done;
  }
}

export async function startIcecast(o: IcecastOptions): Promise<Icecast> {
  for (const [tool, hint] of Object.entries(INSTALL_HINTS)) if (!installed(tool)) throw new Error(`${tool} not found: ${hint}`);
  const dir = mkdtempSync(join(tmpdir(), 'amphi-bench-icecast-'));
  chmodSync(dir, 0o755); // icecast2 reads its config as root, then runs as nobody
  const logDir = join(dir, 'log');
  mkdirSync(logDir);
  chmodSync(logDir, 0o777); // it opens its logs after dropping to nobody
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const bytesPerSecond = Math.ceil(o.bitrateBps / 8);
  const pageMs = o.pageMs ?? 1000;
  // Icecast bursts whole pages back from the newest: 1 s beyond one page means a listener that joins
  // just after a page arrived still starts with >= 1 s, not a buffer that runs dry before the next page.
  const burstBytes = Math.ceil((bytesPerSecond * (1000 + pageMs)) / 1000);
  const xml = `<icecast>
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
  writeFileSync(join(dir, 'icecast.xml'), xml);
  const url = `http://127.0.0.1:${port}/live.opus`;
  let output = '';
  const keep = (b: Buffer) => (output = (output + b.toString()).slice(-2000));
  const icecast = spawn('taskset', ['-c', o.cpu, 'icecast2', '-c', join(dir, 'icecast.xml')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  icecast.stdout.on('data', keep);
  icecast.stderr.on('data', keep);
  icecast.on('error', (e) => keep(Buffer.from(e.message)));
  let ffmpeg: ChildProcess | undefined;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await Promise.all([ffmpeg === undefined ? undefined : kill(ffmpeg), kill(icecast)]);
      rmSync(dir, { recursive: true, force: true });
    })());

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
    await waitFor(() => answers(`http://127.0.0.1:${port}/`), `icecast2 did not answer on port ${port}`);
    ffmpeg = spawn(
      'ffmpeg',
      [
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
        '-ac',
        '1',
        '-c:a',
        'libopus',
        '-b:a',
        String(o.bitrateBps),
        '-vbr',
        'off',
        '-page_duration',
        String(Math.round(pageMs * 1000)),
        '-f',
        'ogg',
        '-content_type',
        'application/ogg',
        `icecast://source:${password}@127.0.0.1:${port}/live.opus`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    ffmpeg.stderr?.on('data', keep);
    ffmpeg.on('error', (e) => keep(Buffer.from(e.message)));
    await waitFor(() => servesBytes(url), `icecast mount ${url} served nothing`);
  } catch (e) {
    let log = '';
    try {
      log = readFileSync(join(logDir, 'error.log'), 'utf8').slice(-2000);
    } catch {
      // it never got as far as opening its log
    }
    await close();
    throw new Error(`${(e as Error).message}\n${output}${log}`, { cause: e });
  }
  return { url, pids: () => (icecast.pid === undefined ? [] : [icecast.pid]), close };
}
