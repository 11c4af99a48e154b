import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { every, ManualClock } from '../../src/lib/clock.ts';
import { KeyedMutex } from '../../src/lib/keyed-mutex.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { RateLimiter } from '../../src/lib/token-bucket.ts';
import { TtlCache } from '../../src/lib/ttl-cache.ts';
import { TypedEmitter } from '../../src/lib/typed-emitter.ts';

describe('ManualClock', () => {
  test('fires timers in time order, only when advanced past them', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@300'), 300);
    clock.setTimeout(() => fired.push('a@100'), 100);
    const c = clock.setTimeout(() => fired.push('c'), 200);
    clock.clearTimeout(c);
    clock.advance(99);
    assert.deepEqual(fired, []);
    clock.advance(250);
    assert.deepEqual(fired, ['a@100', 'b@300']);
    assert.equal(clock.now(), 1349);
  });
});

describe('RateLimiter (token bucket)', () => {
  test('allows a burst up to capacity, then refills at the configured rate', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 2 }, clock);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('a').ok, true);
    const refused = limiter.take('a');
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.retryAfterMs, 500);
    assert.equal(limiter.take('b').ok, true, 'buckets are per key');
    clock.advance(499);
    assert.equal(limiter.take('a').ok, false);
    clock.advance(1);
    assert.equal(limiter.take('a').ok, true);
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('a').ok, true, 'refill caps at capacity');
    assert.equal(limiter.take('a').ok, false);
  });

  test('memory stays bounded by maxKeys', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1 }, new ManualClock(0), 100);
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`);
    assert.equal(limiter.size, 100);
  });
});

describe('TokenSigner', () => {
  const key = { id: 'k1', secret: 'x'.repeat(40) };

  test('round-trips claims until expiry', () => {
    const signer = new TokenSigner([key]);
    const token = signer.sign({ t: 'l', s: 'sp_1' }, 10_000);
    const ok = signer.verify<{ t: string; s: string }>(token, 9_999);
    assert.ok(ok.ok);
    assert.equal(ok.claims.s, 'sp_1');
    assert.deepEqual(signer.verify(token, 10_000), { ok: false, reason: 'expired' });
  });

  test('refuses tampered, foreign-key and malformed tokens', () => {
    const signer = new TokenSigner([key]);
    const token = signer.sign({ s: 'sp_1' }, 10_000);
    const [body, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ s: 'sp_2', e: 10, k: 'k1' })).toString('base64url');
    assert.equal(signer.verify(`${forged}.${mac}`, 0).ok, false);
    const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
    assert.deepEqual(signer.verify(`${body}.${flipped}`, 0), { ok: false, reason: 'bad_signature' });
    const other = new TokenSigner([{ id: 'k2', secret: 'y'.repeat(40) }]);
    assert.deepEqual(other.verify(token, 0), { ok: false, reason: 'unknown_key' });
    for (const junk of ['', '.', 'abc', 'a.b.c', `${body}.`, '!!!.???']) assert.equal(signer.verify(junk, 0).ok, false, junk);
  });

  test('verifies with any configured key, signs with the first (rotation)', () => {
    const old = new TokenSigner([key]);
    const rotated = new TokenSigner([{ id: 'k2', secret: 'z'.repeat(40) }, key]);
    assert.ok(rotated.verify(old.sign({}, 5000), 0).ok);
    assert.equal(old.verify(rotated.sign({}, 5000), 0).ok, false);
  });
});

describe('TypedEmitter', () => {
  test('a throwing listener is reported and does not stop the others', () => {
    const errors: unknown[] = [];
    const emitter = new TypedEmitter<{ ping: { n: number } }>((_event, error) => errors.push(error));
    const seen: number[] = [];
    emitter.on('ping', () => {
      throw new Error('boom');
    });
    const off = emitter.on('ping', ({ n }) => seen.push(n));
    emitter.emit('ping', { n: 1 });
    off();
    emitter.emit('ping', { n: 2 });
    assert.deepEqual(seen, [1]);
    assert.equal(errors.length, 2);
  });
});

describe('TtlCache', () => {
  test('shares one load among concurrent misses and expires on the clock', async () => {
    const clock = new ManualClock(0);
    const cache = new TtlCache<string, number>(clock, 1000);
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    const results = await Promise.all([cache.getOrLoad('a', load), cache.getOrLoad('a', load), cache.getOrLoad('a', load)]);
    assert.deepEqual(results, [1, 1, 1]);
    clock.advance(999);
    assert.equal(await cache.getOrLoad('a', load), 1);
    clock.advance(1);
    assert.equal(await cache.getOrLoad('a', load), 2);
    cache.delete('a');
    assert.equal(await cache.getOrLoad('a', load), 3);
  });

  test('does not keep a failed load', async () => {
    const cache = new TtlCache<string, number>(new ManualClock(0), 1000);
    await assert.rejects(cache.getOrLoad('a', () => Promise.reject(new Error('db down'))));
    assert.equal(await cache.getOrLoad('a', () => Promise.resolve(7)), 7);
  });
});

describe('KeyedMutex', () => {
  test('serialises work per key and not across keys', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let releaseFirst!: () => void;
    const gate = new Promise<void>((r) => (releaseFirst = r));
    const first = mutex.run('a', async () => {
      log.push('a1 start');
      await gate;
      log.push('a1 end');
    });
    const second = mutex.run('a', () => Promise.resolve(log.push('a2')));
    const other = mutex.run('b', () => Promise.resolve(log.push('b1')));
    await other;
    assert.deepEqual(log, ['a1 start', 'b1']);
    releaseFirst();
    await Promise.all([first, second]);
    assert.deepEqual(log, ['a1 start', 'b1', 'a1 end', 'a2']);
  });

  test('a failing task does not wedge the key', async () => {
    const mutex = new KeyedMutex();
    await assert.rejects(mutex.run('a', () => Promise.reject(new Error('x'))));
    assert.equal(await mutex.run('a', () => Promise.resolve(1)), 1);
  });
});

describe('every', () => {
  test('repeats on the clock, survives a failing run, and stops when cancelled', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    let runs = 0;
    const stop = every(
      clock,
      1000,
      () => {
        runs++;
        return runs === 2 ? Promise.reject(new Error('transient')) : Promise.resolve();
      },
      (e) => errors.push(e),
    );
    const settle = () => new Promise((r) => setImmediate(r));
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    assert.equal(runs, 3);
    assert.equal(errors.length, 1);
    stop();
    clock.advance(5000);
    await settle();
    assert.equal(runs, 3);
  });
});

describe('TtlCache bounds', () => {
  test('past maxEntries the oldest entry goes first', async () => {
    const cache = new TtlCache<number, number>(new ManualClock(0), 1000, 3);
    for (const k of [1, 2, 3, 4]) await cache.getOrLoad(k, () => Promise.resolve(k));
    assert.equal(cache.size, 3);
    let reloaded = false;
    await cache.getOrLoad(1, () => ((reloaded = true), Promise.resolve(1)));
    assert.equal(reloaded, true, 'key 1 was evicted');
    assert.equal(await cache.getOrLoad(4, () => Promise.resolve(-1)), 4, 'key 4 was kept');
  });
});
