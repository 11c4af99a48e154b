import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { ConfigSchema } from './schema.ts';

/**
 * Every setting from the environment, by one rule: `AMPHI_` and the setting's path in upper snake
 * case, dots as underscores (`stage.remoteCandidates.minPort` is `AMPHI_STAGE_REMOTE_CANDIDATES_MIN_PORT`).
 * A few well-known names stand for their setting too (`PORT`, `DATABASE_URL`, `REDIS_URL`...).
 */
export const envAliases = {
  PORT: 'server.port',
  HOST: 'server.host',
  DATABASE_URL: 'databaseUrl',
  REDIS_URL: 'cluster.redisUrl',
  AMPHI_SIGNING_KEY: 'tokens.signingKey',
  AMPHI_PUBLIC_URL: 'server.publicUrl',
  AMPHI_SMTP_URL: 'notify.smtpUrl',
  AMPHI_EMAIL_FROM: 'notify.emailFrom',
  AMPHI_ORIGIN_URL: 'edge.originUrl',
  AMPHI_REDIS_SENTINELS: 'cluster.sentinels',
  AMPHI_REDIS_SENTINEL_NAME: 'cluster.sentinelName',
  AWS_ACCESS_KEY_ID: 'bucket.accessKeyId',
  AWS_SECRET_ACCESS_KEY: 'bucket.secretAccessKey',
} as const;

interface Leaf {
  readonly path: string;
  readonly schema: TSchema;
}

/** The settings: every node of the schema that is not an object of named settings. */
function leavesOf(schema: TSchema, prefix: string[] = []): Leaf[] {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties;
  if (properties === undefined) return [{ path: prefix.join('.'), schema }];
  return Object.entries(properties).flatMap(([key, child]) => leavesOf(child, [...prefix, key]));
}

/** `remoteCandidates` → `REMOTE_CANDIDATES`. */
const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** The environment variable of a setting path, by the rule. */
export function envName(path: string): string {
  return `AMPHI_${path.split('.').map(snake).join('_')}`;
}

/** Every setting path with its environment variable, in schema order. */
export const settings: readonly (Leaf & { readonly env: string })[] = leavesOf(ConfigSchema).map((leaf) => ({
  ...leaf,
  env: envName(leaf.path),
}));

/**
 * A setting's value from the text of an environment variable: JSON where it fits the setting
 * (numbers, true/false, null, lists and mappings as JSON), else the text itself, else a
 * comma-separated list. The first reading the setting accepts wins; when none does, the JSON or
 * the text is returned and validation names the setting, what it accepts and this variable.
 */
export function parseEnvValue(schema: TSchema, raw: string): unknown {
  let json: unknown = undefined;
  try {
    json = JSON.parse(raw);
  } catch {
    // Not JSON: text or a list.
  }
  const list = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  const numbers = list.map(Number);
  const readings = [json, raw, list, numbers.some(Number.isNaN) ? undefined : numbers];
  return readings.find((reading) => reading !== undefined && Value.Check(schema, reading)) ?? json ?? raw;
}

/** The settings an environment gives, as path → value and path → the variable that gave it. */
export function fromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): { path: string; value: unknown; name: string }[] {
  const found: { path: string; value: unknown; name: string }[] = [];
  const byPath = new Map(settings.map((s) => [s.path, s.schema]));
  const names: [string, string][] = [...Object.entries(envAliases), ...settings.map((s): [string, string] => [s.env, s.path])];
  for (const [name, path] of names) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    found.push({ path, value: parseEnvValue(byPath.get(path)!, raw), name });
  }
  return found;
}

/** `AMPHI_` variables read outside the settings: the config file, `amphi publish`'s secrets, profiling. */
const otherNames: ReadonlySet<string> = new Set([
  'AMPHI_CONFIG',
  'AMPHI_PASSWORD',
  'AMPHI_SESSION_TOKEN',
  'AMPHI_TURN_USERNAME',
  'AMPHI_TURN_CREDENTIAL',
  'AMPHI_CPU_PROFILE_DIR',
  'AMPHI_BENCH_PROFILE_DIR',
]);

/** Edits (insert, delete, replace) from `a` to `b`. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * `AMPHI_` variables that name nothing Amphi reads (the test suite's `AMPHI_TEST_*` aside), each
 * with the closest name when one is near: a misspelt variable would otherwise be ignored in silence,
 * where a misspelt key in the file is refused.
 */
export function unknownEnvNames(env: Readonly<Record<string, string | undefined>>): { name: string; closest?: string }[] {
  const known = [...Object.keys(envAliases), ...settings.map((s) => s.env), ...otherNames];
  const knownSet = new Set(known);
  return Object.keys(env)
    .filter((name) => name.startsWith('AMPHI_') && !name.startsWith('AMPHI_TEST_') && !knownSet.has(name))
    .sort()
    .map((name) => {
      const [best] = known.map((k) => ({ k, d: distance(name, k) })).sort((x, y) => x.d - y.d);
      return best !== undefined && best.d <= Math.max(2, Math.floor(name.length / 6)) ? { name, closest: best.k } : { name };
    });
}
