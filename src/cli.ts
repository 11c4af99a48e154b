import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, configFlags, loadConfig } from './config/load.ts';
import { startEdge } from './edge/server.ts';
import { AmphiError } from './errors.ts';
import { createLogger } from './lib/logger.ts';
import { startServer } from './server/main.ts';

const usage = `Usage: amphi [command] [options]

Commands:
  start            Run Amphi: control API, health and metrics, embedded storage (default)
  edge             Run only an edge (needs --origin URL and AMPHI_SIGNING_KEY shared with the origin)
  config           Print the effective configuration as JSON and exit
  bench listeners  Measure listeners per edge core (--listeners N --seconds S [--delivery stream|hls]
                   [--peer icecast|nginx] [--json]); nginx compares LL-HLS, icecast the live stream
  bench joins      Flash-crowd drill: joins at 10x capacity on a scheduled Space that goes live halfway,
                   tickets followed to the end, admitted listeners' stalls (--capacity 200 --seconds 60
                   --listeners 1000 [--drain-seconds 120] [--line-poll cdn|direct] [--json])
  bench flood      Junk-flood drill: LL-HLS listeners, then junk at --factor x their request rate; the
                   cost of refusing junk vs serving (--listeners 200 --factor 10 --seconds 30 [--json])
  plan             Size a launch night from measured figures (--listeners 8000000 [--bench FILE] [--json])
  help             Show this help

Options (each also settable by environment variable or config file):
  --port N         HTTP port of the API (PORT; default 8080)
  --stage-port N   The stage's own port for WHIP publishers (AMPHI_STAGE_PORT; default 8081)
  --host ADDR      Listen address (HOST; default 127.0.0.1)
  --data-dir DIR   Where SQLite, keys and recordings live (AMPHI_DATA_DIR; default ./data)
  --database-url U PostgreSQL URL instead of SQLite (DATABASE_URL)
  --log-level L    fatal|error|warn|info|debug|trace|silent (AMPHI_LOG_LEVEL; default info)
  --config FILE    YAML or JSON config file (AMPHI_CONFIG); see amphi.sample.yaml
  --origin URL     For 'amphi edge': the origin (an 'amphi start' server) to fetch from
  --version        Print the version
`;

/** A number option within bounds; anything that is not a number is an error, not NaN. */
function numberOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${value}"`);
  return Math.min(max, Math.max(min, n));
}

/** `amphi bench listeners|joins|flood ...` and `amphi plan ...` take their own options. */
async function tools(argv: readonly string[]): Promise<number | undefined> {
  if (argv[0] === 'bench' && argv[1] === 'listeners') {
    const { values } = parseArgs({
      args: [...argv.slice(2)],
      options: {
        listeners: { type: 'string', default: '2000' },
        seconds: { type: 'string', default: '60' },
        ramp: { type: 'string', default: '500' },
        peer: { type: 'string' },
        delivery: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const listeners = Math.min(9000, Math.max(1, Number(values.listeners)));
    const seconds = Math.min(600, Math.max(5, Number(values.seconds)));
    const peer = values.peer;
    if (peer !== undefined && peer !== 'nginx' && peer !== 'icecast') throw new Error('--peer must be icecast or nginx');
    // nginx serves playlists and parts (LL-HLS); Icecast a progressive stream, like Amphi's live.mp4.
    const delivery = values.delivery ?? (peer === 'nginx' ? 'hls' : 'stream');
    if (delivery !== 'stream' && delivery !== 'hls') throw new Error('--delivery must be stream or hls');
    if (peer === 'nginx' && delivery !== 'hls') throw new Error('--peer nginx compares LL-HLS: use --delivery hls');
    const { runListenerBench } = await import('../bench/listeners.ts');
    const summary = await runListenerBench({
      listeners,
      seconds,
      rampPerSecond: Number(values.ramp),
      peer,
      delivery,
      json: values.json,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  if (argv[0] === 'bench' && argv[1] === 'joins') {
    const { values } = parseArgs({
      args: [...argv.slice(2)],
      options: {
        capacity: { type: 'string', default: '200' },
        seconds: { type: 'string', default: '60' },
        listeners: { type: 'string', default: '1000' },
        'drain-seconds': { type: 'string', default: '120' },
        'line-poll': { type: 'string', default: 'cdn' },
        json: { type: 'boolean', default: false },
      },
    });
    const linePoll = values['line-poll'];
    if (linePoll !== 'cdn' && linePoll !== 'direct') throw new Error('--line-poll must be cdn or direct');
    const { runJoinsBench } = await import('../bench/joins.ts');
    const summary = await runJoinsBench({
      capacity: numberOption('capacity', values.capacity, 1, 5000),
      seconds: numberOption('seconds', values.seconds, 2, 600),
      listeners: Math.round(numberOption('listeners', values.listeners, 0, 9000)),
      drainSeconds: numberOption('drain-seconds', values['drain-seconds'], 0, 1200),
      linePoll,
      json: values.json,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  if (argv[0] === 'bench' && argv[1] === 'flood') {
    const { values } = parseArgs({
      args: [...argv.slice(2)],
      options: {
        listeners: { type: 'string', default: '200' },
        factor: { type: 'string', default: '10' },
        seconds: { type: 'string', default: '30' },
        json: { type: 'boolean', default: false },
      },
    });
    const { runFloodBench } = await import('../bench/flood.ts');
    const summary = await runFloodBench({
      listeners: Math.round(numberOption('listeners', values.listeners, 1, 5000)),
      factor: numberOption('factor', values.factor, 0, 100),
      seconds: numberOption('seconds', values.seconds, 4, 600),
      json: values.json,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  }
  if (argv[0] === 'plan') {
    const { values } = parseArgs({
      args: [...argv.slice(1)],
      options: {
        listeners: { type: 'string', default: '8000000' },
        bench: { type: 'string', default: 'reports/bench-listeners.json' },
        json: { type: 'boolean', default: false },
      },
    });
    const { plan, printPlan } = await import('../bench/plan.ts');
    const result = plan({ listeners: Number(values.listeners), benchFile: values.bench, json: values.json });
    process.stdout.write(`${printPlan(result)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  return undefined;
}

/** Parses argv, loads config once, and runs the command. Returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const handled = await tools(argv);
    if (handled !== undefined) return handled;
  } catch (error) {
    process.stderr.write(`amphi: ${(error as Error).message}\n`);
    return 2;
  }
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
  if (positionals.length > 1 || !['start', 'edge', 'config'].includes(command)) {
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
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`amphi: ${error.message}\n`);
    return 2;
  }
  if (command === 'config') {
    process.stdout.write(
      `${JSON.stringify({ ...config, tokens: { ...config.tokens, signingKey: config.tokens.signingKey === null ? null : '(set)' } }, null, 2)}\n`,
    );
    return 0;
  }

  let server: { close(): Promise<void> };
  try {
    server = command === 'edge' ? await startEdge(config) : await startServer(config);
  } catch (error) {
    if (!(error instanceof AmphiError)) throw error;
    process.stderr.write(`amphi: ${error.message} (${String(error.details)})\n`);
    return 2;
  }
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
