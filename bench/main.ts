/**
 * The one entry of every benchmark and drill: `node bench/main.ts <command> [options]`. `npm run
 * bench:*` and `amphi bench ...` / `amphi plan ...` (which spawns this file: shipped code never imports
 * bench/) all come here. Options are checked before anything starts: a bad one exits 2 with the
 * command's usage; a bench that fails (a setup step refused included) exits 1 with one line saying why;
 * SIGINT/SIGTERM stop what a bench started within 5 s and exit 130/143 (lib/teardown.ts).
 * Each bench is imported only when it runs, so one command never loads another's dependencies.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { choiceOption, numberOption } from './lib/options.ts';
import { interruptedCode } from './lib/teardown.ts';

type Values = Record<string, string | boolean | undefined>;
type OptionSpec = Record<string, { type: 'string'; default?: string } | { type: 'boolean'; default?: boolean }>;

interface Command {
  /** One line for the command list. */
  readonly summary: string;
  /** The options, as the usage shows them. */
  readonly usage: string;
  readonly options: OptionSpec;
  /** Checks the values (throwing on a bad one) and returns the run. */
  readonly prepare: (v: Values) => () => Promise<unknown>;
}

/** String options with their defaults (undefined: none), and --json for the benches that print a summary. */
const options = (defaults: Record<string, string | undefined>, json = false): OptionSpec => ({
  ...Object.fromEntries(
    Object.entries(defaults).map(([name, d]) => [name, { type: 'string' as const, ...(d === undefined ? {} : { default: d }) }]),
  ),
  ...(json ? { json: { type: 'boolean' as const, default: false } } : {}),
});
const str = (v: Values, name: string) => String(v[name]);
const num = (v: Values, name: string, min: number, max: number) => numberOption(name, str(v, name), min, max);
/** Runs a bench that returns its summary, printing it as a last JSON line with --json. */
const summarized = (v: Values, run: () => Promise<unknown>) => async () => {
  const summary = await run();
  if (v.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
};

const listeners: Command = {
  summary: 'listeners per edge core, stream or LL-HLS; Icecast compares the stream, nginx LL-HLS',
  usage: '[--listeners 2000] [--seconds 60] [--ramp 500] [--delivery stream|hls] [--peer icecast|nginx|none] [--json]',
  options: options({ listeners: '2000', seconds: '60', ramp: '500', peer: undefined, delivery: undefined }, true),
  prepare: (v) => {
    // No --peer: the delivery's peer where it is installed (Icecast for the stream, nginx for LL-HLS).
    const peer = v.peer === undefined ? undefined : choiceOption('peer', str(v, 'peer'), ['icecast', 'nginx', 'none'] as const);
    // nginx serves playlists and parts (LL-HLS); Icecast a progressive stream, like Amphi's live.mp4.
    const delivery = choiceOption('delivery', String(v.delivery ?? (peer === 'nginx' ? 'hls' : 'stream')), [
      'stream',
      'hls',
    ] as const);
    if (peer === 'nginx' && delivery !== 'hls') throw new Error('--peer nginx compares LL-HLS: use --delivery hls');
    const o = {
      listeners: num(v, 'listeners', 1, 9000),
      seconds: num(v, 'seconds', 5, 600),
      rampPerSecond: num(v, 'ramp', 1, 100_000),
      peer,
      delivery,
      json: v.json === true,
    };
    return summarized(v, async () => (await import('./listeners.ts')).runListenerBench(o));
  },
};

const joins: Command = {
  summary: 'flash-crowd drill: joins at 10x capacity on a scheduled Space that goes live halfway',
  usage: '[--capacity 200] [--seconds 60] [--listeners 1000] [--drain-seconds 120] [--line-poll cdn|direct] [--json]',
  options: options({ capacity: '200', seconds: '60', listeners: '1000', 'drain-seconds': '120', 'line-poll': 'cdn' }, true),
  prepare: (v) => {
    const o = {
      linePoll: choiceOption('line-poll', str(v, 'line-poll'), ['cdn', 'direct'] as const),
      capacity: num(v, 'capacity', 1, 5000),
      seconds: num(v, 'seconds', 2, 600),
      listeners: Math.round(num(v, 'listeners', 0, 9000)),
      drainSeconds: num(v, 'drain-seconds', 0, 1200),
      json: v.json === true,
    };
    return summarized(v, async () => (await import('./joins/drill.ts')).runJoinsBench(o));
  },
};

const flood: Command = {
  summary: 'junk-flood drill: the cost of refusing junk next to serving, and whether listeners notice',
  usage: '[--listeners 200] [--factor 10] [--seconds 30] [--json]',
  options: options({ listeners: '200', factor: '10', seconds: '30' }, true),
  prepare: (v) => {
    const o = {
      listeners: Math.round(num(v, 'listeners', 1, 5000)),
      factor: num(v, 'factor', 0, 100),
      seconds: num(v, 'seconds', 4, 600),
      json: v.json === true,
    };
    return summarized(v, async () => (await import('./flood/drill.ts')).runFloodBench(o));
  },
};

/** join and edge: a load generator drives one URL for --seconds over --connections (autocannon, wrk). */
function loadCommand(
  summary: string,
  minSeconds: number,
  run: (o: { seconds: number; connections: number }) => Promise<void>,
): Command {
  return {
    summary,
    usage: '[--seconds 10] [--connections 64]',
    options: options({ seconds: '10', connections: '64' }),
    prepare: (v) => {
      const o = { seconds: num(v, 'seconds', minSeconds, 120), connections: num(v, 'connections', 1, 1000) };
      return () => run(o);
    },
  };
}

const join = loadCommand('POST /join throughput on one core, next to a bare node:http server', 1, async (o) =>
  (await import('./join.ts')).runJoinBench(o),
);

const edge = loadCommand('cached-object requests per second at the edge, next to nginx (needs wrk and nginx)', 2, async (o) =>
  (await import('./edge.ts')).runEdgeBench(o),
);

const stage: Command = {
  summary: 'Spaces per stage core: live Spaces of three WebRTC speakers each',
  usage: '[--spaces 8] [--seconds 10]',
  options: options({ spaces: '8', seconds: '10' }),
  prepare: (v) => {
    const o = { spaces: num(v, 'spaces', 1, 120), seconds: num(v, 'seconds', 2, 60) };
    return async () => (await import('./stage.ts')).runStageBench(o);
  },
};

const planCommand: Command = {
  summary: "size a launch night from measured figures (the listener bench JSON, or the launch-night drill's)",
  usage: '[--listeners 8000000] [--bench reports/bench-listeners.json] [--drill reports/drill-launch-night.json] [--json]',
  options: options({ listeners: '8000000', bench: 'reports/bench-listeners.json', drill: undefined }, true),
  prepare: (v) => {
    const o = {
      listeners: num(v, 'listeners', 1, Number.MAX_SAFE_INTEGER),
      benchFile: str(v, 'bench'),
      ...(v.drill === undefined ? {} : { drillFile: str(v, 'drill') }),
      json: v.json === true,
    };
    return async () => {
      const { plan, printPlan } = await import('./plan.ts');
      const result = plan(o);
      process.stdout.write(`${printPlan(result)}\n`);
      if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    };
  },
};

const cluster: Command = {
  summary: 'a local cluster: Redis, PostgreSQL, media nodes, control nodes behind nginx, edges; Ctrl-C stops it',
  usage: '[--control 3] [--edges 4] [--media 1] [--database-url URL]',
  options: options({ control: '3', edges: '4', media: '1', 'database-url': undefined }),
  prepare: (v) => {
    const o = {
      controls: Math.round(num(v, 'control', 1, 50)),
      edges: Math.round(num(v, 'edges', 0, 100)),
      media: Math.round(num(v, 'media', 1, 8)),
      ...(v['database-url'] === undefined ? {} : { databaseUrl: str(v, 'database-url') }),
    };
    return async () => (await import('./cluster/run.ts')).runCluster(o);
  },
};

const clusterJoin: Command = {
  summary: 'CPU and Redis round trips per join: one control node on Redis and PostgreSQL next to the embedded mode',
  usage: '[--seconds 10] [--connections 64] [--json]',
  options: options({ seconds: '10', connections: '64' }, true),
  prepare: (v) => {
    const o = { seconds: num(v, 'seconds', 2, 300), connections: Math.round(num(v, 'connections', 1, 1000)) };
    return summarized(v, async () => (await import('./cluster/join-cost.ts')).runClusterJoinBench(o));
  },
};

const launchNight: Command = {
  summary: "the launch-night drill: X Spaces' night on a local cluster (crowd, junk, faults), scored (amphi drill launch-night)",
  usage: '[--short] [--capacity 40] [--crowd-seconds 60] [--audience 150] [--broken-line] [--out reports] [--json]',
  options: {
    ...options({ capacity: undefined, 'crowd-seconds': undefined, audience: undefined, out: undefined }, true),
    short: { type: 'boolean', default: false },
    // The self-check: a cluster broken on purpose (each control node its own waiting line) must fail.
    'broken-line': { type: 'boolean', default: false },
  },
  prepare: (v) => {
    const over = {
      ...(v.capacity === undefined ? {} : { capacity: num(v, 'capacity', 1, 10_000) }),
      ...(v['crowd-seconds'] === undefined ? {} : { crowdSeconds: num(v, 'crowd-seconds', 5, 300) }),
      ...(v.audience === undefined ? {} : { audience: Math.round(num(v, 'audience', 1, 5000)) }),
      brokenLine: v['broken-line'] === true,
      ...(v.out === undefined ? {} : { outDir: resolve(str(v, 'out')) }),
    };
    return async () => {
      const { FULL, SHORT, runLaunchNight } = await import('./night/drill.ts');
      const summary = await runLaunchNight({ ...(v.short === true ? SHORT : FULL), ...over, json: v.json === true });
      if (v.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
      const failed = summary.targets.filter((t) => !t.pass).map((t) => t.name);
      if (failed.length > 0) throw new Error(`the night failed: ${failed.join('; ')}`);
    };
  },
};

export const commands: Readonly<Record<string, Command>> = {
  listeners,
  joins,
  flood,
  join,
  edge,
  stage,
  plan: planCommand,
  cluster,
  'cluster-join': clusterJoin,
  'launch-night': launchNight,
};

export const usage = `Usage: node bench/main.ts <command> [options]   (also: amphi bench <command>, amphi plan, npm run bench:<command>)

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}\n  ${''.padEnd(10)} ${c.usage}`)
  .join('\n')}

Every command takes --help. Benches pin Amphi to CPU 0 and their load to CPU 1, use loopback only, stop by
themselves, and write reports/<name>.json.
`;

const commandUsage = (name: string) => `Usage: node bench/main.ts ${name} ${commands[name]!.usage}\n`;

/** What argv asks for: text to print (and the exit code), or a checked run. Starts nothing. */
export function parseCommand(
  argv: readonly string[],
):
  | { readonly print: string; readonly code: number; readonly error: boolean }
  | { readonly name: string; readonly run: () => Promise<unknown> } {
  const [name, ...rest] = argv;
  if (name === undefined) return { print: usage, code: 2, error: true };
  if (name === 'help' || name === '--help' || name === '-h') return { print: usage, code: 0, error: false };
  const command = commands[name];
  if (command === undefined) return { print: `bench: unknown command "${name}"\n\n${usage}`, code: 2, error: true };
  try {
    const { values } = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) return { print: commandUsage(name), code: 0, error: false };
    return { name, run: command.prepare(values) };
  } catch (error) {
    return { print: `bench ${name}: ${(error as Error).message}\n\n${commandUsage(name)}`, code: 2, error: true };
  }
}

/** Runs the command argv names; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommand(argv);
  if ('print' in parsed) {
    (parsed.error ? process.stderr : process.stdout).write(parsed.print);
    return parsed.code;
  }
  try {
    await parsed.run();
    return 0;
  } catch (error) {
    const stopped = interruptedCode();
    if (stopped !== undefined) return stopped; // the signal handler exits with this code once the teardown is done
    process.stderr.write(`bench ${parsed.name}: ${(error as Error).message}\n`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // The run is over and its teardown done: a socket or timer left open somewhere must not keep the
  // process (and whoever waits for it) alive for minutes.
  setTimeout(() => {
    process.stderr.write('bench: handles still open after the run: exiting\n');
    process.exit(code);
  }, 2000).unref();
}
