import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryTicketCounter, WaitingRoom, WaitingRooms, type TicketCounter } from '../../src/admission/tickets.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { makeRoom, policy, signer } from './rooms.ts';

describe('waiting room: setup and issuing', () => {
  test('a room refuses a policy without a positive ticket TTL or signed wait', () => {
    const build = (ticketTtlMs: number, ticketMaxWaitMs: number) => () =>
      new WaitingRoom({
        spaceId: 'sp_1',
        clock: new ManualClock(0),
        signer,
        counter: new MemoryTicketCounter(),
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
    assert.equal(room.status().lastIssued, 0, 'the refusal took no number');
  });

  test('a room whose counter has moved on (restart, shared counter) starts its line at its own first number', async () => {
    let next = 50;
    const counter: TicketCounter = { next: () => ++next, delete: () => {} };
    const { clock, room } = makeRoom(10, 'sp_1', {}, counter);
    const first = await room.issue('an_a');
    assert.equal(first.number, 51);
    assert.equal(first.nowServing, 50, 'numbers of a room that is gone are not waited for');
    assert.equal(first.position, 1);
    assert.equal(first.etaSeconds, 1);
    assert.equal(room.waiting, 1);
    clock.advance(100);
    assert.equal(room.nowServing(), 51);
    assert.deepEqual(room.exchange(first.ticket, 'an_a'), { ok: true, number: 51 });
  });

  test('a waiting ticket is told how far it is from now serving, not from the start of the line', async () => {
    const { clock, room } = makeRoom(10);
    const tickets = [];
    for (let i = 0; i < 20; i++) tickets.push(await room.issue(`an_${i}`));
    clock.advance(700);
    assert.equal(room.nowServing(), 7);
    const result = room.exchange(tickets[11]!.ticket, 'an_11');
    assert.deepEqual(result, { ok: false, reason: 'not_yet', position: 5, etaSeconds: 1 });
  });
});

describe('waiting room: now serving', () => {
  test('a fast step never carries now-serving past the last number issued', async () => {
    const { clock, room } = makeRoom(10);
    for (let i = 0; i < 10; i++) await room.issue(`an_${i}`);
    clock.advance(500);
    assert.equal(room.nowServing(), 5);
    clock.advance(1000); // room for 10 more, only 5 left
    assert.equal(room.nowServing(), 10);
    assert.equal(room.waiting, 0);
    assert.equal(room.hasLine, false);
  });

  test('a stopped line that drained by release keeps a finite rate and moves again when the rate returns', async () => {
    const { clock, room, setRate } = makeRoom(0);
    await room.issue('an_a');
    await room.issue('an_b');
    room.release(2);
    clock.advance(5000); // empty and stopped: nothing to learn from this time
    assert.deepEqual(room.status(), { nowServing: 2, lastIssued: 2, perSecond: 0 });
    setRate(4);
    const t = await room.issue('an_c');
    assert.equal(t.position, 1);
    clock.advance(250);
    assert.equal(room.nowServing(), 3);
    assert.ok(Number.isFinite(room.status().perSecond));
    assert.deepEqual(room.exchange(t.ticket, 'an_c'), { ok: true, number: 3 });
  });

  test('with a short half-life the ETA rate is sampled more often than once a second', async () => {
    // Half-life 2 s: samples of 500 ms, so half a second at a new rate already moves the estimate.
    const { clock, room, setRate } = makeRoom(10, 'sp_1', { etaHalfLifeMs: 2000 });
    for (let i = 0; i < 100; i++) await room.issue(`an_${i}`);
    setRate(4);
    clock.advance(500);
    assert.equal(room.nowServing(), 2);
    const weight = 1 - 2 ** (-500 / 2000);
    const { perSecond } = room.status();
    assert.ok(Math.abs(perSecond - (10 + weight * (4 - 10))) < 1e-9, `${perSecond}/s`);
  });

  test('Spaces without a line take no share of the join rate; get and size see the rooms made', async () => {
    const clock = new ManualClock(0);
    const rooms = new WaitingRooms({ clock, signer, counter: new MemoryTicketCounter(), policy, releasePerSecond: () => 10 });
    const a = rooms.room('sp_a');
    rooms.room('sp_idle'); // a Space with nobody waiting
    const drained = rooms.room('sp_drained');
    await drained.issue('an_x');
    drained.release(1);
    assert.equal(rooms.size, 3);
    assert.equal(rooms.get('sp_a'), a, 'the same room, not a new one');
    assert.equal(rooms.room('sp_a'), a);
    assert.equal(rooms.get('sp_none'), undefined);
    assert.equal(rooms.size, 3, 'get makes no room');
    for (let i = 0; i < 50; i++) await a.issue(`an_${i}`);
    clock.advance(1000);
    assert.equal(a.nowServing(), 10, 'the whole rate: the other rooms have no line');
  });
});
