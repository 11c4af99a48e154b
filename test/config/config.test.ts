import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { ConfigError, loadConfig, redactedConfig, validateConfig } from '../../src/config/load.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { defaultConfig } from '../../src/config/defaults.ts';

/** Every object in a JSON value (arrays' items included), with its dotted path as errors name it. */
function objectsIn(value: unknown, path = ''): { path: string; object: Record<string, unknown> }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => objectsIn(item, path === '' ? String(i) : `${path}.${i}`));
  if (typeof value !== 'object' || value === null) return [];
  const object = value as Record<string, unknown>;
  return [
    { path, object },
    ...Object.entries(object).flatMap(([key, child]) => objectsIn(child, path === '' ? key : `${path}.${key}`)),
  ];
}

const tmp = mkdtempSync(join(tmpdir(), 'amphi-config-'));
function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('config', () => {
  test('defaults: 127.0.0.1:8080, SQLite under ./data, frozen', () => {
    const c = loadConfig();
    assert.equal(c.server.host, '127.0.0.1');
    assert.equal(c.server.port, 8080);
    assert.equal(c.databaseUrl, null);
    assert.equal(c.dataDir, resolve('./data'));
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.server) && Object.isFrozen(c.spaces.reactionEmoji));
    assert.throws(() => {
      (c.server as { port: number }).port = 1;
    }, TypeError);
  });

  test('precedence: file < environment < flags', () => {
    const f = file('p.yaml', 'server: { port: 9001, host: 0.0.0.0 }\nspaces: { maxSpeakers: 4 }\n');
    const fromFile = loadConfig({ file: f });
    assert.equal(fromFile.server.port, 9001);
    assert.equal(fromFile.spaces.maxSpeakers, 4);
    assert.equal(fromFile.spaces.maxCohosts, 2, 'unset keys keep their defaults');
    const fromEnv = loadConfig({ file: f, env: { PORT: '9002', AMPHI_DATA_DIR: '/tmp/x', DATABASE_URL: 'postgres://a@b/c' } });
    assert.equal(fromEnv.server.port, 9002);
    assert.equal(fromEnv.server.host, '0.0.0.0');
    assert.equal(fromEnv.dataDir, '/tmp/x');
    assert.equal(fromEnv.databaseUrl, 'postgres://a@b/c');
    const fromFlags = loadConfig({ file: f, env: { PORT: '9002' }, flags: { port: '9003', host: '::1', 'data-dir': '/tmp/y' } });
    assert.equal(fromFlags.server.port, 9003);
    assert.equal(fromFlags.server.host, '::1');
    assert.equal(fromFlags.dataDir, '/tmp/y');
  });

  test('unknown keys are rejected with their path', () => {
    const f = file('u.yaml', 'server: { prot: 80 }\nspacez: {}\n');
    assert.throws(
      () => loadConfig({ file: f }),
      (e: Error) => e instanceof ConfigError && /server.*prot/.test(e.message) && /spacez/.test(e.message),
    );
  });

  test('every object in the schema rejects unknown keys (additionalProperties: false)', () => {
    // The schema is JSON Schema: walk all of it (properties, array items, union members) for objects.
    const open = objectsIn(ConfigSchema)
      .filter(({ object }) => object.type === 'object' && object.additionalProperties !== false)
      .map(({ path }) => path);
    assert.ok(objectsIn(ConfigSchema).filter(({ object }) => object.type === 'object').length > 15, 'the walk finds the objects');
    assert.deepEqual(open, [], 'objects that would accept (and ignore) a misspelled key');
  });

  test('a misspelled rate-limit key in a config file is an error naming the key and where it is', () => {
    const f = file('r.yaml', 'admission:\n  limits:\n    perAddress: { capacity: 10, refilPerSecond: 5 }\n');
    assert.throws(
      () => loadConfig({ file: f }),
      (e: Error) =>
        e instanceof ConfigError &&
        e.message.includes(
          `admission.limits.perAddress.refilPerSecond: unknown setting (from config file ${f}); the settings here are capacity, refillPerSecond`,
        ),
    );
  });

  test('a misspelled key in any nested object of the config is rejected, naming the key and its path', () => {
    const objects = objectsIn(defaultConfig);
    for (const { path } of objects) {
      const candidate: unknown = structuredClone(defaultConfig);
      const target = objectsIn(candidate).find((o) => o.path === path)!.object;
      const key = Object.keys(target)[0]!;
      const typo = key.slice(0, -1); // refillPerSecond -> refillPerSecon
      assert.ok(!(typo in target), `${typo} is not a real key at ${path || '(top level)'}`);
      const known = Object.keys(target).sort().join(', ');
      target[typo] = target[key];
      assert.throws(
        () => validateConfig(candidate),
        (e: Error) =>
          e instanceof ConfigError &&
          e.message.includes(`${path === '' ? '' : `${path}.`}${typo}: unknown setting; the settings here are ${known}`),
        `a misspelled ${path === '' ? '' : `${path}.`}${typo} is accepted`,
      );
    }
    assert.ok(
      objects.some((o) => o.path === 'admission.shedding.levels.0'),
      'objects inside arrays are checked too',
    );
  });

  test('bad values name the setting and its source', () => {
    assert.throws(
      () => loadConfig({ env: { PORT: 'eighty' } }),
      (e: Error) =>
        e.message.includes('server.port must be a whole number from 0 to 65535; got "eighty" (from environment variable PORT)'),
    );
    assert.throws(() => loadConfig({ flags: { port: '70000' } }), /server\.port/);
    assert.throws(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' } }), /databaseUrl/);
    assert.throws(() => loadConfig({ file: file('b.yaml', 'log: { level: loud }') }), /log\.level/);
    assert.throws(() => loadConfig({ file: file('c.yaml', '- a list') }), /mapping/);
    assert.throws(() => loadConfig({ file: file('d.yaml', 'server: [') }), /not valid YAML/);
    assert.throws(() => loadConfig({ file: join(tmp, 'missing.yaml') }), /cannot read config file/);
  });

  test('address lists are checked at load: a bad entry is one line naming the setting, not a stack at start', () => {
    const bad = (env: Record<string, string>, pattern: RegExp) =>
      assert.throws(
        () => loadConfig({ env }),
        (e: Error) => e instanceof ConfigError && pattern.test(e.message),
      );
    bad({ AMPHI_SERVER_TRUST_PROXY: 'abc' }, /server\.trustProxy: "abc" is not an IP address, a CIDR/);
    bad({ AMPHI_SERVER_TRUST_PROXY: '11' }, /server\.trustProxy: "11" .*a hop count is a whole number from 1 to 10/);
    bad({ AMPHI_SERVER_TRUST_PROXY: '10.0.0.0/33' }, /server\.trustProxy: "10\.0\.0\.0\/33"/);
    bad({ AMPHI_SERVER_METRICS_ALLOW_FROM: 'loopback,zzz' }, /server\.metricsAllowFrom: "zzz"/);
    const ok = loadConfig({
      env: {
        AMPHI_SERVER_TRUST_PROXY: '10.0.0.0/8,fd00::/8,192.0.2.1,uniquelocal',
        AMPHI_SERVER_METRICS_ALLOW_FROM: '::1,linklocal',
      },
    });
    assert.deepEqual(ok.server.trustProxy, ['10.0.0.0/8', 'fd00::/8', '192.0.2.1', 'uniquelocal']);
    assert.deepEqual(ok.server.metricsAllowFrom, ['::1', 'linklocal']);
    assert.equal(loadConfig({ env: { AMPHI_SERVER_TRUST_PROXY: '2' } }).server.trustProxy, 2);
  });

  test('cross-field rule: secure cookies need an https public URL', () => {
    assert.throws(() => loadConfig({ overrides: { auth: { secureCookies: true } } }), /secureCookies needs server\.publicUrl/);
    const ok = loadConfig({ overrides: { auth: { secureCookies: true }, server: { publicUrl: 'https://amphi.example' } } });
    assert.equal(ok.auth.secureCookies, true);
  });

  test('the bucket: its URL must name an endpoint and a bucket, and it needs both keys', () => {
    const keys = { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' };
    const ok = loadConfig({ env: { AMPHI_BUCKET_URL: 'http://127.0.0.1:7480/amphi-media', ...keys } });
    assert.deepEqual(
      [ok.bucket.url, ok.bucket.accessKeyId, ok.bucket.secretAccessKey],
      ['http://127.0.0.1:7480/amphi-media', 'id', 'secret'],
    );
    assert.equal(loadConfig().bucket.url, null, 'no bucket by default: recordings stay on local disk');
    assert.throws(
      () => loadConfig({ env: { AMPHI_BUCKET_URL: 'http://127.0.0.1:7480/', ...keys } }),
      /bucket\.url \(AMPHI_BUCKET_URL\).*<bucket name/,
    );
    assert.throws(() => loadConfig({ env: { AMPHI_BUCKET_URL: 'http://127.0.0.1:7480/Bad_Name', ...keys } }), /<bucket name/);
    assert.throws(() => loadConfig({ env: { AMPHI_BUCKET_URL: 's3://bucket' } }), /bucket\.url/);
    assert.throws(
      () => loadConfig({ env: { AMPHI_BUCKET_URL: 'http://127.0.0.1:7480/amphi-media', AWS_ACCESS_KEY_ID: 'id' } }),
      /needs bucket\.accessKeyId and bucket\.secretAccessKey/,
    );
    assert.throws(
      () => loadConfig({ env: { AMPHI_BUCKET_URL: 'http://127.0.0.1:7480/amphi-media', AWS_SECRET_ACCESS_KEY: 'x' } }),
      /needs bucket\.accessKeyId/,
    );
  });

  test('the commented sample config is valid and shows exactly the defaults', () => {
    const sample: unknown = parse(readFileSync(resolve('amphi.sample.yaml'), 'utf8'));
    assert.deepEqual(sample, defaultConfig);
    assert.doesNotThrow(() => loadConfig({ file: resolve('amphi.sample.yaml') }));
  });
});

describe('printing the configuration', () => {
  test('the signing key and the database password are redacted; nothing else changes', () => {
    const config = loadConfig({
      overrides: {
        databaseUrl: 'postgres://amphi:s3cret-pw@db.example:5432/amphi',
        tokens: { signingKey: 'k'.repeat(40) },
      },
    });
    const printed = JSON.stringify(redactedConfig(config));
    assert.doesNotMatch(printed, /s3cret-pw/);
    assert.doesNotMatch(printed, /kkkkkkkk/);
    const shown = redactedConfig(config);
    assert.equal(shown.databaseUrl, 'postgres://amphi:redacted@db.example:5432/amphi');
    assert.equal(shown.tokens.signingKey, '(set)');
    assert.deepEqual({ ...shown, databaseUrl: null, tokens: null }, { ...config, databaseUrl: null, tokens: null });
    const plain = loadConfig({ overrides: { databaseUrl: 'postgres://db.example/amphi' } });
    assert.equal(redactedConfig(plain).databaseUrl, 'postgres://db.example/amphi');
    assert.equal(redactedConfig(plain).tokens.signingKey, null);
  });
});
