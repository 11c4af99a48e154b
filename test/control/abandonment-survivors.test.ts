import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { AbandonmentWatch } from '../../src/control/abandonment.ts';
import { createControlPlane } from '../../src/control/plane.ts';
import type { SpaceSnapshot } from '../../src/control/snapshots.ts';
import type { Spaces } from '../../src/control/spaces.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import { makeTestApp, TEST_KEY } from '../helpers/app.ts';
import { settle } from '../helpers/settle.ts';

const AFTER_MS = 600_000;
const SWEEP_MS = 5000;
const PAGE = 200;

/**
 * The watch over a stand-in for `Spaces` (only `list` and `endAbandoned` are used): the live Spaces
 * are whatever the test says, in pages as the store would serve them.
 */
function rig(initial: string[] = []) {
  const clock = new ManualClock(Date.UTC(2026, 10, 1, 12));
  let live = initial;
  const offsets: number[] = [];
  const ended: string[] = [];
  const snap = (id: string) => ({ space: { id, hostId: `host_${id}` }, members: [] }) as unknown as SpaceSnapshot;
  const spaces = {
    list: (q: { limit: number; offset: number }) => {
      offsets.push(q.offset);
      return Promise.resolve(live.slice(Math.max(0, q.offset), Math.max(0, q.offset + q.limit)).map(snap));
    },
    endAbandoned: (spaceId: string) => {
      ended.push(spaceId);
      live = live.filter((id) => id !== spaceId);
      return Promise.resolve(snap(spaceId));
    },
  } as unknown as Spaces;
  const watch = new AbandonmentWatch({
    spaces,
    clock,
    log: pino({ level: 'silent' }),
    afterMs: AFTER_MS,
    onStage: () => [],
  });
  return {
    clock,
    watch,
    offsets,
    ended,
    setLive(ids: string[]) {
      live = ids;
    },
  };
}

describe('the abandonment watch (unit, on the manual clock)', () => {
  test('start() sweeps every 5 s, once however often it is called; stop() ends it', async () => {
    const r = rig(['sp_a']);
    r.watch.start();
    r.watch.start();
    r.clock.advance(SWEEP_MS - 1);
    await settle();
    assert.equal(r.offsets.length, 0, 'not before the first interval');
    r.clock.advance(1);
    await settle();
    assert.equal(r.offsets.length, 1, 'one sweep, though start() was called twice');
    assert.equal(r.watch.endsAt('sp_a'), Date.UTC(2026, 10, 1, 12) + SWEEP_MS + AFTER_MS);
    r.clock.advance(SWEEP_MS);
    await settle();
    assert.equal(r.offsets.length, 2);
    r.watch.stop();
    r.clock.advance(SWEEP_MS * 10);
    await settle();
    assert.equal(r.offsets.length, 2, 'no sweep after stop()');
  });

  test('stop() before start() (and twice) is harmless', () => {
    const r = rig();
    assert.doesNotThrow(() => r.watch.stop());
    r.watch.start();
    r.watch.stop();
    assert.doesNotThrow(() => r.watch.stop());
  });

  test('every page of live Spaces is looked at (a full page means another is read)', async () => {
    const ids = Array.from({ length: PAGE + 50 }, (_, i) => `sp_${String(i).padStart(4, '0')}`);
    const r = rig(ids);
    await r.watch.sweep();
    assert.deepEqual(r.offsets, [0, PAGE]);
    assert.equal(r.watch.endsAt(ids[0]!), r.clock.now() + AFTER_MS);
    assert.equal(r.watch.endsAt(ids[PAGE + 49]!), r.clock.now() + AFTER_MS, 'a Space on the second page is watched');
  });

  test('exactly one full page: the next (empty) page is still read', async () => {
    const ids = Array.from({ length: PAGE }, (_, i) => `sp_${i}`);
    const r = rig(ids);
    await r.watch.sweep();
    assert.deepEqual(r.offsets, [0, PAGE]);
  });

  test('the Space ends exactly afterMs after it was found unattended, not a millisecond before', async () => {
    const r = rig(['sp_a']);
    await r.watch.sweep();
    const since = r.clock.now();
    assert.equal(r.watch.endsAt('sp_a'), since + AFTER_MS);
    r.clock.advance(1);
    await r.watch.sweep();
    assert.deepEqual(r.ended, [], 'the next sweep does not end it');
    r.clock.advance(AFTER_MS - 2);
    await r.watch.sweep();
    assert.deepEqual(r.ended, [], '1 ms early: still live');
    assert.equal(r.watch.endsAt('sp_a'), since + AFTER_MS);
    r.clock.advance(1);
    await r.watch.sweep();
    assert.deepEqual(r.ended, ['sp_a'], 'due: ended');
    assert.equal(r.watch.endsAt('sp_a'), undefined);
  });

  test('a Space that stops being live (ended by its host) is forgotten; live again, its countdown starts over', async () => {
    const r = rig(['sp_a', 'sp_b']);
    await r.watch.sweep();
    const first = r.clock.now();
    r.setLive(['sp_b']);
    r.clock.advance(1000);
    await r.watch.sweep();
    assert.equal(r.watch.endsAt('sp_a'), undefined, 'no longer live: no countdown');
    assert.equal(r.watch.endsAt('sp_b'), first + AFTER_MS, 'the other one keeps its countdown');
    r.setLive(['sp_a', 'sp_b']);
    r.clock.advance(AFTER_MS);
    await r.watch.sweep();
    assert.deepEqual(r.ended, ['sp_b']);
    assert.equal(r.watch.endsAt('sp_a'), r.clock.now() + AFTER_MS, 'a fresh countdown, not the old one');
  });
});

describe('reactions need a live Space', async () => {
  const app = await makeTestApp();
  after(() => app.close());
  const host = await app.signUp('react_host');
  const actor = (await app.plane.accounts.getAccount(host.id))!;
  const react = (id: string) => app.plane.reactions.react(actor, id, '👏');

  test('scheduled: SPACE_NOT_LIVE; live: counted; ended: SPACE_ENDED', async () => {
    const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title: 'Claps' } })).json.space.id as string;
    await assert.rejects(react(id), { code: 'SPACE_NOT_LIVE' });
    assert.deepEqual(app.plane.reactions.counts(id), []);
    assert.equal((await app.call('POST', `/api/spaces/${id}/start`, { token: host.token })).status, 200);
    await react(id);
    assert.deepEqual(app.plane.reactions.counts(id), [{ emoji: '👏', count: 1 }]);
    assert.equal((await app.call('POST', `/api/spaces/${id}/end`, { token: host.token })).status, 200);
    await assert.rejects(react(id), { code: 'SPACE_ENDED' });
    assert.deepEqual(app.plane.reactions.counts(id), []);
  });
});

describe('the control plane as createControlPlane wires it', () => {
  async function plane(recordings?: (spaceId: string) => { live: boolean; durationMs: number } | undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-plane-'));
    const clock = new ManualClock(Date.UTC(2026, 10, 1, 12));
    const config = loadConfig({ overrides: { auth: { passwordHashCostLog2: 10, sessionTtlSeconds: 60 } } });
    const store = await SqlStore.open(new SqliteDriver(join(dir, 'amphi.db')), clock.now());
    const log = pino({ level: 'silent' });
    const p = createControlPlane({
      config,
      store,
      clock,
      signer: new TokenSigner([TEST_KEY]),
      log,
      urls: { edge: () => 'http://edge.test', stage: () => 'http://stage.test' },
      failures: new ListenerFailures(log),
      ...(recordings === undefined ? {} : { recordings }),
    });
    return {
      p,
      store,
      clock,
      async close() {
        await p.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  async function endedSpace(p: Awaited<ReturnType<typeof plane>>['p']) {
    const { account } = await p.accounts.signUp('plane_host', 'correct horse battery');
    const snap = await p.spaces.create(account, { title: 'Over' });
    await p.spaces.start(account, snap.space.id);
    await p.spaces.end(account, snap.space.id);
    return { account, spaceId: snap.space.id };
  }

  test('an ended Space with a recording is joined as a replay; without one, SPACE_ENDED', async () => {
    const withRec = await plane((id) => (id.length > 0 ? { live: false, durationMs: 1000 } : undefined));
    try {
      const { account, spaceId } = await endedSpace(withRec.p);
      const grant = await withRec.p.credentials.join(account, spaceId);
      assert.ok(grant.token.length > 0);
    } finally {
      await withRec.close();
    }
    const noRec = await plane(() => undefined);
    try {
      const { account, spaceId } = await endedSpace(noRec.p);
      await assert.rejects(noRec.p.credentials.join(account, spaceId), { code: 'SPACE_ENDED' });
    } finally {
      await noRec.close();
    }
  });

  test('expired sessions are deleted from storage every hour', async () => {
    const r = await plane();
    try {
      const signed = await r.p.accounts.signUp('sweep_me', 'correct horse battery');
      const tokenHash = createHash('sha256').update(signed.token).digest('base64url');
      const created = r.clock.now();
      r.clock.advance(3_600_000 - 1);
      await settle();
      assert.ok(await r.store.findSession(tokenHash, created), 'still stored before the first sweep');
      r.clock.advance(1);
      await settle();
      await settle();
      assert.equal(await r.store.findSession(tokenHash, created), undefined, 'deleted by the hourly sweep');
    } finally {
      await r.close();
    }
  });
});
