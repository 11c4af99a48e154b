import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EwmaRate, etaSeconds, LINE_MAX_AGE_SECONDS, LINE_NOTICE_SECONDS, RateMeter } from '../../src/admission/eta.ts';
import { ManualClock } from '../../src/lib/clock.ts';

describe('admission-rate estimate', () => {
  test('reads the configured rate before any measurement', () => {
    const rate = new EwmaRate({ initialPerSecond: 200, halfLifeMs: 10_000, sampleMs: 1000 });
    assert.equal(rate.perSecond, 200);
    rate.add(5, 0); // an instant burst is pooled, not read as an infinite rate
    assert.equal(rate.perSecond, 200);
    assert.equal(etaSeconds(1000, rate.perSecond), 6, '5 s until the number comes up, 1 s to notice');
  });

  test('converges on a steady rate, however often it is fed, and ETA is within 20%', () => {
    for (const stepMs of [10, 100, 2500]) {
      const rate = new EwmaRate({ initialPerSecond: 100, halfLifeMs: 10_000, sampleMs: 1000 });
      for (let t = 0; t < 120_000; t += stepMs) rate.add((10 * stepMs) / 1000, stepMs);
      assert.ok(Math.abs(rate.perSecond - 10) < 0.2, `step ${stepMs} ms: ${rate.perSecond}/s`);
      const truth = 500 / 10;
      assert.ok(Math.abs(etaSeconds(500, rate.perSecond) - truth) <= 0.2 * truth);
    }
  });

  test('follows a change within a few half-lives', () => {
    const rate = new EwmaRate({ initialPerSecond: 10, halfLifeMs: 5000, sampleMs: 1000 });
    for (let t = 0; t < 5000; t += 1000) rate.add(40, 1000);
    assert.ok(rate.perSecond > 24 && rate.perSecond < 26, `one half-life: halfway, ${rate.perSecond}`);
    for (let t = 0; t < 30_000; t += 1000) rate.add(40, 1000);
    assert.ok(Math.abs(rate.perSecond - 40) < 1);
  });

  test('RateMeter measures events on the clock and decays when they stop', () => {
    const clock = new ManualClock(0);
    const meter = new RateMeter(clock, { initialPerSecond: 0, halfLifeMs: 2000, sampleMs: 250 });
    assert.equal(meter.perSecond(), 0);
    for (let i = 0; i < 3000; i++) {
      clock.advance(20);
      meter.mark(); // 50 per second
    }
    assert.ok(Math.abs(meter.perSecond() - 50) < 2.5, `${meter.perSecond()}`);
    clock.advance(20_000);
    assert.ok(meter.perSecond() < 1, 'quiet time counts');
  });

  test('a policy without a positive half-life and sample span, or with a negative start rate, is refused', () => {
    const message = /EwmaRate needs halfLifeMs > 0, sampleMs > 0 and initialPerSecond >= 0/;
    const ok = { initialPerSecond: 10, halfLifeMs: 1000, sampleMs: 250 };
    for (const bad of [
      { halfLifeMs: 0 },
      { halfLifeMs: Number.NaN },
      { sampleMs: 0 },
      { sampleMs: -1 },
      { initialPerSecond: -1 },
      { initialPerSecond: Number.NaN },
    ]) {
      assert.throws(() => new EwmaRate({ ...ok, ...bad }), message, JSON.stringify(bad));
    }
    assert.equal(new EwmaRate({ ...ok, initialPerSecond: 0 }).perSecond, 0, 'a line that starts stopped');
  });

  test('ETA: nothing ahead is 0; a stopped line is a large number, not Infinity', () => {
    assert.equal(etaSeconds(0, 10), 0);
    assert.equal(etaSeconds(-3, 10), 0);
    assert.equal(etaSeconds(1, 0), 1001);
    assert.ok(Number.isFinite(etaSeconds(1e6, 0)));
  });

  test('ETA: to a tenth of a second, not rounded up to whole seconds, with the time to notice added', () => {
    assert.equal(LINE_NOTICE_SECONDS, LINE_MAX_AGE_SECONDS, 'half a max-age of cache age, half a poll interval');
    assert.equal(etaSeconds(1, 10), 1.1);
    assert.equal(etaSeconds(3, 2), 2.5);
    assert.equal(etaSeconds(7, 3), 3.3, '2.33 s + 1 s');
    assert.equal(etaSeconds(601, 20), 31.1);
  });
});
