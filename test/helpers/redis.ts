import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { after, before } from 'node:test';
import { Cleanup } from './cleanup.ts';
import { eventually } from './eventually.ts';
import { freePort } from './ports.ts';
import { hasCommands, optionalSuite, skipUnless } from './skip.ts';

/**
 * A real `redis-server` of the suite's own on loopback, for cluster mode's shared state. CI installs
 * redis-server and sets AMPHI_TEST_REDIS=1; without it the suites that use this are skipped with a
 * notice: `optionalSuite(name, { skip: redisSkip }, ...)`.
 */
export const redisSkip = skipUnless({
  available: hasCommands('redis-server'),
  env: 'AMPHI_TEST_REDIS',
  suite: 'Redis tests',
  install: 'redis-server',
});

export interface TestRedis {
  readonly host: string;
  readonly port: number;
  /** A new connection (closed at cleanup): each one is what a separate control node would hold. */
  client(): Redis;
  /** A Redis Cluster client (for a server started with `cluster: true`), closed at cleanup. */
  clusterClient(): Cluster;
  /**
   * Waits until Redis's own clock (`TIME`) has moved `ms` past the moment of the call: for logic that
   * reads that clock (Lua scripts), where no fake clock can be injected. Keep `ms` small; bounded.
   */
  elapse(ms: number): Promise<void>;
}

/** One PING on a fresh socket: whether the server answers yet. */
function pings(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let seen = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('\r\n')) done(seen.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

/**
 * Starts `redis-server` (no persistence, loopback only) on a free port and waits (up to 10 s) until it
 * answers PING. Everything it started, the server and every client made from it, is stopped by
 * `cleanup`. With `cluster: true` it is a one-node Redis Cluster holding every slot, so a script
 * whose keys fall in two slots fails there as it would on a real cluster (CROSSSLOT).
 */
export async function startRedis(cleanup: Cleanup, options: { readonly cluster?: boolean } = {}): Promise<TestRedis> {
  const host = '127.0.0.1';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'amphi-redis-'));
  cleanup.add('redis dir', () => rmSync(dir, { recursive: true, force: true }));
  const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir];
  if (options.cluster === true)
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-announce-ip', host);
  const server = cleanup.child('redis-server', spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  server.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await eventually(
    `redis-server on ${port} to answer PING`,
    async () => {
      if (server.exitCode !== null) throw new Error(`redis-server exited (${server.exitCode}): ${stderr}`);
      return pings(host, port);
    },
    { timeoutMs: 10_000, intervalMs: 20 },
  );

  const clients: (Redis | Cluster)[] = [];
  cleanup.add('redis clients', () => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  const client = () => {
    const c = new Redis({ host, port, maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  if (options.cluster === true) {
    const admin = client();
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await eventually('the one-node cluster to serve every slot', async () =>
      String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'),
    );
  }
  const clock = client();
  const redisNowMs = async () => {
    const [s, us] = await clock.time();
    return Number(s) * 1000 + Number(us) / 1000;
  };
  return {
    host,
    port,
    client,
    clusterClient() {
      const c = new Cluster([{ host, port }], { redisOptions: { maxRetriesPerRequest: 1 } });
      clients.push(c);
      return c;
    },
    async elapse(ms) {
      if (!(ms >= 0 && ms <= 5000)) throw new Error(`elapse(${ms}): keep real waits short`);
      const until = (await redisNowMs()) + ms;
      for (let left = ms; left > 0; left = until - (await redisNowMs())) await sleep(Math.max(1, Math.ceil(left)));
    },
  };
}

/** What a Redis suite's tests use: its server (started before the first test) and its cleanup. */
export interface RedisSuite {
  readonly redis: TestRedis;
  readonly cleanup: Cleanup;
}

/**
 * A suite on a redis-server of its own: started before its tests, stopped (with everything added to
 * its cleanup) after them; skipped with a notice where Redis is not installed (CI requires it).
 */
export function redisSuite(
  name: string,
  fn: (suite: RedisSuite) => void,
  options: { readonly cluster?: boolean; readonly timeoutMs?: number } = {},
): void {
  optionalSuite(name, { skip: redisSkip, timeout: options.timeoutMs ?? 300_000 }, () => {
    const cleanup = new Cleanup();
    let started: TestRedis | undefined;
    const hook = { timeout: 30_000 };
    before(async () => {
      started = await startRedis(cleanup, { cluster: options.cluster === true });
    }, hook);
    after(() => cleanup.run(), hook);
    fn({
      cleanup,
      get redis(): TestRedis {
        if (started === undefined) throw new Error('redis-server is started before the first test');
        return started;
      },
    });
  });
}
