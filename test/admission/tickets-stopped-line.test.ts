import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeRoom } from './rooms.ts';

/**
 * A line that stops (the room is full: admission rate 0) and starts again. A number's TTL counts from
 * when it really came up, never from a time interpolated across the stop.
 */
describe('waiting room: a line that stops and starts again', () => {
  test('numbers that come up after a stop longer than the TTL are good for the whole TTL', async () => {
    const { room, clock, setRate } = makeRoom(10); // TTL 10 s
    const tickets = [];
    for (let i = 0; i < 20; i++) tickets.push(await room.issue(`an_${i}`));
    clock.advance(1000); // numbers 1..10 come up
    await room.exchange(tickets[0]!.ticket, 'an_0');
    setRate(0); // the room is full
    for (let s = 0; s < 60; s++) {
      clock.advance(1000);
      assert.equal((await room.exchange(tickets[14]!.ticket, 'an_14')).ok, false, 'number 15 has not come up');
    }
    setRate(10);
    clock.advance(1000); // 11..20 come up now, 61 s in
    const result = await room.exchange(tickets[14]!.ticket, 'an_14');
    assert.equal(result.ok, true, `number 15 came up a moment ago, refused: ${JSON.stringify(result)}`);
  });

  test('numbers released at once after a stop are good for the TTL', async () => {
    const { room, clock } = makeRoom(0);
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await room.issue(`an_${i}`));
    clock.advance(60_000);
    await room.release(5);
    const result = await room.exchange(tickets[2]!.ticket, 'an_2');
    assert.equal(result.ok, true, `number 3 was just released, refused: ${JSON.stringify(result)}`);
    clock.advance(9_999);
    assert.equal((await room.exchange(tickets[3]!.ticket, 'an_3')).ok, true, 'still within its TTL');
    clock.advance(1);
    assert.deepEqual(await room.exchange(tickets[4]!.ticket, 'an_4'), { ok: false, reason: 'expired' }, 'and not after it');
  });
});

/**
 * A line that drained and sat empty, then fills again. The empty time is no part of the numbers'
 * come-up: without a point where the line started again, the interpolation spread the next numbers'
 * come-up back over the whole empty stretch, and numbers that came up a moment ago were refused as
 * expired.
 */
describe('waiting room: a line that empties and fills again', () => {
  test('numbers issued after the line sat empty are good for the whole TTL', async () => {
    const { room, clock } = makeRoom(10); // TTL 10 s
    const first = await room.issue('an_first');
    clock.advance(100);
    assert.deepEqual(await room.exchange(first.ticket, 'an_first'), { ok: true, number: 1 });
    clock.advance(60_000); // empty for a minute
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await room.issue(`an_${i}`));
    clock.advance(1000); // numbers 2..11 came up one every 100 ms, at 60.2 s .. 61.1 s
    const result = await room.exchange(tickets[4]!.ticket, 'an_4');
    assert.deepEqual(result, { ok: true, number: 6 }, 'number 6 came up half a second ago');
    clock.advance(70_799 - clock.now());
    assert.deepEqual(await room.exchange(tickets[6]!.ticket, 'an_6'), { ok: true, number: 8 }, 'came up 9.999 s ago');
    clock.advance(101);
    assert.deepEqual(await room.exchange(tickets[7]!.ticket, 'an_7'), { ok: false, reason: 'expired' }, 'came up 10 s ago');
  });
});
