/** Redis for the local cluster: a server, or a master, a replica and three sentinels, on loopback. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sleep } from '../lib/sleep.ts';
import { exited, type Teardown } from '../lib/teardown.ts';
import { freePort } from '../lib/ports.ts';

export interface RedisProcess {
  child: ChildProcess;
  readonly port: number;
  restart(): Promise<void>;
}

/** A redis-server (or, with `sentinel`, redis-sentinel) on loopback from `args`, restartable on its port. */
async function startRedisProcess(t: Teardown, port: number, args: () => string[], sentinel = false): Promise<RedisProcess> {
  const launch = async () => {
    const child = spawn(sentinel ? 'redis-sentinel' : 'redis-server', args(), { stdio: 'ignore' });
    t.child(child);
    child.once('error', () => {});
    for (let i = 0; i < 100; i++) {
      if (await answers('127.0.0.1', port)) return child;
      if (child.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`cluster: ${sentinel ? 'redis-sentinel' : 'redis-server'} did not start on port ${port} (is it installed?)`);
  };
  const redis = {
    child: await launch(),
    port,
    async restart() {
      await exited(redis.child);
      redis.child = await launch();
    },
  };
  return redis;
}

export function startRedis(t: Teardown, dir: string, port: number, extra: string[] = []): Promise<RedisProcess> {
  return startRedisProcess(t, port, () => [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--dbfilename',
    `redis-${port}.rdb`,
    ...extra,
  ]);
}

export const SENTINEL_MASTER = 'amphi';

/** A replica of the master on `masterPort` and three sentinels watching it (each with its own config file). */
export async function startSentinels(
  t: Teardown,
  dir: string,
  masterPort: number,
): Promise<{ replica: RedisProcess; sentinels: string[] }> {
  const replicaPort = await freePort('127.0.0.1');
  const replica = await startRedis(t, dir, replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]);
  const sentinels: string[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort('127.0.0.1');
    const file = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 3000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
        '',
      ].join('\n'),
    );
    await startRedisProcess(t, port, () => [file], true);
    sentinels.push(`127.0.0.1:${port}`);
  }
  return { replica, sentinels };
}

/** Whether something listens on host:port (with `redis`: answers PING). */
export async function answers(host: string, port: number, redis = true): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => (redis ? socket.write('PING\r\n') : done(true)));
    socket.on('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}
