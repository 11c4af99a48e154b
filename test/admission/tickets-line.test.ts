import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryLineStore } from '../../src/admission/line-store.ts';
import { WaitingRoom } from '../../src/admission/tickets.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { makeRoom, makeRooms, policy, signer } from './rooms.ts';

describe('waiting room: setup and issuing', () => {
  test('a room refuses a policy without a positive ticket TTL or signed wait', () => {
    const build = (ticketTtlMs: number, ticketMaxWaitMs: number) => () =>
      new WaitingRoom({
        spaceId: 'sp_1',
        clock: new ManualClock(0),
        signer,
        store: new MemoryLineStore(new ManualClock(0)),
        policy: { ...policy, ticketTtlMs, ticketMaxWaitMs },
        releasePerSecond: () => 1,
      });
    const message = /WaitingRoom needs ticketTtlMs and ticketMaxWaitMs > 0/;
    assert.throws(build(0, 60_000), message);
    assert.throws(build(-1, 60_000), message);
    assert.throws(build(Number.NaN, 60_000), message);
    assert.throws(build(10_000, 0), message);
    assert.throws(build(10_000, Number.NaN), message);
    assert.doesNotThrow(build(1, 1));
  });

  test('a ticket needs a subject to be bound to', async () => {
    const { room } = makeRoom(10);
    await assert.rejects(room.issue(''), /a ticket needs a subject/);
    assert.equal((await room.status()).lastIssued, 0, 'the refusal took no number');
  });

  test('two rooms on one store (two control nodes) keep one line: dense numbers, one now-serving, one redemption', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryLineStore(clock);
    const node = () => new WaitingRoom({ spaceId: 'sp_1', clock, signer, store, policy, releasePerSecond: () => 10 });
    const [a, b] = [node(), node()];
    const tickets = [await a.issue('an_a'), await b.issue('an_b'), await a.issue('an_c')];
    assert.deepEqual(
      tickets.map((t) => [t.number, t.position]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    );
    clock.advance(200);
    assert.deepEqual([await a.nowServing(), await b.nowServing()], [2, 2]);
    assert.deepEqual(await b.exchange(tickets[0]!.ticket, 'an_a'), { ok: true, number: 1 }, 'a ticket from A is good on B');
    assert.deepEqual(await a.exchange(tickets[0]!.ticket, 'an_a'), { ok: false, reason: 'reused' }, 'and then nowhere');
    const early = await a.exchange(tickets[2]!.ticket, 'an_c');
    assert.deepEqual(early, { ok: false, reason: 'not_yet', position: 1, etaSeconds: 1.1, nowServing: 2, perSecond: 10 });
  });

  test('a waiting ticket is told how far it is from now serving, not from the start of the line', async () => {
    const { clock, room } = makeRoom(10);
    const tickets = [];
    for (let i = 0; i < 20; i++) tickets.push(await room.issue(`an_${i}`));
    clock.advance(700);
    assert.equal(await room.nowServing(), 7);
    const result = await room.exchange(tickets[11]!.ticket, 'an_11');
    assert.deepEqual(result, { ok: false, reason: 'not_yet', position: 5, etaSeconds: 1.5, nowServing: 7, perSecond: 10 });
  });
});

describe('waiting room: now serving', () => {
  test('a fast step never carries now-serving past the last number issued', async () => {
    const { clock, room } = makeRoom(10);
    for (let i = 0; i < 10; i++) await room.issue(`an_${i}`);
    clock.advance(500);
    assert.equal(await room.nowServing(), 5);
    clock.advance(1000); // room for 10 more, only 5 left
    assert.equal(await room.nowServing(), 10);
    assert.equal(await room.waiting(), 0);
    assert.equal(room.hasLine, false);
  });

  test('a stopped line that drained by release keeps a finite rate and moves again when the rate returns', async () => {
    const { clock, room, setRate } = makeRoom(0);
    await room.issue('an_a');
    await room.issue('an_b');
    await room.release(2);
    clock.advance(5000); // empty and stopped: nothing to learn from this time
    assert.deepEqual(await room.status(), { nowServing: 2, lastIssued: 2, perSecond: 0 });
    setRate(4);
    const t = await room.issue('an_c');
    assert.equal(t.position, 1);
    clock.advance(250);
    assert.equal(await room.nowServing(), 3);
    assert.ok(Number.isFinite((await room.status()).perSecond));
    assert.deepEqual(await room.exchange(t.ticket, 'an_c'), { ok: true, number: 3 });
  });

  test('with a short half-life the ETA rate is sampled more often than once a second', async () => {
    // Half-life 2 s: samples of 500 ms, so half a second at a new rate already moves the estimate.
    const { clock, room, setRate } = makeRoom(10, 'sp_1', { etaHalfLifeMs: 2000 });
    for (let i = 0; i < 100; i++) await room.issue(`an_${i}`);
    setRate(4);
    clock.advance(500);
    assert.equal(await room.nowServing(), 2);
    const weight = 1 - 2 ** (-500 / 2000);
    const { perSecond } = await room.status();
    assert.ok(Math.abs(perSecond - (10 + weight * (4 - 10))) < 1e-9, `${perSecond}/s`);
  });

  test('Spaces without a line take no share of the join rate; get and size see the rooms made', async () => {
    const clock = new ManualClock(0);
    const rooms = makeRooms(clock, 10);
    const a = rooms.room('sp_a');
    rooms.room('sp_idle'); // a Space with nobody waiting
    const drained = rooms.room('sp_drained');
    await drained.issue('an_x');
    await drained.release(1);
    assert.equal(rooms.size, 3);
    assert.equal(rooms.get('sp_a'), a, 'the same room, not a new one');
    assert.equal(rooms.room('sp_a'), a);
    assert.equal(rooms.get('sp_none'), undefined);
    assert.equal(rooms.size, 3, 'get makes no room');
    for (let i = 0; i < 50; i++) await a.issue(`an_${i}`);
    clock.advance(1000);
    assert.equal(await a.nowServing(), 10, 'the whole rate: the other rooms have no line');
  });
});
