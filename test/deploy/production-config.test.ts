import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

/**
 * deploy/amphi.production.yaml is a config Amphi starts with (every key known, every value valid,
 * the cross-field rules kept), and it agrees with the systemd unit and the nginx config it ships with.
 */
const deploy = (path: string) => fileURLToPath(new URL(`../../deploy/${path}`, import.meta.url));
const file = deploy('amphi.production.yaml');

test('the production config loads and validates, with the settings a server behind nginx needs', () => {
  const config = loadConfig({ file });
  assert.equal(config.server.host, '127.0.0.1', 'only nginx reaches Amphi');
  assert.match(config.server.publicUrl ?? '', /^https:\/\//);
  assert.equal(config.server.trustProxy, 1, 'one proxy in front: per-address limits see clients, not nginx');
  assert.equal(config.auth.secureCookies, true);
  assert.equal(config.stage.publicUrl, config.server.publicUrl, 'WHIP goes through the same nginx server name');
  assert.equal(config.dataDir, '/var/lib/amphi');
  assert.equal(config.demo.enabled, false);
  assert.equal(config.log.level, 'info');
  assert.notEqual(config.origin.retentionDays, null);
});

test('every key in the production config is one the schema knows (a typo would be refused)', () => {
  // loadConfig rejects unknown keys; seen failing here with a misspelt key, so the test above means it.
  const dir = mkdtempSync(join(tmpdir(), 'amphi-prodconf-'));
  try {
    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, readFileSync(file, 'utf8').replace('trustProxy: 1', 'trustProxys: 1'));
    assert.throws(
      () => loadConfig({ file: typo }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /trustProxys/, 'the message names the unknown key');
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the unit and nginx agree with the config: data dir, ports, shutdown grace, body size', () => {
  const config = loadConfig({ file });
  const unit = readFileSync(deploy('systemd/amphi.service'), 'utf8');
  assert.match(unit, /^StateDirectory=amphi$/m, `dataDir ${config.dataDir} is the unit's state directory`);
  assert.equal(config.dataDir, '/var/lib/amphi');
  const stopSeconds = Number(/^TimeoutStopSec=(\d+)s?$/m.exec(unit)?.[1]);
  assert.ok(
    stopSeconds * 1000 > config.server.shutdownGraceMs + 2000,
    `TimeoutStopSec (${stopSeconds} s) leaves a margin past server.shutdownGraceMs (${config.server.shutdownGraceMs} ms)`,
  );
  const nginx = readFileSync(deploy('nginx/amphi-tls.conf'), 'utf8');
  assert.match(nginx, new RegExp(`server 127\\.0\\.0\\.1:${config.server.port};`), 'the app upstream is server.port');
  assert.match(nginx, new RegExp(`server 127\\.0\\.0\\.1:${config.stage.port};`), 'the stage upstream is stage.port');
  assert.match(nginx, new RegExp(`server_name ${new URL(config.server.publicUrl!).hostname};`));
  const body = /client_max_body_size (\d+)k;/.exec(nginx);
  assert.ok(body, 'nginx sets client_max_body_size');
  // A profile picture travels as base64 in JSON (src/control/http/community-routes.ts): 4/3 of its bytes.
  const avatarBody = Math.ceil((config.spaces.avatarMaxBytes * 4) / 3) + 1024;
  const largest = Math.max(config.server.bodyLimitBytes, avatarBody);
  assert.ok(Number(body[1]) * 1024 >= largest, `nginx passes bodies up to ${largest} bytes (API, avatars)`);
});

test('docs/deploy.md names only files that exist, and the config sections it tells to change', () => {
  const guide = readFileSync(fileURLToPath(new URL('../../docs/deploy.md', import.meta.url)), 'utf8');
  const named = new Set([...guide.matchAll(/(?:\/opt\/amphi\/|\.\.\/)(deploy\/[\w./-]*\w)/g)].map((m) => m[1]!));
  assert.ok(named.size >= 3, `the guide names the deploy files: ${[...named].join(', ')}`);
  for (const path of named) assert.ok(existsSync(fileURLToPath(new URL(`../../${path}`, import.meta.url))), `${path} exists`);
  // "the three lines marked CHANGE": the config must still have them.
  assert.equal(readFileSync(file, 'utf8').match(/# CHANGE/g)?.length, 3);
});
