import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FifoChecker } from '../../bench/joins/fifo.ts';

// The drill's FIFO checks on recorded events: times are plain numbers (ms), nothing is sent or awaited.
describe('FIFO checker', () => {
  test('an honest line counts nothing', () => {
    const f = new FifoChecker();
    f.ticket(1, f.highestNumber);
    f.ticket(2, f.highestNumber);
    f.line(100, 110, 1);
    f.line(120, 130, 2);
    f.comeUpOrder(
      [
        { number: 1, seenAt: 110 },
        { number: 2, seenAt: 130 },
      ],
      1250,
    );
    assert.deepEqual(f.counts, { numberOrder: 0, lineJump: 0, servingRegressed: 0, notYetAfterComeUp: 0, comeUpOrder: 0 });
  });

  test('numberOrder: a join sent after ticket 5 arrived gets 5 or lower', () => {
    const f = new FifoChecker();
    f.ticket(5, 0);
    assert.equal(f.highestNumber, 5);
    f.ticket(5, f.highestNumber);
    f.ticket(3, f.highestNumber);
    f.ticket(6, f.highestNumber);
    assert.equal(f.counts.numberOrder, 2);
    assert.equal(f.highestNumber, 6);
  });

  test('numberOrder: joins in flight together may get numbers in any order', () => {
    const f = new FifoChecker();
    const atSend = f.highestNumber; // both sent before either answer arrived
    f.ticket(2, atSend);
    f.ticket(1, atSend);
    assert.equal(f.counts.numberOrder, 0);
  });

  test('servingRegressed: only an answer fetched after a higher one arrived', () => {
    const f = new FifoChecker();
    f.line(100, 200, 10);
    f.line(150, 210, 8); // fetched before the answer showing 10 arrived: it may be older
    assert.equal(f.counts.servingRegressed, 0);
    f.line(250, 260, 9); // fetched after: the line went back
    assert.equal(f.counts.servingRegressed, 1);
    f.line(300, 310, 10);
    assert.equal(f.counts.servingRegressed, 1);
  });

  test('lineJump: a token while number 7 waited, and a later line answer still below 7', () => {
    const f = new FifoChecker();
    f.ticket(7, 0);
    f.token(f.highestNumber, 500);
    f.line(400, 600, 3); // sent before the 200 arrived: says nothing yet, the check stays
    assert.equal(f.counts.lineJump, 0);
    f.line(700, 720, 5); // sent after it: 5 < 7, someone went past the line
    assert.equal(f.counts.lineJump, 1);
    f.line(800, 820, 5); // each token is checked once
    assert.equal(f.counts.lineJump, 1);
  });

  test('lineJump: a token once the line had reached the waiting numbers is fine', () => {
    const f = new FifoChecker();
    f.ticket(7, 0);
    f.token(f.highestNumber, 500);
    f.line(700, 720, 7);
    f.token(0, 900); // no ticket out when it was sent: nothing to check
    f.line(1000, 1010, 0);
    assert.equal(f.counts.lineJump, 0);
  });

  test('notYetAfterComeUp counts each refusal', () => {
    const f = new FifoChecker();
    f.notYet();
    f.notYet();
    assert.equal(f.counts.notYetAfterComeUp, 2);
  });

  test('comeUpOrder: a lower number seen up later than a higher one, beyond the granularity', () => {
    const f = new FifoChecker();
    f.comeUpOrder(
      [
        { number: 1, seenAt: 5000 }, // 4000 ms after number 3: out of order
        { number: 2, seenAt: 1500 }, // 500 ms after number 3: within the granularity
        { number: 3, seenAt: 1000 },
        { number: 4, seenAt: undefined }, // never seen: not judged
      ],
      1250,
    );
    assert.equal(f.counts.comeUpOrder, 1);
  });
});
