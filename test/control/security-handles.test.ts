import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { createControlPlane } from '../../src/control/plane.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';
import { demoSpace } from '../../src/roles/demo.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import { makeTestApp, TEST_KEY } from '../helpers/app.ts';

/**
 * Finding 10: anyone could register `amphi_demo` and then host the demo Space when the demo was
 * switched on.
 */

describe('reserved handles', () => {
  test('sign-up refuses reserved handles in any case (409 HANDLE_RESERVED); lookalikes stay free', async () => {
    const app = await makeTestApp();
    try {
      for (const handle of ['amphi_demo', 'AMPHI_DEMO', 'admin', 'Root', 'amphi', 'support', 'system']) {
        const r = await app.call('POST', '/api/accounts', { body: { handle, password: 'correct horse battery' } });
        assert.equal(r.status, 409, handle);
        assert.equal(r.json.error.code, 'HANDLE_RESERVED', handle);
      }
      await app.signUp('amphi_fan');
    } finally {
      await app.close();
    }
  });
});

/** A control plane over its own SQLite file, as the embedded role builds it: one "process". */
async function controlProcess(file: string, clock: ManualClock, lines: string[]) {
  const config = loadConfig({
    overrides: {
      auth: { passwordHashCostLog2: 10 },
      spaces: { maxLivePerAccount: 1, createPerAccount: { capacity: 1, refillPerSecond: 0.0001 } },
    },
  });
  const store = await SqlStore.open(new SqliteDriver(file), clock.now());
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const plane = createControlPlane({
    config,
    store,
    clock,
    signer: new TokenSigner([TEST_KEY]),
    log,
    urls: { edge: () => 'http://edge.test', stage: () => 'http://stage.test' },
    failures: new ListenerFailures(log),
  });
  return {
    plane,
    store,
    log,
    async close() {
      await plane.close();
      await store.close();
    },
  };
}

describe('the demo account', () => {
  test('the demo hosts as its own marked account, and restarts reuse its live Space within the quotas', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-demo-'));
    const clock = new ManualClock(Date.UTC(2026, 10, 1, 12));
    const lines: string[] = [];
    let first: { accountId: string; spaceId: string } | undefined;
    try {
      for (let restart = 0; restart < 25; restart++) {
        const p = await controlProcess(join(dir, 'amphi.db'), clock, lines);
        try {
          const { account, spaceId } = await demoSpace(p.plane, p.store, p.log, 'Amphi demo');
          first ??= { accountId: account.id, spaceId };
          assert.deepEqual({ accountId: account.id, spaceId }, first, `restart ${restart}`);
          assert.equal(account.handle, 'amphi_demo');
          assert.equal((await p.plane.spaces.snapshot(spaceId)).space.state, 'live');
        } finally {
          await p.close();
        }
        clock.advance(1000);
      }
      assert.ok(!lines.some((l) => l.includes('"level":40')), 'nothing to warn about');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an amphi_demo registered by a user before the reservation never hosts the demo Space', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-demo-'));
    const clock = new ManualClock(Date.UTC(2026, 10, 1, 12));
    const lines: string[] = [];
    const p = await controlProcess(join(dir, 'amphi.db'), clock, lines);
    try {
      // As an older release allowed: a user account under the handle, hosting a live Space.
      const squatter = await p.store.createAccount({
        id: 'ac_squatter0001',
        handle: 'amphi_demo',
        passwordHash: 'x',
        createdAt: 0,
      });
      assert.ok(squatter !== undefined);
      const theirs = (await p.plane.spaces.create(squatter, { title: 'Amphi demo' })).space.id;
      await p.plane.spaces.start(squatter, theirs);

      const { account, spaceId } = await demoSpace(p.plane, p.store, p.log, 'Amphi demo');
      assert.notEqual(account.id, squatter.id);
      assert.notEqual(spaceId, theirs);
      assert.match(account.handle, /^amphi_demo_[0-9a-f]{8}$/);
      assert.equal((await p.plane.spaces.snapshot(spaceId)).space.hostId, account.id);
      assert.ok(
        lines.some((l) => l.includes('"level":40') && l.includes('the demo handle belongs to an account the demo did not make')),
        'the operator is told',
      );
      const again = await demoSpace(p.plane, p.store, p.log, 'Amphi demo');
      assert.deepEqual(again, { account, spaceId }, 'found by its mark from then on');
    } finally {
      await p.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
