import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Edge } from '../../src/edge/edge.ts';
import { edgeMetrics } from '../../src/edge/metrics.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { settle } from '../helpers/settle.ts';
import { hint, part, playlist, scriptedOrigin, textSink } from './scripted-origin.ts';

const SPACE = 'sp_LISTENERS0001';
const OTHER = 'sp_LISTENERS0002';
const log = pino({ level: 'silent' });

/** A signer that counts the signatures it checks. */
class CountingSigner extends TokenSigner {
  verifications = 0;
  override verify<T extends object>(token: string, nowMs: number) {
    this.verifications++;
    return super.verify<T>(token, nowMs);
  }
}

/** An edge over a scripted origin whose live streams wait on their first blocking reload. */
function setup(listenerWindowMs?: number) {
  const clock = new ManualClock();
  const signer = new CountingSigner([{ id: 'k', secret: 'an-edge-listeners-test-key-long-enough' }]);
  const origin = scriptedOrigin(playlist(part('p3.0'), part('p3.1'), hint('p3.2')));
  const edge = new Edge({ signer, clock, origin: origin.client, log, cacheMaxBytes: 1 << 20, listenerWindowMs });
  const token = (subject: string, space = SPACE) => signer.sign({ t: 'l', s: space, u: subject }, clock.now() + 3_600_000);
  const request = (subject: string, space = SPACE) =>
    edge.serve({ token: token(subject, space), spaceId: space, file: 'init.mp4' });
  const listen = async (subject: string, space = SPACE) => {
    const s = textSink();
    (await edge.openStream(token(subject, space), space)).subscribe(s);
    return s;
  };
  return { clock, edge, signer, origin, token, request, listen };
}

const invalid = (e: unknown) => e instanceof AmphiError && e.code === 'LISTENER_TOKEN_INVALID';

describe('edge listeners', () => {
  test('a listener counts for the window after their last request, to the millisecond', async () => {
    const { clock, edge, request } = setup(10_000);
    assert.equal(edge.listeners(SPACE), 0, 'a Space never requested has no listeners');
    await request('an_a');
    clock.advance(5_000);
    await request('an_b');
    await request('an_b');
    assert.equal(edge.listeners(SPACE), 2, 'distinct subjects');
    clock.advance(5_000);
    assert.equal(edge.listeners(SPACE), 2, 'a: last request exactly one window ago still counts');
    clock.advance(1);
    assert.equal(edge.listeners(SPACE), 1);
    clock.advance(5_000);
    assert.equal(edge.listeners(SPACE), 0);
  });

  test('all listeners add up over Spaces; a stream holder counts though silent, and once though also polling', async () => {
    const { clock, edge, request, listen } = setup(10_000);
    await request('an_a');
    await request('an_b', OTHER);
    await listen('an_b', OTHER);
    await listen('an_c', OTHER);
    assert.equal(edge.listeners(OTHER), 2);
    assert.equal(edge.allListeners(), 3);
    assert.equal(edge.streaming, 2);
    clock.advance(20_000);
    assert.equal(edge.listeners(SPACE), 0);
    assert.equal(edge.listeners(OTHER), 2, 'held streams count after the request window');
    assert.equal(edge.allListeners(), 2);
  });

  test('a token’s signature is checked once, its expiry and Space on every request', async () => {
    const { edge, signer, token, request } = setup();
    const t = token('an_a');
    for (let i = 0; i < 3; i++) assert.equal(edge.accepts(t, SPACE), true);
    assert.equal(edge.accepts(t, OTHER), false, 'remembered, but not for another Space');
    assert.equal(signer.verifications, 1);
    await request('an_b');
    assert.equal(signer.verifications, 2);
  });

  test('a removed listener loses the Space at once: held stream ended, unexpired tokens refused', async () => {
    const { edge, token, request, listen } = setup();
    const [a, b] = [await listen('an_a'), await listen('an_b')];
    const aElsewhere = await listen('an_a', OTHER);
    edge.revoke(SPACE, 'an_a');
    assert.deepEqual([a.ended, b.ended, aElsewhere.ended], [1, 0, 0]);
    assert.equal(edge.accepts(token('an_a'), SPACE), false);
    await assert.rejects(request('an_a'), invalid);
    await assert.rejects(edge.openStream(token('an_a'), SPACE), invalid);
    assert.equal(edge.accepts(token('an_b'), SPACE), true, 'other listeners keep it');
    assert.equal(edge.accepts(token('an_a', OTHER), OTHER), true, 'the same subject elsewhere keeps that Space');
    assert.equal(edge.streaming, 2);
    edge.revoke('sp_NOSTREAM00000', 'an_a');
    assert.equal(edge.accepts(token('an_a', 'sp_NOSTREAM00000'), 'sp_NOSTREAM00000'), false, 'with no stream held there too');
  });

  test('one origin fetch per object however many listeners start a stream; the metrics say so', async () => {
    const { edge, origin, listen, request } = setup();
    const registry = new Registry();
    edgeMetrics(registry, edge);
    await listen('an_a');
    await listen('an_b');
    await request('an_c', OTHER);
    await settle();
    const text = await registry.metrics();
    const value = (name: string) => text.split('\n').find((l) => l.startsWith(`${name} `));
    assert.equal(value('amphi_edge_listeners'), 'amphi_edge_listeners 3');
    assert.equal(value('amphi_edge_stream_listeners'), 'amphi_edge_stream_listeners 2');
    // media.m3u8, init.mp4 and the two listed parts for SPACE (both listeners), init.mp4 for OTHER; then the reload.
    assert.equal(edge.originFetches, 6);
    assert.equal(origin.fetches.length, 6);
    assert.equal(value('amphi_edge_origin_fetches_total'), 'amphi_edge_origin_fetches_total 6');
    assert.match(text, /# HELP amphi_edge_listeners \S+/);
  });
});
