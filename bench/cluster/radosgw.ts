/**
 * A real S3 server on loopback: Ceph's radosgw over a one-monitor, one-OSD Ceph cluster whose OSD keeps
 * its objects in memory (`memstore`), in a directory of its own. No authentication between the Ceph
 * daemons (loopback only); S3 requests are signed with the user created here. About 20 s to start and
 * 120 MB resident. Packages: radosgw, ceph-mon, ceph-osd (Debian 12).
 *
 * radosgw alone can be killed and restarted (`restart`), as in an outage of the gateway: the objects it
 * stored stay in the OSD's memory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../lib/sleep.ts';
import { exited, type Teardown } from '../lib/teardown.ts';
import { freePort } from '../lib/ports.ts';
import { answers } from './redis.ts';

export interface Radosgw {
  /** The S3 endpoint, e.g. http://127.0.0.1:7480. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The radosgw process (the daemons behind it are not exposed). */
  readonly gateway: () => ChildProcess;
  /** Starts radosgw again on the same port after it was killed (or kills it first). */
  restart(): Promise<void>;
}

const ACCESS_KEY = 'amphi-access';
const SECRET_KEY = 'amphi-secret-for-loopback-only';
const START_LIMIT_MS = 60_000;

/** Whether the Ceph binaries are installed. */
export function radosgwInstalled(): boolean {
  return ['radosgw', 'ceph-mon', 'ceph-osd', 'monmaptool'].every((bin) => spawnSync('which', [bin]).status === 0);
}

export async function startRadosgw(t: Teardown, dir: string): Promise<Radosgw> {
  if (!radosgwInstalled()) throw new Error('radosgw: Ceph is not installed (apt-get install radosgw ceph-mon ceph-osd)');
  const monPort = await freePort('127.0.0.1');
  const rgwPort = await freePort('127.0.0.1');
  const fsid = randomUUID();
  for (const sub of ['run', 'log', 'mon/a', 'osd/0']) mkdirSync(join(dir, sub), { recursive: true });
  const conf = join(dir, 'ceph.conf');
  writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort));
  // Never spawnSync here: a bench signalled while a Ceph tool runs must stop at once (its teardown
  // runs on the event loop), and a tool still running then is a child its teardown ends.
  const ceph = (bin: string, args: string[]) => command(t, bin, [...args, '-c', conf]);
  const daemon = (bin: string, args: string[]) => {
    const child = spawn(bin, ['-f', ...args, '-c', conf], { stdio: 'ignore' });
    child.once('error', () => {});
    return t.child(child, 3000);
  };

  await command(t, 'monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')]);
  await ceph('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
  daemon('ceph-mon', ['-i', 'a']);
  await until(() => answers('127.0.0.1', monPort, false), 'ceph-mon');
  const osdId = (await ceph('ceph', ['osd', 'create'])).trim();
  await ceph('ceph-osd', ['-i', osdId, '--mkfs']);
  daemon('ceph-osd', ['-i', osdId]);
  await until(async () => /1 up/.test(await ceph('ceph', ['osd', 'stat'])), 'ceph-osd');

  let gateway = daemon('radosgw', ['-n', 'client.rgw']);
  const started = () => until(() => answers('127.0.0.1', rgwPort, false), 'radosgw');
  await started();
  await ceph('radosgw-admin', [
    'user',
    'create',
    '--uid=amphi',
    '--display-name=amphi',
    `--access-key=${ACCESS_KEY}`,
    `--secret=${SECRET_KEY}`,
  ]);
  return {
    endpoint: `http://127.0.0.1:${rgwPort}`,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: SECRET_KEY,
    gateway: () => gateway,
    async restart() {
      if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
      await exited(gateway);
      gateway = daemon('radosgw', ['-n', 'client.rgw']);
      await started();
    },
  };
}

/** Runs a Ceph tool to its end (30 s at most) and returns its output; a failure throws with what it said. */
async function command(t: Teardown, bin: string, args: string[]): Promise<string> {
  const child = t.child(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }), 1000);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'close').finally(() => clearTimeout(timer))) as [number | null];
  if (code !== 0) throw new Error(`radosgw: ${bin} ${args.join(' ')} failed (${code ?? 'killed'}): ${err || out}`);
  return out;
}

async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + START_LIMIT_MS;
  while (performance.now() < deadline) {
    try {
      if (await ready()) return;
    } catch {
      // not yet
    }
    await sleep(250);
  }
  throw new Error(`radosgw: ${what} did not start within ${START_LIMIT_MS / 1000} s`);
}

/** One monitor, one in-memory OSD, pools of size 1, no cephx (loopback only), radosgw on `rgwPort`. */
function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms client mode = crc
ms mon client mode = crc
ms cluster mode = crc
ms service mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mon max pg per osd = 1000
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 1073741824
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
log file = ${dir}/log/$name.log
mon data = ${dir}/mon/$id
osd data = ${dir}/osd/$id
keyring = /dev/null
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
rgw dns name = 127.0.0.1
`;
}
