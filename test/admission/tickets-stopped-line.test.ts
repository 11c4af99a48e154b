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
    room.exchange(tickets[0]!.ticket, 'an_0');
    setRate(0); // the room is full
    for (let s = 0; s < 60; s++) {
      clock.advance(1000);
      assert.equal(room.exchange(tickets[14]!.ticket, 'an_14').ok, false, 'number 15 has not come up');
    }
    setRate(10);
    clock.advance(1000); // 11..20 come up now, 61 s in
    const result = room.exchange(tickets[14]!.ticket, 'an_14');
    assert.equal(result.ok, true, `number 15 came up a moment ago, refused: ${JSON.stringify(result)}`);
  });

  test('numbers released at once after a stop are good for the TTL', async () => {
    const { room, clock } = makeRoom(0);
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await room.issue(`an_${i}`));
    clock.advance(60_000);
    room.release(5);
    const result = room.exchange(tickets[2]!.ticket, 'an_2');
    assert.equal(result.ok, true, `number 3 was just released, refused: ${JSON.stringify(result)}`);
    clock.advance(9_999);
    assert.equal(room.exchange(tickets[3]!.ticket, 'an_3').ok, true, 'still within its TTL');
    clock.advance(1);
    assert.deepEqual(room.exchange(tickets[4]!.ticket, 'an_4'), { ok: false, reason: 'expired' }, 'and not after it');
  });
});
