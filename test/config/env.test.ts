import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import { envAliases, envName, settings, unknownEnvNames } from '../../src/config/env.ts';
import { main } from '../../src/cli.ts';
import { renderSettingsDocs } from '../../src/config/docs.ts';

/** A setting's value in a config object, by dotted path. */
function valueAt(config: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((cursor, key) => (cursor as Record<string, unknown>)[key], config);
}

/** The text an operator would put in the environment for a value. */
function envText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  return JSON.stringify(value);
}

describe('every setting from the environment', () => {
  test('one rule names them all: AMPHI_ and the path in upper snake case; no two settings share a name', () => {
    assert.equal(envName('stage.remoteCandidates.minPort'), 'AMPHI_STAGE_REMOTE_CANDIDATES_MIN_PORT');
    assert.equal(envName('dataDir'), 'AMPHI_DATA_DIR');
    const names = settings.map((s) => s.env);
    assert.equal(new Set(names).size, names.length, 'two settings map to one variable');
    assert.ok(settings.length > 100, `only ${settings.length} settings found`);
    for (const [alias, path] of Object.entries(envAliases)) {
      assert.ok(
        settings.some((s) => s.path === path),
        `${alias} names ${path}, which is not a setting`,
      );
      assert.ok(!names.includes(alias) || settings.find((s) => s.env === alias)!.path === path, `${alias} is two settings`);
    }
  });

  test('every setting is read from its variable: its default given as text loads back unchanged', () => {
    for (const { path, env } of settings) {
      const value = valueAt(defaultConfig, path);
      if (value === null || path === 'dataDir') continue; // dataDir loads resolved to an absolute path
      const loaded = loadConfig({ env: { [env]: envText(value) } });
      assert.deepEqual(valueAt(loaded, path), value, `${env}=${envText(value)}`);
    }
  });

  test('every whole-number setting takes a new value from its variable', () => {
    let changed = 0;
    for (const { path, env, schema } of settings) {
      const { type, minimum, maximum } = schema as { type?: string; minimum?: number; maximum?: number };
      if (type !== 'integer' || minimum === undefined || maximum === undefined) continue;
      const next = valueAt(defaultConfig, path) === minimum ? maximum : minimum;
      let loaded;
      try {
        loaded = loadConfig({ env: { [env]: String(next) } });
      } catch (error) {
        // A cross-field rule may refuse an extreme (drainMs vs shutdownGraceMs): the variable was still read.
        assert.ok(error instanceof ConfigError && error.message.includes('must'), `${env}: ${(error as Error).message}`);
        continue;
      }
      assert.equal(valueAt(loaded, path), next, `${env}=${next} was ignored`);
      changed++;
    }
    assert.ok(changed > 40, `only ${changed} whole-number settings checked`);
  });

  test('unions, lists, booleans and JSON each read as the setting expects', () => {
    const load = (env: Record<string, string>) => loadConfig({ env });
    assert.equal(load({ AMPHI_SERVER_TRUST_PROXY: '2' }).server.trustProxy, 2);
    assert.equal(load({ AMPHI_SERVER_TRUST_PROXY: 'true' }).server.trustProxy, true);
    assert.deepEqual(load({ AMPHI_SERVER_TRUST_PROXY: '10.0.0.0/8, 192.168.0.0/16' }).server.trustProxy, [
      '10.0.0.0/8',
      '192.168.0.0/16',
    ]);
    assert.deepEqual(load({ AMPHI_STAGE_ICE_ADDRESSES: '203.0.113.7' }).stage.iceAddresses, ['203.0.113.7']);
    assert.equal(load({ AMPHI_STAGE_REMOTE_CANDIDATES_ALLOW_LOOPBACK: 'false' }).stage.remoteCandidates.allowLoopback, false);
    assert.equal(load({ AMPHI_STAGE_REMOTE_CANDIDATES_ALLOW_LOOPBACK: 'auto' }).stage.remoteCandidates.allowLoopback, 'auto');
    assert.equal(load({ AMPHI_ORIGIN_RETENTION_DAYS: '30' }).origin.retentionDays, 30);
    assert.equal(load({ AMPHI_SPACES_CREATE_PER_ACCOUNT_CAPACITY: '7' }).spaces.createPerAccount.capacity, 7);
    const levels = [{ joinsToWaitingRoom: true, roomStateIntervalMultiplier: 3, reactionsKeepOneIn: 2 }];
    assert.deepEqual(load({ AMPHI_ADMISSION_SHEDDING_LEVELS: JSON.stringify(levels) }).admission.shedding.levels, levels);
    const secure = load({ AMPHI_SERVER_PUBLIC_URL: 'https://amphi.example.org', AMPHI_AUTH_SECURE_COOKIES: 'true' });
    assert.equal(secure.auth.secureCookies, true);
    assert.equal(secure.server.publicUrl, 'https://amphi.example.org');
    // A text setting keeps text that looks like JSON.
    assert.equal(load({ AMPHI_DEMO_TITLE: '123' }).demo.title, '123');
    // The rule's name wins over a well-known alias for the same setting.
    assert.equal(load({ PORT: '9000', AMPHI_SERVER_PORT: '9001' }).server.port, 9001);
  });
});

describe('readable configuration errors', () => {
  // Too long for a proxy address, so no reading of it fits server.trustProxy.
  const long = 'x'.repeat(70);
  const message = (env: Record<string, string>) => {
    try {
      loadConfig({ env });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    assert.fail('accepted');
  };

  test('a union lists its alternatives; an enum names its values; each names the variable it came from', () => {
    assert.match(
      message({ AMPHI_SERVER_TRUST_PROXY: long }),
      /server\.trustProxy must be one of: true or false; or a whole number from 1 to 10; or a list of from 1 to 64 items, each text from 1 to 64 characters; got "x{70}" \(from environment variable AMPHI_SERVER_TRUST_PROXY\)/,
    );
    assert.match(
      message({ AMPHI_LOG_LEVEL: 'loud' }),
      /log\.level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"; got "loud" \(from environment variable AMPHI_LOG_LEVEL\)/,
    );
    assert.match(
      message({ AMPHI_SERVER_PUBLIC_URL: 'amphi.example.org' }),
      /server\.publicUrl must be one of: an http:\/\/ or https:\/\/ URL without a trailing slash; or null/,
    );
    assert.doesNotMatch(message({ AMPHI_LOG_LEVEL: 'loud' }), /anyOf|must match a schema/);
  });

  test('a mapping given where a mapping or null is taken is judged as that mapping: each missing or bad key on its line', () => {
    const lines = message({ AMPHI_STAGE_ICE_PORT_RANGE: '{"min":1}', AMPHI_LOG_LEVEL: 'y' }).split('\n').slice(1);
    const from = '(from environment variable AMPHI_STAGE_ICE_PORT_RANGE)';
    assert.deepEqual(lines.filter((l) => l.includes('icePortRange')).sort(), [
      `  - stage.icePortRange.max must be a whole number from 1024 to 65535; it is missing ${from}`,
      `  - stage.icePortRange.min must be a whole number from 1024 to 65535; got 1 ${from}`,
    ]);
    assert.equal(lines.length, 3, 'and the other setting, once');
    assert.match(
      message({ AMPHI_STAGE_ICE_PORT_RANGE: '7' }),
      /stage\.icePortRange must be one of: a mapping with the keys min, max; or null/,
    );
    assert.match(
      message({ AMPHI_STAGE_ICE_PORT_RANGE: '{"min":2000,"max":3000,"x":1}' }),
      /stage\.icePortRange\.x: unknown setting/,
    );
  });

  test('one line per bad setting, however many alternatives fail', () => {
    const lines = message({ AMPHI_SERVER_TRUST_PROXY: long, AMPHI_LOG_LEVEL: 'y' }).split('\n').slice(1);
    assert.equal(lines.length, 2, lines.join('\n'));
  });
});

describe('AMPHI_ variables that name no setting', () => {
  test('a misspelt setting is named with the closest real one; far-off names without a guess', () => {
    assert.deepEqual(
      unknownEnvNames({
        AMPHI_SERVER_PROT: '8080',
        AMPHI_STAGE_ICE_ADRESSES: '10.0.0.1',
        AMPHI_WHATEVER_THIS_IS: '1',
        AMPHI_SERVER_PORT: '8080',
        PORT: '1',
      }),
      [
        { name: 'AMPHI_SERVER_PROT', closest: 'AMPHI_SERVER_PORT' },
        { name: 'AMPHI_STAGE_ICE_ADRESSES', closest: 'AMPHI_STAGE_ICE_ADDRESSES' },
        { name: 'AMPHI_WHATEVER_THIS_IS' },
      ],
    );
  });

  test('every name Amphi reads is known: settings, aliases, the config file, publish secrets, profiling, the tests', () => {
    const env: Record<string, string> = { AMPHI_CONFIG: 'a.yaml', AMPHI_PASSWORD: 'x', AMPHI_SESSION_TOKEN: 'x' };
    Object.assign(env, {
      AMPHI_TURN_USERNAME: 'u',
      AMPHI_TURN_CREDENTIAL: 'c',
      AMPHI_CPU_PROFILE_DIR: '/tmp',
      AMPHI_TEST_PG: '1',
    });
    for (const s of settings) env[s.env] = '1';
    for (const alias of Object.keys(envAliases)) env[alias] = '1';
    assert.deepEqual(unknownEnvNames(env), []);
  });

  test('amphi says so on stderr and goes on', { timeout: 10_000 }, async (t) => {
    const written: string[] = [];
    t.mock.method(process.stderr, 'write', (chunk: string) => written.push(chunk) > 0);
    t.mock.method(process.stdout, 'write', () => true);
    const before = process.env.AMPHI_SERVER_PROT;
    process.env.AMPHI_SERVER_PROT = '9';
    try {
      assert.equal(await main(['config']), 0);
    } finally {
      if (before === undefined) delete process.env.AMPHI_SERVER_PROT;
      else process.env.AMPHI_SERVER_PROT = before;
    }
    assert.ok(
      written.includes('amphi: AMPHI_SERVER_PROT is not a setting, ignored (did you mean AMPHI_SERVER_PORT?)\n'),
      written.join(''),
    );
  });
});

describe('production', () => {
  test('NODE_ENV=production turns the demo Space off unless it is asked for', () => {
    assert.equal(loadConfig({ env: {} }).demo.enabled, true);
    assert.equal(loadConfig({ env: { NODE_ENV: 'production' } }).demo.enabled, false);
    assert.equal(loadConfig({ env: { NODE_ENV: 'production', AMPHI_DEMO_ENABLED: 'true' } }).demo.enabled, true);
  });
});

describe('docs/configuration.md', () => {
  test('lists every setting with its variable, default and what it accepts, as generated (npm run docs:config)', () => {
    const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    assert.equal(docs, renderSettingsDocs(), 'docs/configuration.md is stale: run npm run docs:config');
    for (const { path, env } of settings) assert.ok(docs.includes(`| \`${path}\` | \`${env}\``), `${path} missing`);
  });
});
