import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { BusBridge } from '../../src/control/bus-bridge.ts';
import { ControlBus, type ControlEvents } from '../../src/control/events.ts';
import { rethrow } from '../helpers/events.ts';
import { eventually } from '../helpers/eventually.ts';
import { redisSuite } from '../helpers/redis.ts';

/** The control bus across nodes over a real Redis stream: delivery, no echo, catch-up after a lost connection. */
const log = pino({ level: 'silent' });

redisSuite('the control bus across nodes (Redis stream)', (suite) => {
  const { cleanup } = suite;

  /** A node: its own bus, and a bridge on two connections of its own. */
  async function node(nodeId: string, stream: string) {
    const bus = new ControlBus(rethrow);
    const publisher = suite.redis.client();
    const reader = suite.redis.client();
    const bridge = await BusBridge.start(bus, { publisher, reader, nodeId, log, stream, blockMs: 200 });
    const seen: { event: keyof ControlEvents; payload: unknown }[] = [];
    for (const event of ['space.changed', 'space.ended', 'member.muted', 'member.removed'] as const) {
      bus.on(event, (payload) => seen.push({ event, payload }));
    }
    const close = async () => {
      await bridge.close();
      publisher.disconnect();
    };
    cleanup.add(`bridge ${nodeId}`, close);
    return { bus, bridge, seen, publisher, reader, close };
  }

  test('an event on one node reaches the others once, in order, and is not echoed back', async () => {
    const stream = 'test:bus:deliver';
    const a = await node('a', stream);
    const b = await node('b', stream);
    const c = await node('c', stream);
    a.bus.emit('member.muted', { spaceId: 'sp_1', accountId: 'ac_1', muted: true, byHost: true });
    a.bus.emit('member.removed', { spaceId: 'sp_1', accountId: 'an_2' });
    b.bus.emit('space.ended', { spaceId: 'sp_1' });
    await eventually(
      'every node to see the others’ events',
      () => b.seen.length === 3 && c.seen.length === 3 && a.seen.length === 3,
    );
    assert.deepEqual(
      c.seen.map((s) => s.event),
      ['member.muted', 'member.removed', 'space.ended'],
    );
    assert.deepEqual(c.seen[0]!.payload, { spaceId: 'sp_1', accountId: 'ac_1', muted: true, byHost: true });
    // Each node saw its own events once (emitted locally) and the others' once (from the stream).
    assert.equal(a.seen.filter((s) => s.event === 'member.muted').length, 1);
    assert.equal(b.seen.filter((s) => s.event === 'space.ended').length, 1);
    assert.equal(a.bridge.received, 1);
    assert.equal(c.bridge.received, 3);
    assert.equal(c.bridge.published, 0, 'what a node delivers from the stream is not published again');
  });

  test('a node that starts late hears what happens from then on, never the history before it', async () => {
    const stream = 'test:bus:late';
    const a = await node('a', stream);
    a.bus.emit('member.removed', { spaceId: 'sp_1', accountId: 'ac_before' });
    a.bus.emit('space.ended', { spaceId: 'sp_old' });
    const late = await node('late', stream);
    a.bus.emit('space.changed', { spaceId: 'sp_after' });
    await eventually('the late node to see the new event', () => late.seen.length >= 1);
    const seen = await eventually('no more events', () => late.bridge.received === 1 && late.seen);
    assert.deepEqual(
      seen.map((s) => s.event),
      ['space.changed'],
    );
  });

  test('events published while Redis is unreachable are kept and sent, in order, once it answers', async () => {
    const stream = 'test:bus:outbox';
    const b = await node('b', stream);
    const bus = new ControlBus(rethrow);
    // A publisher that fails at once while not connected (no offline queue), as cluster mode's do.
    const publisher = new Redis({ host: suite.redis.host, port: suite.redis.port, enableOfflineQueue: false, lazyConnect: true });
    const reader = suite.redis.client();
    // Started on a connected client (start reads the stream's end), then published through the one that is away.
    const bridge = await BusBridge.start(bus, {
      publisher: Object.assign(publisher, { xrevrange: reader.xrevrange.bind(reader) }),
      reader,
      nodeId: 'a',
      log,
      stream,
      blockMs: 200,
    });
    cleanup.add('bridge a', async () => {
      await bridge.close();
      publisher.disconnect();
    });
    bus.emit('member.removed', { spaceId: 'sp_1', accountId: 'ac_while_away' });
    bus.emit('space.ended', { spaceId: 'sp_1' });
    // The first command set it connecting (lazily): the events wait in the outbox until it is ready.
    await new Promise<void>((resolve) => (publisher.status === 'ready' ? resolve() : publisher.once('ready', () => resolve())));
    bus.emit('space.changed', { spaceId: 'sp_after' });
    await eventually('b to get all three, in order', () => b.seen.length === 3);
    assert.deepEqual(
      b.seen.map((e) => e.event),
      ['member.removed', 'space.ended', 'space.changed'],
    );
    assert.equal(bridge.dropped, 0);
  });

  test('a node whose connection dropped catches up on what it missed', async () => {
    const stream = 'test:bus:catchup';
    const a = await node('a', stream);
    const b = await node('b', stream);
    a.bus.emit('space.changed', { spaceId: 'sp_before' });
    await eventually('b to see the first event', () => b.seen.length === 1);
    // b's reading connection is cut; a goes on emitting meanwhile.
    // b's reader is the newest connection blocked in XREAD (b was made last).
    const list = String(await suite.redis.client().call('CLIENT', 'LIST'));
    const readers = list
      .split('\n')
      .filter((line) => line.includes('cmd=xread'))
      .map((line) => Number(/id=(\d+)/.exec(line)?.[1]));
    assert.ok(readers.length >= 2, `blocked XREADs: ${readers.join(', ')}`);
    const readerId = String(Math.max(...readers));
    await suite.redis.client().call('CLIENT', 'KILL', 'ID', readerId);
    for (let i = 0; i < 5; i++) a.bus.emit('space.changed', { spaceId: `sp_while_away_${i}` });
    await eventually('b to catch up after reconnecting', () => b.seen.length === 6);
    assert.deepEqual(
      b.seen.map((s) => (s.payload as { spaceId: string }).spaceId),
      ['sp_before', 'sp_while_away_0', 'sp_while_away_1', 'sp_while_away_2', 'sp_while_away_3', 'sp_while_away_4'],
    );
    assert.equal(b.bridge.gaps, 0);
  });
});
