import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseReport } from '../../src/cluster/fleet.ts';
import { loadConfig } from '../../src/config/load.ts';

/** What a node reads from the registry before it hands a URL to listeners or puts it in a CSP. */

const good = {
  role: 'edge',
  url: 'http://127.0.0.100:8080',
  listeners: 3,
  spaces: { sp_1: 3 },
  cpu: 0.1,
  draining: false,
  keyIds: ['k1'],
};
const read = (over: Record<string, unknown>) => parseReport(JSON.stringify({ ...good, ...over }));

describe('fleet reports read from Redis', () => {
  test('a well-formed report is read as written', () => {
    assert.deepEqual(read({}), good);
    assert.deepEqual(
      read({ url: 'https://edge-1.example/amphi' })?.url,
      'https://edge-1.example/amphi',
      'a base URL with a path',
    );
  });

  test('URLs that could inject into a grant or the CSP, or are not http(s), are refused', () => {
    for (const url of [
      "http://edge.example; script-src 'unsafe-inline'",
      'http://edge.example/?q=1',
      'http://edge.example/#x',
      'http://user:pw@edge.example',
      'javascript:alert(1)',
      'ftp://edge.example',
      'not a url',
      '',
    ]) {
      assert.equal(read({ url }), undefined, url);
    }
  });

  test('missing or mistyped fields, unknown roles and non-JSON are refused', () => {
    assert.equal(read({ role: 'admin' }), undefined);
    assert.equal(read({ listeners: '3' }), undefined);
    assert.equal(read({ spaces: null }), undefined);
    assert.equal(read({ keyIds: 'k1' }), undefined);
    assert.equal(read({ draining: 'no' }), undefined);
    assert.equal(parseReport('{not json'), undefined);
    assert.equal(parseReport('null'), undefined);
  });
});

describe('cluster settings', () => {
  test('a report must stay fresh longer than the time between reports', () => {
    assert.throws(
      () => loadConfig({ overrides: { cluster: { reportMs: 1000, staleMs: 1000 } } }),
      /staleMs \(1000\) must exceed cluster.reportMs/,
    );
    assert.doesNotThrow(() => loadConfig({ overrides: { cluster: { reportMs: 1000, staleMs: 1001 } } }));
  });

  test('an edge drains within the shutdown grace', () => {
    assert.throws(
      () => loadConfig({ overrides: { edge: { drainMs: 10_000 } } }),
      /edge.drainMs \(10000\) must be shorter than server.shutdownGraceMs/,
    );
  });

  test('Redis by URL or by Sentinel, not both; a key list of long keys', () => {
    assert.throws(
      () => loadConfig({ overrides: { cluster: { redisUrl: 'redis://127.0.0.1:6379', sentinels: ['127.0.0.1:26379'] } } }),
      /not both/,
    );
    assert.throws(
      () => loadConfig({ env: { AMPHI_SIGNING_KEY: `${'k'.repeat(40)},short` } }),
      /each key of the comma-separated list/,
    );
    assert.deepEqual(loadConfig({ env: { AMPHI_REDIS_SENTINELS: '10.0.0.1:26379, 10.0.0.2:26379' } }).cluster.sentinels, [
      '10.0.0.1:26379',
      '10.0.0.2:26379',
    ]);
  });
});
