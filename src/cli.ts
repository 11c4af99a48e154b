import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { unknownEnvNames } from './config/env.ts';
import { ConfigError, configFlags, loadConfig, redactedConfig } from './config/load.ts';
import { startEdge } from './roles/edge.ts';
import { AmphiError } from './errors.ts';
import { createLogger } from './lib/logger.ts';
import { startControl } from './roles/control-node.ts';
import { startEmbedded } from './roles/embedded.ts';
import { explainStartupFailure } from './roles/startup.ts';
import { redisConfigured } from './cluster/redis.ts';
import type { Config } from './config/schema.ts';
import { openStore } from './storage/open.ts';
import { publishCommand } from './publish/command.ts';

/** `amphi admin grant|revoke <handle>`: the operator role, set on the configured database. */
async function setAdmin(config: Config, admin: boolean, handle: string): Promise<number> {
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    nowMs: Date.now(),
    onConnectionError: () => undefined,
  });
  try {
    const account = await store.findAccountByHandle(handle);
    if (account === undefined) {
      process.stderr.write(`amphi: no account has the handle "${handle}"; sign up first, then grant\n`);
      return 1;
    }
    await store.community().setAdmin(account.id, admin);
    process.stdout.write(`@${account.handle} is ${admin ? 'now an operator (admin)' : 'no longer an operator'}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** `amphi media` is a cluster role: without Redis it would be an embedded server nobody routes to. */
function mediaNeedsCluster(): never {
  throw new ConfigError(
    'amphi media needs REDIS_URL (or AMPHI_REDIS_SENTINELS), DATABASE_URL and AMPHI_SIGNING_KEY: it is a cluster role (use amphi start for everything in one process)',
  );
}

const usage = `Usage: amphi [command] [options]

Commands:
  start            Run Amphi: control API, health and metrics, embedded storage (default)
  control          Cluster mode: the API, join door and web app only, any number of copies (needs
                   DATABASE_URL, REDIS_URL, AMPHI_SIGNING_KEY, AMPHI_STAGE_PUBLIC_URL; README "Cluster mode")
  media            Cluster mode: a media node, stage and origin for the Spaces whose lease it holds, any
                   number of copies (needs DATABASE_URL, REDIS_URL, AMPHI_SIGNING_KEY; AMPHI_BUCKET_URL for
                   recordings that survive it); the same process as 'start' with REDIS_URL
  edge             Run only an edge (needs --origin URL and AMPHI_SIGNING_KEY shared with the origin;
                   with REDIS_URL it joins the cluster's fleet)
  config           Print the effective configuration as JSON and exit
  publish          Speak into a Space over WHIP: a tone or an audio file (amphi publish --help)
  admin grant|revoke HANDLE
                   Make an account an operator (the report queue, the operator-wide audit log), or no
                   longer; on the configured database (the server may be running)
  bench listeners  Listeners per edge core, stream or LL-HLS, next to Icecast or nginx
  bench joins      Flash-crowd drill: joins at 10x capacity, FIFO and honest ETAs, listeners unharmed
  bench flood      Junk-flood drill: what refusing junk costs next to serving a listener
  bench join, bench edge, bench stage
                   Join throughput, edge requests/s next to nginx, Spaces per stage core
  drill launch-night
                   The night X Spaces failed, on a local cluster: flash crowd, junk, an edge, a control
                   node, the media node and the Redis master killed; scored (--short for CI)
  plan             Size a launch night from measured figures
                   (amphi bench --help lists every bench; each command takes --help for its options)
  help             Show this help

Options (every setting, these and all others, can also come from the config file or the
environment: AMPHI_ and its path in upper snake case, e.g. stage.iceAddresses is
AMPHI_STAGE_ICE_ADDRESSES; docs/configuration.md lists them all):
  --port N         HTTP port of the API (AMPHI_SERVER_PORT or PORT; default 8080)
  --stage-port N   The stage's own port for WHIP publishers (AMPHI_STAGE_PORT; default 8081)
  --host ADDR      Listen address (AMPHI_SERVER_HOST or HOST; default 127.0.0.1)
  --data-dir DIR   Where SQLite, keys and recordings live (AMPHI_DATA_DIR; default ./data)
  --database-url U PostgreSQL URL instead of SQLite (DATABASE_URL)
  --log-level L    fatal|error|warn|info|debug|trace|silent (AMPHI_LOG_LEVEL; default info)
  --config FILE    YAML or JSON config file (AMPHI_CONFIG); see amphi.sample.yaml
  --origin URL     For 'amphi edge': the origin (an 'amphi start' server) to fetch from
  --redis-url U    Cluster mode: the shared Redis (REDIS_URL; or AMPHI_CLUSTER_SENTINELS for Sentinel)
  --version        Print the version
`;

/**
 * `amphi bench <command> ...`, `amphi drill launch-night ...` and `amphi plan ...` run bench/main.ts in a child Node with the rest of
 * argv: shipped code never imports bench/, and a source checkout has it. Signals are passed on so the
 * bench stops what it started; the child's exit code is the command's.
 */
function tools(argv: readonly string[]): Promise<number> | undefined {
  const args = argv[0] === 'bench' || argv[0] === 'drill' ? argv.slice(1) : argv[0] === 'plan' ? argv : undefined;
  if (args === undefined) return undefined;
  const entry = fileURLToPath(new URL('../bench/main.ts', import.meta.url));
  if (!existsSync(entry)) {
    process.stderr.write(`amphi: ${argv[0]} needs the benchmarks (bench/ in a source checkout); ${entry} is not here\n`);
    return Promise.resolve(2);
  }
  const child = spawn(process.execPath, [entry, ...args], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    const done = (code: number) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code);
    };
    child.once('error', (error) => {
      process.stderr.write(`amphi: ${error.message}\n`);
      done(2);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
  });
}

/** Starts a serving role; a failure the operator can fix is one line on stderr and an exit code. */
async function startRole(command: string, config: Readonly<Config>): Promise<{ close(): Promise<void> } | number> {
  try {
    return command === 'edge'
      ? await startEdge(config)
      : command === 'control'
        ? await startControl(config)
        : command === 'media' && !redisConfigured(config.cluster)
          ? mediaNeedsCluster()
          : await startEmbedded(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`amphi: ${error.message}\n`);
      return 2;
    }
    const explained = explainStartupFailure(error, config);
    if (explained !== undefined) {
      process.stderr.write(`amphi: ${explained}\n`);
      return 1;
    }
    if (!(error instanceof AmphiError)) throw error;
    process.stderr.write(`amphi: ${error.message} (${String(error.details)})\n`);
    return 2;
  }
}

/** Parses argv, loads config once, and runs the command. Returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const tool = tools(argv);
  if (tool !== undefined) return tool;
  if (argv[0] === 'publish') return publishCommand(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(Object.keys(configFlags).map((name) => [name, { type: 'string' as const }])),
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (error) {
    process.stderr.write(`amphi: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'start';
  if (values.help === true || command === 'help') {
    process.stdout.write(usage);
    return 0;
  }
  if (values.version === true) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`amphi ${pkg.version}\n`);
    return 0;
  }
  const adminCommand = command === 'admin' && positionals.length === 3 && ['grant', 'revoke'].includes(positionals[1]!);
  if (!adminCommand && (positionals.length > 1 || !['start', 'media', 'control', 'edge', 'config'].includes(command))) {
    process.stderr.write(`amphi: unknown command "${positionals.join(' ')}"\n\n${usage}`);
    return 2;
  }

  let config;
  try {
    const flags: Record<string, string> = {};
    for (const name of Object.keys(configFlags)) {
      const value = values[name as keyof typeof values];
      if (typeof value === 'string') flags[name] = value;
    }
    const file = typeof values.config === 'string' ? values.config : process.env.AMPHI_CONFIG;
    config = loadConfig({ file, env: process.env, flags });
    for (const { name, closest } of unknownEnvNames(process.env))
      process.stderr.write(
        `amphi: ${name} is not a setting, ignored${closest === undefined ? '' : ` (did you mean ${closest}?)`}\n`,
      );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`amphi: ${error.message}\n`);
    return 2;
  }
  if (command === 'config') {
    process.stdout.write(`${JSON.stringify(redactedConfig(config), null, 2)}\n`);
    return 0;
  }
  if (adminCommand) return setAdmin(config, positionals[1] === 'grant', positionals[2]!);

  const server = await startRole(command, config);
  if (typeof server === 'number') return server;
  const log = createLogger(config.log.level);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      const force = setTimeout(() => {
        log.error({ graceMs: config.server.shutdownGraceMs }, 'shutdown took too long: exiting');
        process.exit(1);
      }, config.server.shutdownGraceMs);
      force.unref();
      server.close().then(resolve, (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
