import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { busyServer } from '../helpers/busy-server.ts';
import { Cleanup } from '../helpers/cleanup.ts';

const DASHBOARD = new URL('../../deploy/grafana/amphi-dashboard.json', import.meta.url);

interface Panel {
  readonly title: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly { readonly expr: string }[];
  readonly panels?: readonly Panel[];
}

/** Every PromQL expression of the dashboard, with the panel it is in. */
function expressions(dashboard: { panels: readonly Panel[] }): { panel: string; expr: string }[] {
  const all = (panels: readonly Panel[]): Panel[] => panels.flatMap((p) => [p, ...all(p.panels ?? [])]);
  return all(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/** The metric names an expression reads: every `amphi_…` identifier (label names and functions are not). */
export function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(amphi_[a-zA-Z0-9_:]+)/g)].map((m) => m[1]!);
}

/** Every series name in an exposition text: declared ones (`# TYPE`), and each sample's (`_bucket`, `_sum`…). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const declared = /^# TYPE (\S+) /.exec(line)?.[1];
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    if (declared !== undefined) names.add(declared);
    if (sample !== undefined) names.add(sample);
  }
  return names;
}

/**
 * The Grafana dashboard (deploy/grafana/amphi-dashboard.json) against the server: a panel that reads a
 * metric the server no longer exposes (renamed, removed, misspelled) would go blank without a word.
 */
describe('the Grafana dashboard', { timeout: 120_000 }, () => {
  const cleanup = new Cleanup();
  let exposed: Set<string>;
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Panel[];
    templating: { list: { name: string; type: string; query: unknown }[] };
  };
  before(
    async () => {
      const { scrape } = await busyServer(cleanup);
      exposed = exposedNames(await scrape());
    },
    { timeout: 90_000 },
  );
  after(() => cleanup.run());

  test('reads only metrics that a busy server exposes', () => {
    const exprs = expressions(dashboard);
    assert.ok(exprs.length >= 15, `${exprs.length} expressions`);
    const missing = exprs.flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((name) => !exposed.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    assert.deepEqual(missing, []);
  });

  test('covers every plane: listeners, admission, HTTP, stage, origin, the event loop', () => {
    const read = new Set(expressions(dashboard).flatMap(({ expr }) => metricNames(expr)));
    for (const name of [
      'amphi_edge_listeners',
      'amphi_admission_join_decisions_total',
      'amphi_admission_join_refusals_total',
      'amphi_admission_waiting',
      'amphi_admission_eta_seconds',
      'amphi_control_http_request_duration_seconds_bucket',
      'amphi_stage_rooms',
      'amphi_stage_sessions',
      'amphi_stage_tick_lag_seconds_bucket',
      'amphi_stage_opus_encode_seconds_bucket',
      'amphi_origin_parts_total',
      'amphi_origin_storage_write_seconds_bucket',
      'amphi_origin_storage_write_failures_total',
      'amphi_nodejs_eventloop_lag_p99_seconds',
    ])
      assert.ok(read.has(name), name);
  });

  test('takes its Prometheus data source as a variable, used by every panel', () => {
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.deepEqual({ name: variable?.name, query: variable?.query }, { name: 'datasource', query: 'prometheus' });
    const panels = expressions(dashboard).map((e) => e.panel);
    const fixed = dashboard.panels.filter((p) => p.targets !== undefined && p.datasource?.uid !== '${datasource}');
    assert.deepEqual(
      fixed.map((p) => p.title),
      [],
    );
    assert.ok(panels.length > 0);
  });

  test('the name extraction finds what an expression reads, and nothing else', () => {
    assert.deepEqual(
      metricNames('histogram_quantile(0.99, sum by (le, route) (rate(amphi_x_seconds_bucket{route="/a"}[5m]))) / amphi_y'),
      ['amphi_x_seconds_bucket', 'amphi_y'],
    );
  });
});
