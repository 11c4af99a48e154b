import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { OriginPlane } from '../../src/origin/plane.ts';
import { RoomState } from '../../src/origin/room-state.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { settle } from '../helpers/settle.ts';
import { originConfig } from '../helpers/origin-config.ts';

describe('RoomState on an injected clock', () => {
  test('versions change only when the document does; ?v=N waits for a newer one, bounded', async () => {
    const clock = new ManualClock(0);
    let doc = { speaking: false };
    const rooms = new RoomState(
      () => Promise.resolve({ ...doc }),
      clock,
      () => 250,
    );
    const first = await rooms.get('sp_x', undefined, 6000);
    assert.equal(first.version, 1);
    assert.equal((await rooms.get('sp_x', undefined, 6000)).version, 1, 'unchanged document, same version');
    let answered: { version: number; json: string } | undefined;
    void rooms.get('sp_x', 1, 6000).then((r) => (answered = r));
    await settle();
    clock.advance(250);
    await settle();
    assert.equal(answered, undefined, 'nothing changed yet: still waiting');
    doc = { speaking: true };
    clock.advance(250);
    await settle();
    // Assigned by the callback above; TypeScript cannot see that across the awaits.
    const got = answered as { version: number; json: string } | undefined;
    assert.equal(got?.version, 2);
    assert.match(got.json, /"speaking":true/);
    let timedOut: { version: number } | undefined;
    void rooms.get('sp_x', 2, 1000).then((r) => (timedOut = r));
    for (let i = 0; i < 5; i++) {
      clock.advance(250);
      await settle();
    }
    assert.equal(timedOut?.version, 2, 'after the timeout it answers with the current version');
  });

  test('on shutdown a held ?v=N is answered at once, and the source (the database) is not read again', async () => {
    const clock = new ManualClock(0);
    let reads = 0;
    const rooms = new RoomState(
      () => {
        reads++;
        return Promise.resolve({ listeners: 1 });
      },
      clock,
      () => 250,
    );
    let answered: { version: number } | undefined;
    void rooms.get('sp_SHUTDOWN0000', 5, 6000).then((doc) => (answered = doc));
    await settle();
    assert.equal(answered, undefined, 'held: nothing newer yet');
    const readsBefore = reads;
    rooms.close();
    await settle();
    assert.deepEqual(answered, { version: 1, json: '{"listeners":1}' }, 'answered unchanged at close, no timer needed');
    assert.equal(reads, readsBefore, 'no read after close');
    await assert.rejects(rooms.get('sp_SHUTDOWN0000', undefined, 6000), { code: 'SERVICE_UNAVAILABLE' });
    assert.equal(reads, readsBefore);
  });

  test('a held ?v=N that times out unchanged is not cacheable (or every listener would spin on it)', async () => {
    const clock = new ManualClock(0);
    const origin = new OriginPlane({
      config: originConfig({ blockingTimeoutMs: 1000 }),
      storage: new FileMediaStorage(mkdtempSync(join(tmpdir(), 'amphi-state-'))),
      clock,
      log: pino({ level: 'silent' }),
      programBitrateBps: 48_000,
      preSkip: 312,
      roomState: new RoomState(
        () => Promise.resolve({ status: 'live' }),
        clock,
        () => 250,
      ),
    });
    const current = await origin.get('sp_x', 'state.json', {});
    assert.equal(current.cacheControl, 'public, max-age=1');
    let held: { cacheControl: string } | undefined;
    void origin.get('sp_x', 'state.json', { v: 1 }).then((r) => (held = r));
    for (let i = 0; i < 6; i++) {
      clock.advance(250);
      await settle();
    }
    assert.equal(held?.cacheControl, 'no-store');
  });
});

describe('room state through the edge', { timeout: 30_000 }, () => {
  let server: LiveServer;
  before(async () => {
    server = await startLiveServer();
  });
  after(() => server.shutdown());

  test('a listener long-polls state.json?v=N and sees a mute within a second, with the listener count', async () => {
    const { spaceId, host, speakers } = await server.liveSpace(1);
    const { token } = (await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { token: string };
    const url = `${server.url}/l/${token}/${spaceId}/state.json`;
    const first = (await (await fetch(url)).json()) as {
      version: number;
      state: { status: string; stage: { muted: boolean }[]; listenerCount: number };
    };
    assert.equal(first.state.status, 'live');
    assert.equal(first.state.listenerCount, 1);
    const waiting = fetch(`${url}?v=${first.version}`).then(async (r) => ({
      at: Date.now(),
      body: (await r.json()) as typeof first,
    }));
    const mutedAt = Date.now();
    await server.api('POST', `/api/spaces/${spaceId}/members/${speakers[0]!.id}/mute`, host.token);
    const { at, body } = await waiting;
    assert.ok(body.version > first.version);
    assert.ok(
      body.state.stage.some((m) => m.muted),
      'the mute is in the new document',
    );
    assert.ok(at - mutedAt < 1000, `answered ${at - mutedAt} ms after the change`);
    const bad = await fetch(`${server.url}/l/${token}x/${spaceId}/state.json`);
    assert.equal(bad.status, 401);
  });
});
