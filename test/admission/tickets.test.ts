import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DenseNumberSet, MemoryLineStore } from '../../src/admission/line-store.ts';
import { WaitingRoom } from '../../src/admission/tickets.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { makeRoom, makeRooms, policy, signer, tamper } from './rooms.ts';

describe('ticket counter', () => {
  test('numbers are dense, FIFO and per Space', async () => {
    const store = new MemoryLineStore(new ManualClock(0));
    const rules = { perSecond: 1, ticketTtlMs: 10_000, etaHalfLifeMs: 10_000, keepMs: 60_000 };
    const next = async (spaceId: string) =>
      (await store.issue(spaceId, rules, { epoch: 'e1', onlyIfWaiting: false })).issued?.number;
    assert.deepEqual([await next('a'), await next('a'), await next('a')], [1, 2, 3]);
    assert.equal(await next('b'), 1, 'each Space has its own line');
    await store.delete('a');
    assert.equal(await next('a'), 1);

    const { room } = makeRoom(1);
    const issued = [];
    for (const who of ['an_a', 'an_b', 'an_c', 'an_d']) issued.push(await room.issue(who));
    assert.deepEqual(
      issued.map((t) => t.number),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      issued.map((t) => t.position),
      [1, 2, 3, 4],
      'first come, first served',
    );
  });
});

describe('now serving', () => {
  test('advances at the admission rate while anyone waits, never past the last number', async () => {
    const { clock, room, setRate } = makeRoom(10);
    for (let i = 0; i < 100; i++) await room.issue(`an_${i}`);
    assert.equal(await room.nowServing(), 0);
    clock.advance(1000);
    assert.equal(await room.nowServing(), 10);
    clock.advance(550);
    assert.equal(await room.nowServing(), 15);
    setRate(2); // capacity lowered: the line slows
    clock.advance(1000);
    assert.equal(await room.nowServing(), 17);
    clock.advance(3_600_000);
    assert.equal(await room.nowServing(), 100);
    assert.equal(await room.waiting(), 0);
    // Idle time earns no credit: a newcomer waits one admission interval, not zero.
    const late = await room.issue('an_late');
    assert.equal(late.number, 101);
    assert.equal(late.position, 1);
    clock.advance(499);
    assert.equal(await room.nowServing(), 100);
    clock.advance(1);
    assert.equal(await room.nowServing(), 101);
  });

  test('jumps at once when capacity frees, and a stopped line (rate 0) stays put', async () => {
    const { clock, room, setRate } = makeRoom(0);
    for (let i = 0; i < 10; i++) await room.issue(`an_${i}`);
    clock.advance(60_000);
    assert.equal(await room.nowServing(), 0);
    await room.release(3);
    assert.equal(await room.nowServing(), 3);
    await room.release(100);
    assert.equal(await room.nowServing(), 10, 'never past the last number issued');
    setRate(5);
    // A stopped line measured 0/s; the jumps are pooled into the next span, not read as an infinite rate.
    assert.deepEqual(await room.status(), { nowServing: 10, lastIssued: 10, perSecond: 0 });
    for (let i = 0; i < 10; i++) await room.issue(`an_more_${i}`);
    clock.advance(1000);
    // One 1 s sample: the 10 released at once plus 5 at the new rate, weighted by 1 s of a 10 s half-life.
    const weight = 1 - 2 ** (-1000 / policy.etaHalfLifeMs);
    const status = await room.status();
    assert.equal(status.nowServing, 15);
    assert.ok(Math.abs(status.perSecond - 15 * weight) < 1e-9, `${status.perSecond}/s, expected ${15 * weight}/s`);
  });

  test('the ETA for a steady rate is within 20% of when the number actually comes up', async () => {
    const { clock, room } = makeRoom(20);
    let last;
    for (let i = 0; i < 1000; i++) last = await room.issue(`an_${i}`);
    assert.ok(last !== undefined);
    const startMs = clock.now();
    while ((await room.nowServing()) < last.number) clock.advance(100);
    const actualSeconds = (clock.now() - startMs) / 1000;
    assert.ok(
      Math.abs(last.etaSeconds - actualSeconds) <= 0.2 * actualSeconds,
      `eta ${last.etaSeconds}s, actual ${actualSeconds}s`,
    );
    // Mid-line, from the measured rate.
    const { clock: c2, room: r2 } = makeRoom(20);
    for (let i = 0; i < 1000; i++) await r2.issue(`an_${i}`);
    c2.advance(20_000);
    const t = await r2.issue('an_mid');
    assert.equal(t.number, 1001);
    assert.equal(t.position, 601, '400 admitted in 20 s at 20/s');
    const expected = 601 / 20;
    assert.ok(Math.abs(t.etaSeconds - expected) <= 0.2 * expected, `eta ${t.etaSeconds}s, expected ${expected}s`);
  });

  test('the ETA follows the measured admission rate when capacity changes, not the rate it started with', async () => {
    const { clock, room, setRate } = makeRoom(20);
    for (let i = 0; i < 1000; i++) await room.issue(`an_${i}`);
    setRate(5); // e.g. the machine got busy and Capacity lowered the join rate
    for (let s = 0; s < 60; s++) clock.advance(1000); // six half-lives, polled every second
    assert.equal(await room.nowServing(), 300);
    const { perSecond } = await room.status();
    assert.ok(Math.abs(perSecond - 5) < 0.5, `measured ${perSecond}/s, the line moves at 5/s`);
    const t = await room.issue('an_late');
    assert.equal(t.position, 701);
    const truth = 701 / 5;
    assert.ok(Math.abs(t.etaSeconds - truth) <= 0.1 * truth, `eta ${t.etaSeconds}s, the line needs ${truth}s`);
  });

  test('rooms share the join rate among the Spaces that have a line', async () => {
    const clock = new ManualClock(0);
    const rooms = makeRooms(clock, 10);
    for (let i = 0; i < 100; i++) {
      await rooms.room('sp_a').issue(`an_${i}`);
      await rooms.room('sp_b').issue(`an_${i}`);
    }
    clock.advance(2000);
    assert.equal(await rooms.room('sp_a').nowServing(), 10);
    assert.equal(await rooms.room('sp_b').nowServing(), 10);
    rooms.delete('sp_b');
    assert.equal(rooms.get('sp_b'), undefined);
    clock.advance(1000);
    assert.equal(await rooms.room('sp_a').nowServing(), 20, 'alone, a line gets the whole rate');
  });
});

describe('exchange', () => {
  test('a ticket is good once, for its subject, once its number has come up', async () => {
    const { clock, room } = makeRoom(10);
    const a = await room.issue('an_alice');
    const b = await room.issue('ac_bob');
    const early = await room.exchange(b.ticket, 'ac_bob');
    assert.equal(early.ok, false);
    assert.equal(!early.ok && early.reason, 'not_yet', 'no jumping the line');
    assert.ok(!early.ok && early.reason === 'not_yet' && early.position === 2 && early.etaSeconds > 0);
    clock.advance(200);
    assert.deepEqual(await room.exchange(a.ticket, 'an_alice'), { ok: true, number: 1 });
    assert.deepEqual(await room.exchange(a.ticket, 'an_alice'), { ok: false, reason: 'reused' });
    assert.deepEqual(await room.exchange(b.ticket, 'an_alice'), { ok: false, reason: 'wrong_subject' });
    assert.deepEqual(await room.exchange(b.ticket, 'ac_bob'), { ok: true, number: 2 });
  });

  test('forged, tampered and other kinds of tokens are refused', async () => {
    const { clock, room } = makeRoom(10);
    const t = await room.issue('an_alice');
    await room.issue('an_bob');
    clock.advance(1000);
    assert.deepEqual(await room.exchange('garbage', 'an_alice'), { ok: false, reason: 'forged' });
    const jumped = tamper(t.ticket, (c) => (c.n = 2));
    assert.deepEqual(await room.exchange(jumped, 'an_alice'), { ok: false, reason: 'forged' });
    const other = new TokenSigner([{ id: 'k1', secret: 'y'.repeat(40) }]);
    const foreign = other.sign({ t: 'w', s: 'sp_1', n: 1, u: 'x', i: 'x' }, 3_600_000);
    assert.deepEqual(await room.exchange(foreign, 'an_alice'), { ok: false, reason: 'forged' });
    const listenerToken = signer.sign({ t: 'l', s: 'sp_1', u: 'an_alice' }, 3_600_000);
    assert.deepEqual(await room.exchange(listenerToken, 'an_alice'), { ok: false, reason: 'forged' });
    assert.deepEqual(await room.exchange(t.ticket, 'an_alice'), { ok: true, number: 1 }, 'the refusals used nothing up');
  });

  test('a ticket for another Space is refused', async () => {
    const clock = new ManualClock(0);
    const rooms = makeRooms(clock, 10);
    const forB = await rooms.room('sp_b').issue('an_alice');
    await rooms.room('sp_a').issue('an_carol');
    clock.advance(1000);
    assert.deepEqual(await rooms.room('sp_a').exchange(forB.ticket, 'an_alice'), { ok: false, reason: 'other_space' });
    assert.deepEqual(await rooms.room('sp_b').exchange(forB.ticket, 'an_alice'), { ok: true, number: 1 });
  });

  test('a number expires ticketTtlMs after it comes up; the line never waited for it', async () => {
    const { clock, room } = makeRoom(10);
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await room.issue(`an_${i}`));
    // Number n comes up at n x 100 ms; nobody looks until long after.
    clock.advance(500 + policy.ticketTtlMs - 1);
    assert.deepEqual(await room.exchange(tickets[4]!.ticket, 'an_4'), { ok: true, number: 5 }, 'came up at 500 ms: still good');
    clock.advance(101);
    assert.equal(clock.now(), 600 + policy.ticketTtlMs);
    assert.deepEqual(
      await room.exchange(tickets[5]!.ticket, 'an_5'),
      { ok: false, reason: 'expired' },
      'came up at 600 ms: gone',
    );
    assert.deepEqual(await room.exchange(tickets[0]!.ticket, 'an_0'), { ok: false, reason: 'expired' });
    assert.deepEqual(await room.exchange(tickets[6]!.ticket, 'an_6'), { ok: true, number: 7 }, 'came up at 700 ms: still good');
    assert.deepEqual(await room.exchange(tickets[9]!.ticket, 'an_9'), { ok: true, number: 10 });
  });

  test('the signed expiry caps the wait, and tickets of a room that is gone are refused', async () => {
    const { clock, room } = makeRoom(0.001, 'sp_1', { ticketMaxWaitMs: 60_000 });
    const t = await room.issue('an_alice');
    clock.advance(60_000);
    await room.release(1);
    assert.deepEqual(await room.exchange(t.ticket, 'an_alice'), { ok: false, reason: 'expired' });

    const before = makeRoom(10);
    const old = await before.room.issue('an_alice');
    const after = makeRoom(10); // e.g. a restart: same Space, new room
    await after.room.issue('an_bob');
    after.clock.advance(1000);
    assert.deepEqual(await after.room.exchange(old.ticket, 'an_alice'), { ok: false, reason: 'expired' });
  });

  test('used numbers are remembered in bounded memory', async () => {
    const { clock, room, footprintBytes } = makeRoom(1000, 'sp_1', { ticketTtlMs: 5000 });
    let t = await room.issue('an_x');
    clock.advance(1);
    assert.deepEqual(await room.exchange(t.ticket, 'an_x'), { ok: true, number: 1 });
    for (let i = 1; i < 20_000; i++) {
      t = await room.issue('an_x');
      clock.advance(1);
      assert.deepEqual(await room.exchange(t.ticket, 'an_x'), { ok: true, number: i + 1 });
    }
    assert.deepEqual(await room.exchange(t.ticket, 'an_x'), { ok: false, reason: 'reused' });
    assert.ok(footprintBytes() < 8192, `${footprintBytes()} bytes after 20 000 tickets`);
    const set = new DenseNumberSet();
    for (let n = 1; n <= 100_000; n++) {
      set.add(n);
      set.dropBelow(n - 5000);
    }
    assert.ok(set.bytes <= 2048, `${set.bytes} bytes for a window of 5000 numbers`);
    assert.equal(set.has(100_000), true);
    assert.equal(set.has(94_999), false, 'below the floor: forgotten');
  });

  test('the default config makes a working room', async () => {
    const clock = new ManualClock(0);
    const room = new WaitingRoom({
      spaceId: 'sp_1',
      clock,
      signer,
      store: new MemoryLineStore(clock),
      policy: defaultConfig.admission,
      releasePerSecond: () => defaultConfig.admission.joinsPerSecond,
    });
    const t = await room.issue('an_a');
    assert.equal(t.etaSeconds, 1);
    clock.advance(1);
    assert.deepEqual(await room.exchange(t.ticket, 'an_a'), { ok: true, number: 1 });
  });
});
