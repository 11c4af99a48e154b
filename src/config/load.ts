import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { parseBucketUrl } from '../lib/bucket-url.ts';
import { redactUrlPassword } from '../lib/redact-url.ts';
import { ConfigSchema, type Config } from './schema.ts';
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

/** The environment variables that set config keys, and their config paths. */
export const configEnv = {
  PORT: 'server.port',
  AMPHI_STAGE_PORT: 'stage.port',
  HOST: 'server.host',
  AMPHI_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  AMPHI_LOG_LEVEL: 'log.level',
  AMPHI_SIGNING_KEY: 'tokens.signingKey',
  REDIS_URL: 'cluster.redisUrl',
  AMPHI_REDIS_SENTINELS: 'cluster.sentinels',
  AMPHI_REDIS_SENTINEL_NAME: 'cluster.sentinelName',
  AMPHI_PUBLIC_URL: 'server.publicUrl',
  AMPHI_SMTP_URL: 'notify.smtpUrl',
  AMPHI_EMAIL_FROM: 'notify.emailFrom',
  AMPHI_STAGE_PUBLIC_URL: 'stage.publicUrl',
  AMPHI_EDGE_PUBLIC_URL: 'edge.publicUrl',
  AMPHI_ORIGIN_URL: 'edge.originUrl',
  AMPHI_BUCKET_URL: 'bucket.url',
  AMPHI_BUCKET_REGION: 'bucket.region',
  AWS_ACCESS_KEY_ID: 'bucket.accessKeyId',
  AWS_SECRET_ACCESS_KEY: 'bucket.secretAccessKey',
} as const;

const numericPaths = new Set(['server.port', 'stage.port']);
/** Settings given as a comma-separated list in the environment. */
const listPaths = new Set(['cluster.sentinels']);

export interface LoadOptions {
  /** A YAML or JSON file (`--config` or `AMPHI_CONFIG`). */
  readonly file?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly flags?: Readonly<Partial<Record<keyof typeof configFlags, string>>>;
  /** Overrides applied last, used by tests and embedded callers. */
  readonly overrides?: Layer;
}

/**
 * Builds the configuration once: defaults, then the file, then the environment, then flags, then
 * overrides; validates the result against the schema and cross-field rules; returns it frozen.
 */
export function loadConfig(options: LoadOptions = {}): Readonly<Config> {
  let merged: Layer = structuredClone(defaultConfig);
  if (options.file !== undefined) merged = deepMerge(merged, readFileLayer(options.file), 'config file');
  const env = options.env ?? {};
  for (const [name, path] of Object.entries(configEnv)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') merged = setPath(merged, path, coerce(path, raw, `environment variable ${name}`));
  }
  for (const [name, path] of Object.entries(configFlags)) {
    const raw = options.flags?.[name as keyof typeof configFlags];
    if (raw !== undefined) merged = setPath(merged, path, coerce(path, raw, `flag --${name}`));
  }
  if (options.overrides !== undefined) merged = deepMerge(merged, options.overrides, 'overrides');
  return validateConfig(merged);
}

export function validateConfig(candidate: unknown): Readonly<Config> {
  if (!Value.Check(ConfigSchema, candidate)) {
    const problems = [...Value.Errors(ConfigSchema, candidate)]
      .filter((e) => e.keyword !== 'boolean')
      .map((e) => {
        const where = e.instancePath === '' ? '(top level)' : e.instancePath.slice(1).replaceAll('/', '.');
        const extra =
          e.keyword === 'additionalProperties'
            ? `: unknown key(s) ${String((e.params as { additionalProperties?: unknown }).additionalProperties)}`
            : '';
        return `${where} ${e.message}${extra}`;
      });
    throw new ConfigError(`invalid configuration:\n  - ${[...new Set(problems)].join('\n  - ')}`);
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

function coerce(path: string, raw: string, source: string): unknown {
  if (listPaths.has(path))
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  if (!numericPaths.has(path)) return raw;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${source} must be a whole number, got "${raw}"`);
  return Number(raw);
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
