import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTestApp } from '../../helpers/app.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(createRequire(import.meta.url).resolve('@redocly/cli/package.json'), '..', 'bin', 'cli.js');

interface Problem {
  readonly ruleId: string;
  readonly severity: 'error' | 'warn';
  readonly message: string;
  readonly location: readonly { readonly pointer: string }[];
}

/** Redocly CLI's lint (`redocly.yaml` at the repo root: the recommended rules) of one document. */
async function lint(document: unknown, dir: string): Promise<{ errors: number; warnings: number; problems: Problem[] }> {
  const file = join(dir, `openapi-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(document));
  const child = spawn(process.execPath, [CLI, 'lint', '--config', join(ROOT, 'redocly.yaml'), '--format', 'json', file], {
    cwd: ROOT,
    // No telemetry, no update check: the lint runs offline.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    const json = out.slice(out.indexOf('{'));
    assert.ok(json.startsWith('{'), `redocly said nothing parseable: ${out}${err}`);
    const report = JSON.parse(json) as { totals: { errors: number; warnings: number }; problems: Problem[] };
    return { ...report.totals, problems: report.problems };
  } finally {
    clearTimeout(kill);
  }
}

const show = (problems: readonly Problem[]) =>
  problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`).join('\n');

/**
 * The warnings Redocly's recommended rules give this document, each by rule and place, with its
 * reason (also in `redocly.yaml`): no rule is turned off, so anything else fails the test.
 */
const EXPLAINED: Record<string, string> = {
  // The link in a verification e-mail, opened in a browser: 303 to the web app, never 2xx.
  'operation-2xx-response at #/paths/~1api~1email~1verify/get/responses': 'a link answered with 303',
  // The probes answer every request, 200 or 503: there is no client error to document.
  'operation-4xx-response at #/paths/~1livez/get/responses': 'a probe',
  'operation-4xx-response at #/paths/~1readyz/get/responses': 'a probe',
  'operation-4xx-response at #/paths/~1healthz/get/responses': 'a probe',
};

/**
 * The OpenAPI document, linted by Redocly CLI with its recommended rules (`redocly.yaml`): what a
 * client generator, a docs renderer or an API gateway would trip over shows here first.
 */
describe('Redocly lint of /api/openapi.json', { timeout: 120_000 }, () => {
  let dir: string;
  let document: Record<string, unknown>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amphi-redocly-'));
    const app = await makeTestApp({ server: { publicUrl: 'https://amphi.test' } });
    try {
      document = (await app.call('GET', '/api/openapi.json')).json as Record<string, unknown>;
    } finally {
      await app.close();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('finds no error, and no warning but the four explained', { timeout: 90_000 }, async () => {
    const { errors, warnings, problems } = await lint(document, dir);
    assert.equal(errors, 0, show(problems));
    const found = problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer ?? '?'}`).sort();
    assert.deepEqual(found, Object.keys(EXPLAINED).sort(), show(problems));
    assert.equal(warnings, Object.keys(EXPLAINED).length);
  });

  test(
    'does speak up: an operation without operationId and a document without servers are reported',
    { timeout: 90_000 },
    async () => {
      const paths = document.paths as Record<string, Record<string, Record<string, unknown>>>;
      const createSpace = { ...paths['/api/spaces']!.post! };
      delete createSpace.operationId;
      const broken = {
        ...document,
        servers: [],
        paths: { ...paths, '/api/spaces': { ...paths['/api/spaces'], post: createSpace } },
      };
      const { errors, problems } = await lint(broken, dir);
      assert.ok(errors >= 1, show(problems));
      const rules = problems.map((p) => p.ruleId);
      assert.ok(rules.includes('operation-operationId') && rules.includes('no-empty-servers'), show(problems));
    },
  );
});
