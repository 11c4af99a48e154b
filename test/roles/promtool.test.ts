import assert from 'node:assert/strict';
import { test } from 'node:test';
import { busyServer } from '../helpers/busy-server.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { promtoolFindings, promtoolSkip } from '../helpers/promtool.ts';
import { optionalSuite } from '../helpers/skip.ts';

/**
 * Prometheus's own linter on what `/metrics` exposes: counters end in `_total` and nothing else does,
 * histograms are well formed, every series has help text, names use base units (the edge, control
 * and media roles of a cluster: test/cluster/fleet.test.ts).
 */
const skip = promtoolSkip;

optionalSuite('promtool check metrics on a busy server', { skip, timeout: 120_000 }, () => {
  test('finds nothing to say about /metrics with a live Space, a speaker and a listener', { timeout: 90_000 }, async () => {
    const cleanup = new Cleanup();
    try {
      const { scrape } = await busyServer(cleanup);
      const text = await scrape();
      assert.match(text, /^amphi_stage_sessions 1$/m, 'the speaker is counted (the traffic happened)');
      assert.match(text, /^amphi_stage_rooms 1$/m);
      assert.match(text, /^amphi_stage_tick_lag_seconds_count [1-9]\d*$/m, 'ticks are timed');
      assert.match(text, /^amphi_stage_opus_encode_seconds_count [1-9]\d*$/m, 'encodes are timed');
      assert.match(text, /^amphi_origin_parts_total [1-9]\d*$/m, 'parts are counted');
      // The recording's first write (its init segment) is timed: an unobserved histogram still lists its buckets.
      assert.match(text, /^amphi_origin_storage_write_seconds_count [1-9]\d*$/m, 'storage writes are timed');
      const { status, lines } = promtoolFindings(text);
      assert.deepEqual(lines, []);
      assert.equal(status, 0);
    } finally {
      await cleanup.run();
    }
  });

  test('does speak up: a gauge named _total is reported', () => {
    const { status, lines } = promtoolFindings('# HELP amphi_x_total X\n# TYPE amphi_x_total gauge\namphi_x_total 1\n');
    assert.notEqual(status, 0);
    assert.match(lines.join('\n'), /non-counter metrics should not have "_total" suffix/);
  });
});
