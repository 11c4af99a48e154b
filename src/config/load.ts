import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { parseBucketUrl } from '../lib/bucket-url.ts';
import { redactUrlPassword } from '../lib/redact-url.ts';
import { configProblems } from './describe.ts';
import { fromEnvironment, parseEnvValue, settings } from './env.ts';
import { ConfigSchema, type Config } from './schema.ts';
import { networkProblem } from './stage-network.ts';
import { addressProblem } from './addresses.ts';
import { defaultConfig } from './defaults.ts';

/** Thrown for any invalid setting; the message names the setting, its source and the fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Layer = Record<string, unknown>;

/** The command-line flags that set config keys (`--port 9000`), and their config paths. */
export const configFlags = {
  port: 'server.port',
  'stage-port': 'stage.port',
  host: 'server.host',
  'data-dir': 'dataDir',
  'database-url': 'databaseUrl',
  'log-level': 'log.level',
  origin: 'edge.originUrl',
  'redis-url': 'cluster.redisUrl',
} as const;

export interface LoadOptions {
  /** A YAML or JSON file (`--config` or `AMPHI_CONFIG`). */
  readonly file?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly flags?: Readonly<Partial<Record<keyof typeof configFlags, string>>>;
  /** Overrides applied last, used by tests and embedded callers. */
  readonly overrides?: Layer;
}

/**
 * Builds the configuration once: defaults (the demo Space off when NODE_ENV is production), then the
 * file, then the environment (every setting, see env.ts), then flags, then overrides; validates the
 * result against the schema and cross-field rules; returns it frozen. An invalid setting is named with
 * what it accepts and where its value came from.
 */
export function loadConfig(options: LoadOptions = {}): Readonly<Config> {
  const env = options.env ?? {};
  let merged: Layer = structuredClone(defaultConfig);
  if (env.NODE_ENV === 'production') merged = setPath(merged, 'demo.enabled', false);
  const sources = new Map<string, string>();
  if (options.file !== undefined) {
    const layer = readFileLayer(options.file);
    for (const path of leafPaths(layer)) sources.set(path, `config file ${options.file}`);
    merged = deepMerge(merged, layer, 'config file');
  }
  for (const { path, value, name } of fromEnvironment(env)) {
    sources.set(path, `environment variable ${name}`);
    merged = setPath(merged, path, value);
  }
  const leaves = new Map(settings.map((s) => [s.path, s.schema]));
  for (const [name, path] of Object.entries(configFlags)) {
    const raw = options.flags?.[name as keyof typeof configFlags];
    if (raw === undefined) continue;
    sources.set(path, `flag --${name}`);
    merged = setPath(merged, path, parseEnvValue(leaves.get(path)!, raw));
  }
  if (options.overrides !== undefined) merged = deepMerge(merged, options.overrides, 'overrides');
  return validateConfig(merged, (path) => sourceOf(sources, path));
}

/** Where a setting (or the setting it is part of: `a.b` for `a.b.0`) came from. */
function sourceOf(sources: ReadonlyMap<string, string>, path: string): string | undefined {
  for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const found = sources.get(p);
    if (found !== undefined) return found;
  }
  return undefined;
}

function leafPaths(layer: Layer, prefix = ''): string[] {
  return Object.entries(layer).flatMap(([key, value]) =>
    isPlainObject(value) ? leafPaths(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

export function validateConfig(
  candidate: unknown,
  source: (path: string) => string | undefined = () => undefined,
): Readonly<Config> {
  if (!Value.Check(ConfigSchema, candidate)) {
    const problems = configProblems(ConfigSchema, candidate, source);
    throw new ConfigError(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  const config = candidate;
  if (config.stage.port !== 0 && config.stage.port === config.server.port) {
    throw new ConfigError(
      `invalid configuration: stage.port (${config.stage.port}) must differ from server.port: the stage has its own listener so audience traffic cannot delay speakers`,
    );
  }
  if (config.auth.secureCookies && !(config.server.publicUrl ?? '').startsWith('https://')) {
    throw new ConfigError(
      'invalid configuration: auth.secureCookies needs server.publicUrl to be an https:// URL, or browsers will never send the session cookie back',
    );
  }
  const shortKey = (config.tokens.signingKey ?? '').split(',').find((key) => key.trim().length < 32);
  if (config.tokens.signingKey !== null && shortKey !== undefined) {
    throw new ConfigError(
      'invalid configuration: tokens.signingKey: each key of the comma-separated list must be at least 32 characters',
    );
  }
  if (config.cluster.staleMs <= config.cluster.reportMs) {
    throw new ConfigError(
      `invalid configuration: cluster.staleMs (${config.cluster.staleMs}) must exceed cluster.reportMs (${config.cluster.reportMs}), or live nodes drop out of the fleet between reports`,
    );
  }
  if (config.edge.drainMs >= config.server.shutdownGraceMs) {
    throw new ConfigError(
      `invalid configuration: edge.drainMs (${config.edge.drainMs}) must be shorter than server.shutdownGraceMs (${config.server.shutdownGraceMs}), or a draining edge is killed before it closes`,
    );
  }
  if (config.cluster.redisUrl !== null && config.cluster.sentinels.length > 0) {
    throw new ConfigError('invalid configuration: set cluster.redisUrl (REDIS_URL) or cluster.sentinels, not both');
  }
  if (config.bucket.url !== null) {
    try {
      parseBucketUrl(config.bucket.url);
    } catch (error) {
      throw new ConfigError(`invalid configuration: bucket.url (AMPHI_BUCKET_URL): ${(error as Error).message}`);
    }
    if (config.bucket.accessKeyId === null || config.bucket.secretAccessKey === null) {
      throw new ConfigError(
        'invalid configuration: bucket.url needs bucket.accessKeyId and bucket.secretAccessKey (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
      );
    }
  }
  const candidates = config.stage.remoteCandidates;
  if (candidates.minPort > candidates.maxPort) {
    throw new ConfigError(
      `invalid configuration: stage.remoteCandidates.minPort (${candidates.minPort}) must not exceed maxPort (${candidates.maxPort})`,
    );
  }
  const problem = networkProblem(config.stage) ?? addressProblem(config.server);
  if (problem !== undefined) throw new ConfigError(`invalid configuration: ${problem}`);
  return deepFreeze({ ...config, dataDir: resolve(config.dataDir) });
}

function readFileLayer(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) throw new ConfigError(`config file ${file} must hold a mapping of settings`);
  return parsed;
}

function setPath(target: Layer, path: string, value: unknown): Layer {
  const keys = path.split('.');
  const layer: Layer = {};
  let cursor = layer;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) cursor[key] = value;
    else cursor = cursor[key] = {};
  });
  return deepMerge(target, layer, path);
}

function deepMerge(base: Layer, over: Layer, source: string): Layer {
  const out: Layer = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = out[key];
    out[key] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value, source) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Layer {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * The configuration as `amphi config` prints it: secrets replaced (the signing key, the password in
 * DATABASE_URL), everything else as loaded, so a printout can be pasted into a bug report.
 */
export function redactedConfig(config: Readonly<Config>): Config {
  return {
    ...config,
    databaseUrl: config.databaseUrl === null ? null : redactUrlPassword(config.databaseUrl),
    cluster: {
      ...config.cluster,
      redisUrl: config.cluster.redisUrl === null ? null : redactUrlPassword(config.cluster.redisUrl),
    },
    tokens: { ...config.tokens, signingKey: config.tokens.signingKey === null ? null : '(set)' },
  };
}
