import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Fleet, type NodeReport } from '../../src/cluster/fleet.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { redisSuite } from '../helpers/redis.ts';

/** The fleet registry on a real Redis: reports, freshness on Redis's clock, the edge choice, the door's share. */
const log = pino({ level: 'silent' });

redisSuite('the fleet registry (Redis)', (suite) => {
  let prefix = 0;

  /** A node of a fresh registry (its own key prefix); `report` undefined: a reader only. */
  function fleetOf(keys: string, nodeId: string, report?: () => NodeReport, random = () => 0.5) {
    const fleet = new Fleet({
      redis: suite.redis.client(),
      clock: new ManualClock(0),
      log,
      nodeId,
      report,
      reportMs: 1000,
      staleMs: 400,
      prefix: keys,
      random,
    });
    suite.cleanup.add(`fleet ${nodeId}`, () => fleet.stop());
    return fleet;
  }
  const edge = (url: string, listeners: number, draining = false): NodeReport => ({
    role: 'edge',
    url,
    listeners,
    spaces: { sp_1: listeners },
    cpu: 0,
    draining,
    keyIds: [],
  });
  const control = (): NodeReport => ({
    role: 'control',
    url: '',
    listeners: 0,
    spaces: {},
    cpu: 0,
    draining: false,
    keyIds: ['k1'],
  });

  test('joins go to the lighter of two edges, count what they sent, and fall back on the lightest others', async () => {
    const keys = `test:fleet:${prefix++}:`;
    const a = fleetOf(keys, 'a', () => edge('http://a', 10));
    const b = fleetOf(keys, 'b', () => edge('http://b', 2));
    const c = fleetOf(keys, 'c', () => edge('http://c', 5));
    const draining = fleetOf(keys, 'd', () => edge('http://d', 0, true));
    // The two random picks: a (index 0), then b (index 1) of [a, b, c] in the order read.
    const picks = [0, 0.4];
    const reader = fleetOf(keys, 'control', control, () => picks.shift() ?? 0.5);
    for (const f of [a, b, c, draining, reader]) await f.beat();
    await reader.beat();
    const byUrl = reader
      .edges()
      .map((n) => n.url)
      .sort();
    assert.deepEqual(byUrl, ['http://a', 'http://b', 'http://c'], 'a draining edge takes no new listeners');
    assert.equal(reader.listeners(), 17);
    assert.equal(reader.listeners('sp_1'), 17);
    assert.equal(reader.doorNodes(), 1, 'one control node: it is the whole door');
    const order = reader.edges().map((n) => n.url);
    picks.splice(0, picks.length, order.indexOf('http://a') / 3 + 0.01, order.indexOf('http://b') / 3 + 0.01);
    const choice = reader.chooseEdge();
    assert.equal(choice?.url, 'http://b', 'the lighter of a (10) and b (2)');
    assert.deepEqual(choice?.fallbacks, ['http://c', 'http://a'], 'the others, lightest first');
    // Between b (2 + the 1 just sent) and c (5): b until it has as many as c, counting what this node sent.
    const at = (url: string) => order.indexOf(url) / 3 + 0.01;
    const sent = [];
    for (let i = 0; i < 3; i++) {
      picks.splice(0, picks.length, at('http://c'), at('http://b'));
      sent.push(reader.chooseEdge()?.url);
    }
    assert.deepEqual(sent, ['http://b', 'http://b', 'http://c']);
  });

  test('a node that stops reporting drops out once its report is stale (Redis’s clock)', async () => {
    const keys = `test:fleet:${prefix++}:`;
    const a = fleetOf(keys, 'a', () => edge('http://a', 1));
    const reader = fleetOf(keys, 'r');
    await a.beat();
    await reader.beat();
    assert.equal(reader.edges().length, 1);
    await suite.redis.elapse(450);
    await reader.beat();
    assert.equal(reader.edges().length, 0, 'no report within staleMs');
    assert.equal(reader.chooseEdge(), undefined);
  });

  test('the door is shared by the control nodes; media nodes count only where no control node reports', async () => {
    const keys = `test:fleet:${prefix++}:`;
    const media = fleetOf(keys, 'm', () => ({ ...edge('http://m', 0), role: 'media' }));
    await media.beat();
    assert.equal(media.doorNodes(), 1);
    const c1 = fleetOf(keys, 'c1', control);
    const c2 = fleetOf(keys, 'c2', control);
    await c1.beat();
    await c2.beat();
    await media.beat();
    assert.equal(media.doorNodes(), 2, 'two control nodes behind the balancer');
    assert.deepEqual(
      media.edges().map((n) => n.url),
      ['http://m'],
      'a media node serves listeners while no edge reports',
    );
  });
});
