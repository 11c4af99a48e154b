import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { HttpStats, listenerFailureMetrics, scrapeGauge } from '../../src/lib/metrics.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';

/** The sample lines of one metric family in the text a scraper reads, without HELP/TYPE. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

function registryOf(stats: HttpStats): Registry {
  const registry = new Registry();
  for (const metric of stats.metrics()) registry.registerMetric(metric);
  return registry;
}

describe('HttpStats', () => {
  test('counts requests by route, method and status', async () => {
    const stats = new HttpStats();
    stats.record('/api/spaces', 'GET', 200, 0.001);
    stats.record('/api/spaces', 'GET', 200, 0.002);
    stats.record('/api/spaces', 'GET', 404, 0.001);
    stats.record('/api/spaces', 'POST', 201, 0.001);
    const text = await registryOf(stats).metrics();
    assert.match(text, /^# TYPE amphi_control_http_requests_total counter$/m);
    assert.match(text, /^# HELP amphi_control_http_requests_total Control API requests by route, method and status$/m);
    assert.deepEqual(samples(text, 'amphi_control_http_requests_total'), [
      'amphi_control_http_requests_total{route="/api/spaces",method="GET",status="200"} 2',
      'amphi_control_http_requests_total{route="/api/spaces",method="GET",status="404"} 1',
      'amphi_control_http_requests_total{route="/api/spaces",method="POST",status="201"} 1',
    ]);
  });

  test('durations fill cumulative buckets; a bucket bound is inclusive and slower ones count only in +Inf', async () => {
    const stats = new HttpStats();
    for (const seconds of [0.0001, 0.001, 0.003, 0.003, 0.3, 2.5, 7]) stats.record('/x', 'GET', 200, seconds);
    const text = await registryOf(stats).metrics();
    assert.match(text, /^# TYPE amphi_control_http_request_duration_seconds histogram$/m);
    assert.match(text, /^# HELP amphi_control_http_request_duration_seconds Control API request duration$/m);
    const expected = [
      ['0.0005', 1],
      ['0.001', 2],
      ['0.0025', 2],
      ['0.005', 4],
      ['0.01', 4],
      ['0.025', 4],
      ['0.05', 4],
      ['0.1', 4],
      ['0.25', 4],
      ['0.5', 5],
      ['1', 5],
      ['2.5', 6],
      ['+Inf', 7],
    ].map(([le, n]) => `amphi_control_http_request_duration_seconds_bucket{route="/x",method="GET",le="${le}"} ${n}`);
    assert.deepEqual(samples(text, 'amphi_control_http_request_duration_seconds_bucket'), expected);
    const [sum] = samples(text, 'amphi_control_http_request_duration_seconds_sum');
    assert.match(sum ?? '', /^amphi_control_http_request_duration_seconds_sum\{route="\/x",method="GET"\} [\d.]+$/);
    assert.ok(Math.abs(Number(sum!.split(' ')[1]) - 9.8071) < 1e-9, sum);
    assert.deepEqual(samples(text, 'amphi_control_http_request_duration_seconds_count'), [
      'amphi_control_http_request_duration_seconds_count{route="/x",method="GET"} 7',
    ]);
  });

  test('each route and method has its own histogram, whatever the status', async () => {
    const stats = new HttpStats();
    stats.record('/a', 'GET', 200, 0.0001);
    stats.record('/a', 'GET', 500, 0.0001);
    stats.record('/b', 'GET', 200, 0.0001);
    const text = await registryOf(stats).metrics();
    assert.deepEqual(samples(text, 'amphi_control_http_request_duration_seconds_count'), [
      'amphi_control_http_request_duration_seconds_count{route="/a",method="GET"} 2',
      'amphi_control_http_request_duration_seconds_count{route="/b",method="GET"} 1',
    ]);
  });
});

describe('scrapeGauge', () => {
  test('reads its value at scrape time', async () => {
    const registry = new Registry();
    let value = 3;
    scrapeGauge(registry, 'amphi_test_things', 'Things right now', () => value);
    assert.match(await registry.metrics(), /^amphi_test_things 3$/m);
    value = 5;
    assert.match(await registry.metrics(), /^amphi_test_things 5$/m);
  });
});

describe('listenerFailureMetrics', () => {
  test('exposes listener failures by emitter and event, current at each scrape', async () => {
    const registry = new Registry();
    const failures = new ListenerFailures(pino({ level: 'silent' }));
    listenerFailureMetrics(registry, failures);
    const bus = failures.for('control.bus');
    bus('space.ended', new Error('a'));
    bus('space.ended', new Error('b'));
    failures.for('origin.program')('chunk', new Error('c'));
    const name = 'amphi_event_listener_failures_total';
    assert.deepEqual(samples(await registry.metrics(), name), [
      `${name}{emitter="control.bus",event="space.ended"} 2`,
      `${name}{emitter="origin.program",event="chunk"} 1`,
    ]);
    bus('space.ended', new Error('d'));
    assert.deepEqual(samples(await registry.metrics(), name), [
      `${name}{emitter="control.bus",event="space.ended"} 3`,
      `${name}{emitter="origin.program",event="chunk"} 1`,
    ]);
  });
});
