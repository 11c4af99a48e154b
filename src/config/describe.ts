import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';

/** A JSON-schema node as TypeBox builds them, read structurally. */
interface Node {
  readonly type?: string;
  readonly anyOf?: readonly Node[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, Node>>;
  readonly items?: Node;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly multipleOf?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
}

/** The string patterns of the schema, said in words. */
const patterns: Readonly<Record<string, string>> = {
  '^https?://[^\\s]+[^/\\s]$': 'an http:// or https:// URL without a trailing slash',
  '^https?://': 'an http:// or https:// URL',
  '^postgres(ql)?://': 'a postgres:// URL',
  '^rediss?://': 'a redis:// or rediss:// URL',
  '^smtps?://': 'an smtp:// or smtps:// URL',
  '^(mailto:|https://)': 'a mailto: or https:// URL',
  '^[^:]+:[0-9]+$': 'host:port',
};

function range(node: Node, unit: string): string {
  const low = node.minimum ?? node.exclusiveMinimum;
  const high = node.maximum ?? node.exclusiveMaximum;
  const lowWord = node.exclusiveMinimum === undefined ? '' : 'above ';
  const highWord = node.exclusiveMaximum === undefined ? '' : 'below ';
  const parts: string[] = [];
  if (low !== undefined && high !== undefined && lowWord === '' && highWord === '') parts.push(`from ${low} to ${high}${unit}`);
  else {
    if (low !== undefined) parts.push(lowWord === '' ? `at least ${low}${unit}` : `above ${low}`);
    if (high !== undefined) parts.push(highWord === '' ? `at most ${high}${unit}` : `below ${high}`);
  }
  return parts.length === 0 ? '' : ` ${parts.join(' and ')}`;
}

/** What a schema node accepts, in words: "a whole number from 1 to 10", "one of: info, warn". */
export function describeSchema(node: Node): string {
  if (node.anyOf !== undefined) return `one of: ${node.anyOf.map(describeSchema).join('; or ')}`;
  if (node.enum !== undefined) return `one of ${node.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (node.const !== undefined) return JSON.stringify(node.const);
  switch (node.type) {
    case 'null':
      return 'null (not set)';
    case 'boolean':
      return 'true or false';
    case 'integer':
      return `a whole number${range(node, '')}${node.multipleOf === undefined ? '' : `, a multiple of ${node.multipleOf}`}`;
    case 'number':
      return `a number${range(node, '')}`;
    case 'string': {
      if (node.pattern !== undefined) return patterns[node.pattern] ?? `text matching /${node.pattern}/`;
      const length = range({ minimum: node.minLength, maximum: node.maxLength }, ' characters');
      return node.minLength === 1 && node.maxLength === undefined ? 'non-empty text' : `text${length}`;
    }
    case 'array': {
      const count = range({ minimum: node.minItems, maximum: node.maxItems }, ' items');
      return `a list${count === '' ? '' : ` of${count}`}, each ${node.items === undefined ? 'anything' : describeSchema(node.items)}`;
    }
    case 'object':
      return `a mapping with the keys ${Object.keys(node.properties ?? {}).join(', ')}`;
    default:
      return 'a valid value';
  }
}

/** The node a JSON pointer (`#/properties/server/properties/port`) names in a schema. */
function at(root: Node, pointer: string): Node {
  let node: unknown = root;
  for (const key of pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((k) => k !== '')) {
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return node ?? root;
}

function valueAt(value: unknown, instancePath: string): unknown {
  let cursor = value;
  for (const key of instancePath.split('/').slice(1)) cursor = (cursor as Record<string, unknown> | undefined)?.[key];
  return cursor;
}

/** `server.trustProxy` for `/server/trustProxy`. */
export function dotted(instancePath: string): string {
  return instancePath === '' ? '(top level)' : instancePath.slice(1).replaceAll('/', '.');
}

/**
 * Every problem of a candidate config, one line per setting: what it must be, in words (a union's
 * alternatives listed, an enum's values named), what it is, and where it came from (`source`).
 */
export function configProblems(schema: TSchema, candidate: unknown, source: (path: string) => string | undefined): string[] {
  const byPath = new Map<string, { schemaPath: string; unknownKeys?: string }>();
  for (const error of Value.Errors(schema, candidate)) {
    if (error.keyword === 'boolean') continue;
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperties?: unknown }).additionalProperties);
      byPath.set(`${error.instancePath}/${key}`, { schemaPath: error.schemaPath, unknownKeys: key });
      continue;
    }
    if (error.keyword === 'required') {
      // Each missing key on a line of its own, said as what it must be.
      for (const key of (error.params as { requiredProperties?: string[] }).requiredProperties ?? [])
        if (!byPath.has(`${error.instancePath}/${key}`))
          byPath.set(`${error.instancePath}/${key}`, { schemaPath: `${error.schemaPath}/properties/${key}` });
      continue;
    }
    const seen = byPath.get(error.instancePath);
    // A union reports each alternative and then itself: the shortest schema path is the union.
    if (seen === undefined || error.schemaPath.length < seen.schemaPath.length)
      byPath.set(error.instancePath, { schemaPath: error.schemaPath });
  }
  // A mapping given where a union takes one mapping or something else (`icePortRange`: {min, max} or
  // null) is judged as that mapping: its own missing and bad keys, not "must be one of".
  const asMapping = new Map<string, Node>();
  for (const [instancePath, { schemaPath, unknownKeys }] of byPath) {
    const branches = unknownKeys === undefined ? at(schema, schemaPath).anyOf : undefined;
    const actual = valueAt(candidate, instancePath);
    const mappings = branches?.filter((b) => b.type === 'object') ?? [];
    if (mappings.length === 1 && typeof actual === 'object' && actual !== null && !Array.isArray(actual))
      asMapping.set(instancePath, mappings[0]!);
  }
  const under = (path: string) => [...asMapping.keys()].some((p) => path === p || path.startsWith(`${p}/`));
  const rest = configProblemsOf(
    schema,
    candidate,
    source,
    [...byPath].filter(([path]) => !under(path)),
  );
  const mapped = [...asMapping].flatMap(([instancePath, branch]) =>
    configProblems(branch as TSchema, valueAt(candidate, instancePath), (sub) =>
      source(sub === '(top level)' ? dotted(instancePath) : `${dotted(instancePath)}.${sub}`),
    ).map((line) => `${dotted(instancePath)}${line.startsWith('(top level)') ? line.slice('(top level)'.length) : `.${line}`}`),
  );
  return [...rest, ...mapped];
}

/** The lines of `entries` (instance path → the schema node it failed), as `configProblems` says them. */
function configProblemsOf(
  schema: TSchema,
  candidate: unknown,
  source: (path: string) => string | undefined,
  entries: [string, { schemaPath: string; unknownKeys?: string }][],
): string[] {
  return entries.map(([instancePath, { schemaPath, unknownKeys }]) => {
    const path = dotted(instancePath);
    const from = source(path);
    const where = from === undefined ? '' : ` (from ${from})`;
    if (unknownKeys !== undefined) {
      const known = Object.keys(at(schema, schemaPath).properties ?? {}).sort();
      return `${path}: unknown setting${where}; the settings here are ${known.join(', ')}`;
    }
    const actual = valueAt(candidate, instancePath);
    const got = actual === undefined ? 'it is missing' : `got ${JSON.stringify(actual)}`;
    return `${path} must be ${describeSchema(at(schema, schemaPath))}; ${got}${where}`;
  });
}
