import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CdnClients, type CdnClient } from '../../bench/joins/cdn-clients.ts';
import { ByNumber } from '../../bench/joins/ticket-heap.ts';

const client = (number: number, issuedAt: number, phase: number): CdnClient => ({
  number,
  issuedAt,
  phase,
  notBefore: 0,
  pollAt: 0,
  seenAt: undefined,
});

describe('CDN line polls', () => {
  test('the waiting tickets come out lowest number first', () => {
    const heap = new ByNumber<{ number: number }>();
    for (const number of [5, 3, 9, 1, 7, 3, 8, 2]) heap.push({ number });
    assert.equal(heap.size, 8);
    const out: number[] = [];
    for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x.number);
    assert.deepEqual(out, [1, 2, 3, 3, 5, 7, 8, 9]);
    assert.equal(heap.peek(), undefined);
  });

  test('a client sees its number at its first read after the cache held it', () => {
    const clients = new CdnClients<CdnClient>(1000);
    const a = client(3, 0, 200); // reads at 200, 1200, 2200...
    const b = client(4, 100, 900); // reads at 1000, 2000, 3000...
    const c = client(9, 0, 0);
    for (const x of [c, b, a]) clients.add(x);
    assert.deepEqual(clients.sweep(undefined, 5000), []); // no answer in the cache yet
    // At 1500 the cache holds an answer (arrived at 1100) showing 5: a and b are up, c is not.
    assert.deepEqual(clients.sweep({ nowServing: 5, receivedAt: 1100 }, 1500), [a]);
    assert.equal(a.seenAt, 1200);
    assert.equal(b.pollAt, 2000); // its read at 1000 came before the cache had the answer
    assert.equal(b.seenAt, undefined);
    assert.equal(clients.size, 2);
    assert.deepEqual(clients.sweep({ nowServing: 5, receivedAt: 1100 }, 2000), [b]);
    assert.equal(b.seenAt, 2000);
    assert.deepEqual(clients.sweep({ nowServing: 5, receivedAt: 1100 }, 9000), []);
    assert.equal(clients.size, 1);
  });

  test('after a refused exchange, the next read after the pause', () => {
    const clients = new CdnClients<CdnClient>(1000);
    const a = client(1, 0, 0);
    a.notBefore = 2500;
    clients.add(a);
    assert.deepEqual(clients.sweep({ nowServing: 1, receivedAt: 100 }, 2900), []);
    assert.deepEqual(clients.sweep({ nowServing: 1, receivedAt: 100 }, 3000), [a]);
    assert.equal(a.seenAt, 3000);
  });
});
