import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { defaultConfig } from '../../src/config/schema.ts';

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

  test('bad values name the setting and its source', () => {
    assert.throws(() => loadConfig({ env: { PORT: 'eighty' } }), /environment variable PORT must be a whole number/);
    assert.throws(() => loadConfig({ flags: { port: '70000' } }), /server\.port/);
    assert.throws(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' } }), /databaseUrl/);
    assert.throws(() => loadConfig({ file: file('b.yaml', 'log: { level: loud }') }), /log\.level/);
    assert.throws(() => loadConfig({ file: file('c.yaml', '- a list') }), /mapping/);
    assert.throws(() => loadConfig({ file: file('d.yaml', 'server: [') }), /not valid YAML/);
    assert.throws(() => loadConfig({ file: join(tmp, 'missing.yaml') }), /cannot read config file/);
  });

  test('cross-field rule: secure cookies need an https public URL', () => {
    assert.throws(() => loadConfig({ overrides: { auth: { secureCookies: true } } }), /secureCookies needs server\.publicUrl/);
    const ok = loadConfig({ overrides: { auth: { secureCookies: true }, server: { publicUrl: 'https://amphi.example' } } });
    assert.equal(ok.auth.secureCookies, true);
  });

  test('the commented sample config is valid and shows exactly the defaults', () => {
    const sample: unknown = parse(readFileSync(resolve('amphi.sample.yaml'), 'utf8'));
    assert.deepEqual(sample, defaultConfig);
    assert.doesNotThrow(() => loadConfig({ file: resolve('amphi.sample.yaml') }));
  });
});
