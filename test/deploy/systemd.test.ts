import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hasCommands, optionalSuite, skipUnless } from '../helpers/skip.ts';

/**
 * deploy/systemd/amphi.service as systemd itself reads it: `systemd-analyze verify` (every key known,
 * every value parsed, ExecStart executable) and `systemd-analyze security --offline` (the hardening
 * adds up to an exposure rated "OK"). The CI machine (Debian 12, systemd 252) has systemd-analyze;
 * CI sets AMPHI_TEST_NGINX=1 for its deploy suites, which makes this one required there too.
 */
const skip = skipUnless({
  available: hasCommands('systemd-analyze'),
  env: 'AMPHI_TEST_NGINX',
  suite: 'systemd unit tests',
  install: 'systemd (systemd-analyze)',
});

const unitFile = fileURLToPath(new URL('../../deploy/systemd/amphi.service', import.meta.url));
const checkout = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
/** Where the unit expects the install (docs/deploy.md), replaced by this checkout to verify it. */
const INSTALL = '/opt/amphi';
/** "OK" in systemd-analyze's words (its ratings: OK < 3.0 <= MEDIUM < 6.0 <= EXPOSED < 9.0 <= UNSAFE). */
const MAX_EXPOSURE = 3.0;

const run = (args: string[]) => {
  const out = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 30_000 });
  assert.equal(out.error, undefined, `systemd-analyze ${args.join(' ')} ran`);
  return out;
};

optionalSuite('the systemd unit', { skip, timeout: 60_000 }, () => {
  let dir: string;
  let unit: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'amphi-systemd-'));
    unit = join(dir, 'amphi.service');
    const text = readFileSync(unitFile, 'utf8');
    assert.ok(text.includes(`ExecStart=${INSTALL}/node_modules/.bin/node ${INSTALL}/bin/amphi.mjs start`));
    // Only the install path changes: verify checks that ExecStart's program exists.
    writeFileSync(unit, text.replaceAll(`${INSTALL}/`, `${checkout}/`));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('systemd-analyze verify: no complaint, exit 0', () => {
    // systemd 252 prints nothing for a clean unit, also in a container without systemd as PID 1; an
    // unknown key, a bad value or a missing program is one line each on stderr.
    const out = run(['verify', unit]);
    assert.equal(out.stderr.trim(), '', `systemd-analyze verify said:\n${out.stderr}`);
    assert.equal(out.status, 0, out.stderr);
  });

  test('the unit runs the production start command as an unprivileged user', () => {
    const keys = parseUnit(readFileSync(unitFile, 'utf8'));
    assert.deepEqual(keys.get('ExecStart'), [
      `${INSTALL}/node_modules/.bin/node ${INSTALL}/bin/amphi.mjs start --config /etc/amphi/amphi.yaml`,
    ]);
    assert.deepEqual(keys.get('Environment'), ['NODE_ENV=production']);
    assert.deepEqual(keys.get('User'), ['amphi']);
    assert.deepEqual(keys.get('StateDirectory'), ['amphi'], 'dataDir /var/lib/amphi (deploy/amphi.production.yaml)');
    assert.deepEqual(keys.get('CapabilityBoundingSet'), ['']);
    // SIGKILL must not come before Amphi's own grace (server.shutdownGraceMs, 10 s) has run out.
    const stopSeconds = Number(/^(\d+)s?$/.exec(keys.get('TimeoutStopSec')?.[0] ?? '')?.[1]);
    assert.ok(stopSeconds > 10, `TimeoutStopSec ${stopSeconds} s leaves room after the 10 s shutdown grace`);
    assert.ok(Number(keys.get('LimitNOFILE')?.[0]) >= 65_536, 'every listener holds a socket');
  });

  test('systemd-analyze security --offline rates the hardening "OK"', () => {
    const out = run(['security', '--offline=yes', '--no-pager', unit]);
    assert.equal(out.status, 0, out.stderr);
    const match = /Overall exposure level for amphi\.service: (\d+(?:\.\d+)?) (\w+)/.exec(out.stdout);
    assert.ok(match, `an overall exposure in:\n${out.stdout}`);
    const score = Number(match[1]);
    console.log(`systemd-analyze security: amphi.service exposure ${score} ${match[2]}`);
    assert.ok(score < MAX_EXPOSURE, `exposure ${score} (${match[2]}) is below ${MAX_EXPOSURE}:\n${out.stdout}`);
    assert.equal(match[2], 'OK');
  });
});

/** A unit file's [Service] settings: each key's values in order (keys may repeat). */
function parseUnit(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      section = line;
      continue;
    }
    if (section !== '[Service]') continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    keys.set(key, [...(keys.get(key) ?? []), line.slice(eq + 1)]);
  }
  return keys;
}
