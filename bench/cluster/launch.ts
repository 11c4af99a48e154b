/**
 * A whole cluster on this machine (`npm run cluster -- --control 3 --edges 4`): Redis, a database of its
 * own on the installed PostgreSQL, one media node (`amphi start`: stage, origin and its own edge), N
 * control nodes (`amphi control`) behind nginx, and M edges (`amphi edge`), each on its own loopback
 * address (127.0.0.x). The cluster tests and drills start it through `startCluster`; everything it
 * starts is stopped and removed by the teardown (Ctrl-C included).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { redactUrlPassword } from '../../src/lib/redact-url.ts';
import { mergeConfig, root } from '../lib/amphi.ts';
import { sleep } from '../lib/sleep.ts';
import { exited, type Teardown } from '../lib/teardown.ts';
import { freePort } from '../lib/ports.ts';
import { startRadosgw, type Radosgw } from './radosgw.ts';
import { answers, SENTINEL_MASTER, startRedis, startSentinels, type RedisProcess } from './redis.ts';

export type Role = 'media' | 'control' | 'edge';

export interface ClusterNode {
  readonly role: Role;
  readonly index: number;
  readonly host: string;
  /** Its HTTP base URL. */
  readonly url: string;
  /** The running process (replaced by `restart`). */
  child: ChildProcess;
  /** Where its log lines go. */
  readonly logFile: string;
  /** Sends a signal (SIGKILL, SIGTERM, SIGSTOP, SIGCONT). */
  kill(signal: NodeJS.Signals): void;
  /** Starts it again on the same address and port, once it has exited; resolves when it listens. */
  restart(): Promise<void>;
}

export interface Cluster {
  /** nginx in front of the control nodes: the web app and the API. */
  readonly url: string;
  readonly media: ClusterNode;
  /** The media node's stage (WHIP). */
  readonly stageUrl: string;
  /** Every media node (`media` is the first), with its stage. */
  readonly medias: readonly { readonly node: ClusterNode; readonly stageUrl: string }[];
  readonly controls: readonly ClusterNode[];
  readonly edges: readonly ClusterNode[];
  readonly redisUrl: string;
  readonly databaseUrl: string;
  readonly signingKey: string;
  /** The Redis server process (a test may stop or restart it); with `sentinel`, the first master. */
  readonly redis: RedisProcess;
  /** With `bucket`: the S3 server and the bucket's URL. */
  readonly bucket?: { readonly rgw: Radosgw; readonly url: string };
  /** With `sentinel`: the replica and the three sentinels' host:port. */
  readonly sentinel?: { readonly replica: RedisProcess; readonly sentinels: readonly string[] };
  /** Starts one more edge, with config merged over the cluster's and environment over its own. */
  addEdge(extra?: { readonly config?: Record<string, unknown>; readonly env?: Record<string, string> }): Promise<ClusterNode>;
}

export interface ClusterOptions {
  readonly controls: number;
  readonly edges: number;
  /** An existing database to use as is; default: a fresh one on AMPHI_TEST_DATABASE_URL / DATABASE_URL's server. */
  readonly databaseUrl?: string;
  /** Config merged into every node's (e.g. admission limits for a drill). */
  readonly config?: Record<string, unknown>;
  /** The media node runs the demo Space (default true). */
  readonly demo?: boolean;
  readonly logLevel?: string;
  /**
   * Redis as a master, a replica and three sentinels (quorum 2, master down after 1 s): the nodes find
   * the master through the sentinels (AMPHI_REDIS_SENTINELS) and follow a failover.
   */
  readonly sentinel?: boolean;
  /** Recordings in a real S3 bucket: radosgw on loopback (see radosgw.ts), named to the media nodes. */
  readonly bucket?: boolean;
  /** Media nodes (default 1, at most 8): each Space is produced by the one holding its lease. */
  readonly media?: number;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
}

const DEFAULT_SERVER_URL = 'postgres://amphi:amphi@127.0.0.1:5432/amphi';
/** Each node starts within this (Node start-up, migrations on the first). */
const START_TIMEOUT_MS = 30_000;

/** radosgw on loopback and the bucket the media nodes record into. */
async function startBucket(t: Teardown, dir: string, say: (line: string) => void): Promise<NonNullable<Cluster['bucket']>> {
  const rgw = await startRadosgw(t, join(dir, 'ceph'));
  say(`radosgw      ${rgw.endpoint} (bucket amphi-recordings)`);
  return { rgw, url: `${rgw.endpoint}/amphi-recordings` };
}

/** What a node needs to reach the bucket (media nodes record into it; an edge may serve replays from it). */
export function bucketEnv(bucket: NonNullable<Cluster['bucket']>): Record<string, string> {
  return {
    AMPHI_BUCKET_URL: bucket.url,
    AWS_ACCESS_KEY_ID: bucket.rgw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: bucket.rgw.secretAccessKey,
  };
}

/** Starts the cluster; `t` stops and removes all of it. */
export async function startCluster(t: Teardown, o: ClusterOptions): Promise<Cluster> {
  const say = o.progress ?? (() => {});
  const dir = t.tempDir('amphi-cluster-');
  const redisPort = await freePort('127.0.0.1');
  const redis = await startRedis(t, dir, redisPort);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  say(`redis        ${redisUrl}`);
  const sentinel = o.sentinel === true ? await startSentinels(t, dir, redisPort) : undefined;
  if (sentinel !== undefined) say(`sentinels    ${sentinel.sentinels.join(', ')} (replica on ${sentinel.replica.port})`);
  const databaseUrl = o.databaseUrl ?? (await freshDatabase(t, say));
  const bucket = o.bucket === true ? await startBucket(t, dir, say) : undefined;
  const signingKey = randomBytes(36).toString('base64url');
  const base = {
    env: {
      DATABASE_URL: databaseUrl,
      ...(sentinel === undefined
        ? { REDIS_URL: redisUrl }
        : { AMPHI_REDIS_SENTINELS: sentinel.sentinels.join(','), AMPHI_REDIS_SENTINEL_NAME: SENTINEL_MASTER }),
      AMPHI_SIGNING_KEY: signingKey,
      AMPHI_LOG_LEVEL: o.logLevel ?? 'info',
    },
    config: o.config ?? {},
    dir,
  };
  const startMedia = async (index: number) => {
    const host = `127.0.0.${2 + index}`;
    const [port, stagePort] = [await freePort(host), await freePort(host)];
    const node = await startNode(t, mediaBase, 'media', index, host, port, ['media', '--stage-port', String(stagePort)], {
      demo: { enabled: index === 0 && (o.demo ?? true) },
    });
    return { node, stageUrl: `http://${host}:${stagePort}` };
  };
  const mediaBase = bucket === undefined ? base : { ...base, env: { ...base.env, ...bucketEnv(bucket) } };
  const medias = [await startMedia(0)];
  for (let i = 1; i < Math.min(8, o.media ?? 1); i++) medias.push(await startMedia(i));
  const { node: media, stageUrl } = medias[0]!;
  for (const m of medias) say(`media ${m.node.index}      ${m.node.url} (stage ${m.stageUrl})`);
  const controls: ClusterNode[] = [];
  const edges: ClusterNode[] = [];
  const starting: Promise<void>[] = [];
  for (let i = 0; i < o.controls; i++) {
    const host = `127.0.0.${10 + i}`;
    starting.push(
      freePort(host).then(async (port) => {
        controls[i] = await startNode(t, base, 'control', i, host, port, ['control'], {
          stage: { publicUrl: stageUrl },
          server: { trustProxy: ['127.0.0.1'] },
        });
      }),
    );
  }
  for (let i = 0; i < o.edges; i++) {
    const host = `127.0.0.${100 + i}`;
    starting.push(
      freePort(host).then(async (port) => {
        edges[i] = await startNode(t, base, 'edge', i, host, port, ['edge', '--origin', media.url], {});
      }),
    );
  }
  await Promise.all(starting);
  for (const c of controls) say(`control ${c.index}    ${c.url}`);
  for (const e of edges) say(`edge ${e.index}       ${e.url}`);
  const url = await startFrontNginx(t, dir, controls);
  say(`nginx        ${url}  (the web app and API, over the ${controls.length} control nodes)`);
  let added = 0;
  const addEdge: Cluster['addEdge'] = async (extra = {}) => {
    const index = o.edges + added++;
    const host = `127.0.0.${100 + index}`;
    const node = { ...base, env: { ...base.env, ...extra.env }, config: mergeConfig(base.config, extra.config ?? {}) };
    return startNode(t, node, 'edge', index, host, await freePort(host), ['edge', '--origin', media.url], {});
  };
  return {
    url,
    media,
    stageUrl,
    medias,
    controls,
    edges,
    redisUrl,
    databaseUrl,
    signingKey,
    redis,
    addEdge,
    ...(sentinel === undefined ? {} : { sentinel }),
    ...(bucket === undefined ? {} : { bucket }),
  };
}

interface NodeBase {
  readonly env: Record<string, string>;
  readonly config: Record<string, unknown>;
  readonly dir: string;
}

async function startNode(
  t: Teardown,
  base: NodeBase,
  role: Role,
  index: number,
  host: string,
  port: number,
  args: string[],
  roleConfig: Record<string, unknown>,
): Promise<ClusterNode> {
  const name = role === 'media' && index === 0 ? 'media' : `${role}-${index}`;
  const dataDir = join(base.dir, name);
  const configFile = join(base.dir, `${name}.json`);
  writeFileSync(configFile, JSON.stringify(mergeConfig(base.config, roleConfig)));
  const logFile = join(base.dir, `${name}.log`);
  const url = `http://${host}:${port}`;
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'bin/amphi.mjs'),
        ...args,
        '--host',
        host,
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--config',
        configFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...base.env } },
    );
    t.child(child, 15_000);
    const out = createWriteStream(logFile, { flags: 'a' });
    child.stderr.pipe(out);
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms (see ${logFile})`)),
        START_TIMEOUT_MS,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before listening (see ${logFile})`));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        out.write(`${line}\n`);
        if (/"msg":"amphi (control |edge )?listening"/.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await listening;
    return child;
  };
  const node: ClusterNode = {
    role,
    index,
    host,
    url,
    child: await launch(),
    logFile,
    kill: (signal) => node.child.kill(signal),
    async restart() {
      await exited(node.child);
      node.child = await launch();
    },
  };
  return node;
}

/** A database of the run's own on the configured server, dropped at teardown (the role needs CREATEDB). */
async function freshDatabase(t: Teardown, say: (line: string) => void): Promise<string> {
  const server = process.env.AMPHI_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? DEFAULT_SERVER_URL;
  const name = `amphi_cluster_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `cluster: PostgreSQL at ${redactUrlPassword(server)} is unreachable (${(error as Error).message}); set DATABASE_URL to a server whose role may CREATE DATABASE`,
    );
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  t.add(async () => {
    const drop = new pg.Client({ connectionString: server });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await drop.end();
  });
  const url = new URL(server);
  url.pathname = `/${name}`;
  say(`postgres     ${redactUrlPassword(url.toString())}`);
  return url.toString();
}

/** nginx on 127.0.0.1 in front of the control nodes: a node that fails is skipped, the request retried. */
async function startFrontNginx(t: Teardown, dir: string, controls: readonly ClusterNode[]): Promise<string> {
  const port = await freePort('127.0.0.1');
  const prefix = join(dir, 'nginx');
  const conf = `daemon off;
worker_processes 1;
error_log ${prefix}-error.log warn;
pid ${prefix}.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}-body;
  proxy_temp_path ${prefix}-proxy;
  fastcgi_temp_path ${prefix}-fastcgi;
  uwsgi_temp_path ${prefix}-uwsgi;
  scgi_temp_path ${prefix}-scgi;
  upstream control {
${controls.map((c) => `    server ${new URL(c.url).host} max_fails=1 fail_timeout=3s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://control;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host; # with the port: the API compares it with Origin (CSRF guard)
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # A control node that is down or dies mid-request: the request goes to the next one.
      proxy_next_upstream error timeout http_502 non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
      proxy_read_timeout 30s;
    }
  }
}
`;
  writeFileSync(`${prefix}.conf`, conf);
  const child = spawn('nginx', ['-p', dir, '-c', `${prefix}.conf`], { stdio: 'ignore' });
  t.child(child, 3000);
  child.once('error', () => {});
  for (let i = 0; i < 50; i++) {
    if (await answers('127.0.0.1', port, false)) return `http://127.0.0.1:${port}`;
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`cluster: nginx did not start (see ${prefix}-error.log)`);
}
