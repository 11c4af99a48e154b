import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { subjectTag } from '../../src/admission/signed.ts';
import type { IssuedTicket } from '../../src/admission/tickets.ts';
import { makeRoom, readClaims, signer } from './rooms.ts';

describe('waiting room: claims', () => {
  test('a well-signed ticket with impossible claims is refused as forged', async () => {
    const { clock, room } = makeRoom(10);
    const real = await room.issue('an_alice');
    await room.issue('an_bob');
    clock.advance(1000);
    const good = readClaims(real.ticket);
    const u = subjectTag('an_alice');
    assert.equal(good.u, u);
    const withClaims = (change: Record<string, unknown>) => signer.sign({ ...good, ...change }, 3_600_000);
    for (const bad of [{ n: 0 }, { n: -1 }, { n: 1.5 }, { n: '1' }, { n: 2 ** 53 }, { s: 7 }, { u: 7 }, { s: null }]) {
      assert.deepEqual(await room.exchange(withClaims(bad), 'an_alice'), { ok: false, reason: 'forged' }, JSON.stringify(bad));
    }
    assert.deepEqual(
      await room.exchange(withClaims({}), 'an_alice'),
      { ok: true, number: 1 },
      'the same claims, unchanged, are good',
    );
  });
});

describe('waiting room: expiry', () => {
  test('each number expires ticketTtlMs after it came up, when the rate changed while the line moved', async () => {
    const { clock, room, setRate } = makeRoom(10);
    const tickets: IssuedTicket[] = [];
    for (let i = 0; i < 40; i++) tickets.push(await room.issue(`an_${i}`));
    const exchange = (n: number) => room.exchange(tickets[n - 1]!.ticket, `an_${n - 1}`);
    // 1..10 come up at 100 ms each, 11..14 at one a second (11 at 2 s), 15..24 at 100 ms each again,
    // while everyone polls every 125 ms.
    const pollUntil = async (ms: number) => {
      while (clock.now() < ms) {
        clock.advance(125);
        await room.status();
      }
    };
    await pollUntil(1000);
    assert.equal(await room.nowServing(), 10);
    setRate(1);
    await pollUntil(5000);
    assert.equal(await room.nowServing(), 14);
    setRate(10);
    await pollUntil(6000);
    assert.equal(await room.nowServing(), 24);
    setRate(0); // the line stops; only the TTL moves now

    clock.advance(11_999 - clock.now());
    assert.deepEqual(await exchange(11), { ok: true, number: 11 }, 'came up at 2 s: good until 12 s');
    clock.advance(12_999 - clock.now());
    assert.deepEqual(await exchange(12), { ok: true, number: 12 }, 'came up at 3 s: good until 13 s');
    clock.advance(14_010 - clock.now());
    assert.deepEqual(await exchange(13), { ok: false, reason: 'expired' }, 'came up at 4 s: gone from 14 s');
    assert.deepEqual(await exchange(14), { ok: true, number: 14 }, 'came up at 5 s');
    clock.advance(15_610 - clock.now());
    assert.deepEqual(await exchange(20), { ok: false, reason: 'expired' }, 'came up at 5.6 s');
    assert.deepEqual(await exchange(21), { ok: true, number: 21 }, 'came up at 5.7 s');
    const stopped = await exchange(25);
    assert.ok(!stopped.ok && stopped.reason === 'not_yet' && stopped.position === 1, 'the line stopped at 24');
  });

  test('a number that came up long ago is expired even after the line drained and sat empty', async () => {
    const { clock, room } = makeRoom(10);
    const tickets = [];
    for (let i = 0; i < 10; i++) tickets.push(await room.issue(`an_${i}`));
    clock.advance(30_000); // the line drained at 1 s
    assert.equal(await room.nowServing(), 10);
    clock.advance(30_000);
    assert.deepEqual(await room.exchange(tickets[0]!.ticket, 'an_0'), { ok: false, reason: 'expired' });
    assert.deepEqual(await room.exchange(tickets[9]!.ticket, 'an_9'), { ok: false, reason: 'expired' });
    assert.equal(await room.nowServing(), 10);
  });
});

describe('waiting room: memory', () => {
  test('come-up times are kept at a coarse grain and only for the TTL, however often the line is polled', async () => {
    const { clock, room, footprintBytes } = makeRoom(10, 'sp_1', { ticketTtlMs: 1000 });
    const tickets = [];
    for (let i = 0; i < 1200; i++) tickets.push(await room.issue(`an_${i}`));
    let largest = 0;
    for (let s = 0; s < 100; s++) {
      for (let i = 0; i < 100; i++) {
        clock.advance(10);
        await room.status(); // everyone polls the one value
      }
      const n = await room.nowServing();
      assert.deepEqual(await room.exchange(tickets[n - 1]!.ticket, `an_${n - 1}`), { ok: true, number: n });
      largest = Math.max(largest, footprintBytes());
    }
    assert.equal(await room.nowServing(), 1000);
    // A 1 s TTL at a 250 ms grain is a handful of points, plus one word of used numbers per 32.
    assert.ok(largest <= 256, `${largest} bytes at most while 1000 numbers came up`);
  });

  test('the footprint counts the come-up times it keeps', async () => {
    const { clock, room, footprintBytes } = makeRoom(10, 'sp_1', { ticketTtlMs: 3_600_000 });
    for (let i = 0; i < 1000; i++) await room.issue(`an_${i}`);
    const before = footprintBytes();
    for (let s = 0; s < 50; s++) {
      clock.advance(1000);
      await room.status();
    }
    assert.equal(await room.nowServing(), 500);
    const grown = footprintBytes() - before;
    assert.ok(grown >= 50 * 16, `${grown} bytes more after 50 come-up times an hour's TTL must keep`);
  });
});
