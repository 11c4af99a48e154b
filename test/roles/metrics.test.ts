import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../../src/roles/metrics.ts';

test('the request histogram is cumulative and Prometheus-shaped', async () => {
  const m = new Metrics();
  for (const seconds of [0.0003, 0.003, 3]) m.http.record('/x', 'GET', 200, seconds);
  m.http.record('/x', 'GET', 404, 0.0001);
  const text = await m.registry.metrics();
  const line = (s: string) => text.split('\n').find((l) => l.startsWith(s));
  const bucket = (le: string) => line(`amphi_control_http_request_duration_seconds_bucket{route="/x",method="GET",le="${le}"}`);
  assert.equal(bucket('0.0005'), 'amphi_control_http_request_duration_seconds_bucket{route="/x",method="GET",le="0.0005"} 2');
  assert.match(bucket('0.005')!, / 3$/);
  assert.match(bucket('2.5')!, / 3$/);
  assert.match(bucket('+Inf')!, / 4$/);
  assert.match(line('amphi_control_http_request_duration_seconds_sum{route="/x",method="GET"}')!, / 3\.0034/);
  assert.match(line('amphi_control_http_requests_total{route="/x",method="GET",status="200"}')!, / 3$/);
  assert.match(line('amphi_control_http_requests_total{route="/x",method="GET",status="404"}')!, / 1$/);
});
