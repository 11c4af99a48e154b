import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Accounts, isReservedHandle } from '../../src/control/accounts.ts';
import { hashPassword, verifyPassword } from '../../src/control/passwords.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import type { Store } from '../../src/storage/store.ts';

const COST = 10;
const TTL_SECONDS = 60;

/**
 * Accounts over a real SQLite store, seen through a proxy that counts the calls made to it and lets
 * a test stand in for one of its methods (`override`).
 */
async function rig() {
  const dir = mkdtempSync(join(tmpdir(), 'amphi-accounts-'));
  const clock = new ManualClock(Date.UTC(2026, 10, 1, 12));
  const real = await SqlStore.open(new SqliteDriver(join(dir, 'amphi.db')), clock.now());
  const calls = new Map<string, number>();
  const overrides = new Map<string, (...args: unknown[]) => unknown>();
  const store = new Proxy(real, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        const stand = overrides.get(String(key));
        return stand === undefined ? (value as (...a: unknown[]) => unknown).apply(target, args) : stand(...args);
      };
    },
  }) as Store;
  const make = (s: Store = store) =>
    new Accounts({ store: s, clock, sessionTtlSeconds: TTL_SECONDS, passwordHashCostLog2: COST });
  return {
    clock,
    real,
    store,
    accounts: make(),
    make,
    calls,
    count: (method: string) => calls.get(method) ?? 0,
    override(method: string, fn: ((...args: unknown[]) => unknown) | undefined) {
      if (fn === undefined) overrides.delete(method);
      else overrides.set(method, fn);
    },
    async close() {
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('accounts (unit, over SQLite)', () => {
  test('administrator and moderator are reserved, in any case', async () => {
    for (const handle of ['administrator', 'Administrator', 'moderator', 'MODERATOR']) {
      assert.equal(isReservedHandle(handle), true, handle);
    }
    assert.equal(isReservedHandle('moderators'), false);
    const r = await rig();
    try {
      await assert.rejects(r.accounts.signUp('Moderator', 'correct horse battery'), { code: 'HANDLE_RESERVED' });
      await assert.rejects(r.accounts.signUp('administrator', 'correct horse battery'), { code: 'HANDLE_RESERVED' });
    } finally {
      await r.close();
    }
  });

  test('findByHandle gives the public account (no password hash), in any case; undefined when unknown', async () => {
    const r = await rig();
    try {
      const { account } = await r.accounts.signUp('Finder', 'correct horse battery');
      assert.deepEqual(await r.accounts.findByHandle('finder'), {
        id: account.id,
        handle: 'Finder',
        createdAt: r.clock.now(),
      });
      assert.equal(await r.accounts.findByHandle('nobody_here'), undefined);
    } finally {
      await r.close();
    }
  });

  test('getAccount reads an account by id', async () => {
    const r = await rig();
    try {
      const { account } = await r.accounts.signUp('getter', 'correct horse battery');
      assert.deepEqual(await r.accounts.getAccount(account.id), account);
      assert.equal(await r.accounts.getAccount('ac_unknown'), undefined);
    } finally {
      await r.close();
    }
  });

  test('deleteExpiredSessions deletes only sessions past their expiry and says how many', async () => {
    const r = await rig();
    try {
      const old = await r.accounts.signUp('expiring', 'correct horse battery');
      r.clock.advance(30_000);
      const fresh = await r.accounts.signIn('expiring', 'correct horse battery');
      assert.equal(await r.accounts.deleteExpiredSessions(), 0);
      r.clock.advance(TTL_SECONDS * 1000 - 30_000);
      assert.equal(await r.accounts.deleteExpiredSessions(), 1, 'the first session expired');
      assert.equal(await r.accounts.deleteExpiredSessions(), 0, 'already gone');
      assert.equal(await r.accounts.authenticate(old.token), undefined);
      assert.equal((await r.accounts.authenticate(fresh.token))?.id, old.account.id);
    } finally {
      await r.close();
    }
  });
});

describe('the system account', () => {
  test('made once with an ac_ id; later calls find it by its mark and create nothing', async () => {
    const r = await rig();
    try {
      const first = await r.accounts.systemAccount('demo', 'amphi_demo');
      assert.equal(first.handleWasTaken, false);
      assert.equal(first.account.handle, 'amphi_demo');
      assert.match(first.account.id, /^ac_[A-Za-z0-9_-]{12}$/);
      assert.equal(r.count('createAccount'), 1);
      assert.equal(r.count('findSystemAccount'), 1, 'made on the first try: not looked for again');
      const again = await r.accounts.systemAccount('demo', 'amphi_demo');
      assert.deepEqual(again, first);
      assert.equal(r.count('createAccount'), 1, 'found: no second account attempted');
      assert.equal(r.count('findSystemAccount'), 2);
    } finally {
      await r.close();
    }
  });

  test('made by another process meanwhile: that one is used, and the handle was not taken by a user', async () => {
    const r = await rig();
    try {
      const made = await r.make(r.real).systemAccount('demo', 'amphi_demo');
      // This process looked before the other made it: its first look finds nothing.
      let looks = 0;
      r.override('findSystemAccount', (role) => (looks++ === 0 ? undefined : r.real.findSystemAccount(role as 'demo')));
      const seen = await r.accounts.systemAccount('demo', 'amphi_demo');
      assert.deepEqual(seen, { account: made.account, handleWasTaken: false });
      assert.equal(r.count('createAccount'), 1, 'no account under another handle');
    } finally {
      await r.close();
    }
  });

  test('a user holding the handle: the service takes <handle>_<random> and says so', async () => {
    const r = await rig();
    try {
      await r.real.createAccount({ id: 'ac_squatter0000', handle: 'amphi_demo', passwordHash: 'x', createdAt: 1 });
      const got = await r.accounts.systemAccount('demo', 'amphi_demo');
      assert.equal(got.handleWasTaken, true);
      assert.match(got.account.handle, /^amphi_demo_[0-9a-f]{8}$/);
      assert.notEqual(got.account.id, 'ac_squatter0000');
    } finally {
      await r.close();
    }
  });

  test('when no account can be made at all, it fails loudly instead of returning none', async () => {
    const r = await rig();
    try {
      r.override('createAccount', () => Promise.resolve(undefined));
      await assert.rejects(r.accounts.systemAccount('demo', 'amphi_demo'), /could not create the demo account/);
    } finally {
      await r.close();
    }
  });
});

describe('password hashes', () => {
  const stored = (kind: string, log2N: number, salt: Buffer, key: Buffer) =>
    [kind, log2N, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');

  test('the cost written in the hash is the one used: a hash made elsewhere with N = 2^10 verifies', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('tea for two', salt, 32, { N: 1024, r: 8, p: 1 });
    assert.equal(await verifyPassword('tea for two', stored('scrypt', 10, salt, key)), true);
    assert.equal(await verifyPassword('tea for three', stored('scrypt', 10, salt, key)), false);
    // And one made here is what scrypt gives with those parameters.
    const mine = (await hashPassword('tea for two', 11)).split('$');
    const expected = scryptSync('tea for two', Buffer.from(mine[4]!, 'base64url'), 32, { N: 2048, r: 8, p: 1 });
    assert.equal(mine[5], expected.toString('base64url'));
  });

  test('only scrypt hashes of six fields are accepted, even when the rest would match', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('pw', salt, 32, { N: 1024, r: 8, p: 1 });
    assert.equal(await verifyPassword('pw', stored('scrypt', 10, salt, key)), true, 'the genuine one');
    assert.equal(await verifyPassword('pw', stored('bcrypt', 10, salt, key)), false, 'another scheme');
    assert.equal(await verifyPassword('pw', `${stored('scrypt', 10, salt, key)}$extra`), false, 'seven fields');
    assert.equal(await verifyPassword('pw', stored('scrypt', 10, salt, key).split('$').slice(0, 5).join('$')), false);
  });

  test('a stored key of another length is a mismatch, not an error', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('pw', salt, 32, { N: 1024, r: 8, p: 1 });
    assert.equal(await verifyPassword('pw', stored('scrypt', 10, salt, key.subarray(0, 16))), false);
    assert.equal(await verifyPassword('pw', stored('scrypt', 10, salt, Buffer.concat([key, key]))), false);
  });
});
