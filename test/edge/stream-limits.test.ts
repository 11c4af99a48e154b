import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Edge } from '../../src/edge/edge.ts';
import type { StreamLimits } from '../../src/edge/held-streams.ts';
import { edgeMetrics } from '../../src/edge/metrics.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { ENDLIST, hint, part, playlist, scriptedOrigin, textSink } from './scripted-origin.ts';

const SPACE = 'sp_STREAMCAP0001';
const signer = new TokenSigner([{ id: 'k', secret: 'an-edge-stream-limit-test-key-long-enough' }]);

/** An edge over a scripted live origin, with these stream limits (default: the config's 3 and 200). */
function setup(streamLimits?: StreamLimits) {
  const clock = new ManualClock();
  const origin = scriptedOrigin(playlist(part('p3.0'), part('p3.1'), hint('p3.2')));
  const edge = new Edge({
    signer,
    clock,
    origin: origin.client,
    log: pino({ level: 'silent' }),
    cacheMaxBytes: 1 << 20,
    ...(streamLimits === undefined ? {} : { streamLimits }),
  });
  const token = (subject: string) => signer.sign({ t: 'l', s: SPACE, u: subject }, clock.now() + 3_600_000);
  /** Opens and subscribes a stream, as the door does. */
  const listen = async (tok: string, address?: string) => {
    const sink = textSink();
    const opened = await edge.openStream(tok, SPACE, address);
    opened.subscribe(sink);
    return { sink, opened };
  };
  return { clock, edge, origin, token, listen };
}

const tooMany = (limit: string) => (e: unknown) =>
  e instanceof AmphiError &&
  e.code === 'TOO_MANY_STREAMS' &&
  e.status === 429 &&
  (e.details as { limit: string }).limit === limit;

describe('held streams are capped per token subject and per client address', () => {
  test('one token holds at most maxStreamsPerSubject streams; closing one frees its slot; refusals are counted', async () => {
    const { edge, token, listen } = setup();
    const tok = token('an_shared0001');
    const held = [await listen(tok, '192.0.2.1'), await listen(tok, '192.0.2.2'), await listen(tok, '192.0.2.3')];
    // 96 streams on one token was the finding: the fourth is refused, from any address.
    for (let i = 0; i < 5; i++) await assert.rejects(edge.openStream(tok, SPACE, `198.51.100.${i}`), tooMany('subject'));
    assert.equal(edge.streaming, 3);
    held[0]!.opened.close();
    held[0]!.opened.close(); // idempotent: frees one slot, not two
    const again = await listen(tok, '192.0.2.9');
    await assert.rejects(edge.openStream(tok, SPACE, '192.0.2.10'), tooMany('subject'));
    assert.equal(again.sink.chunks.length, 1, 'the new stream got its head');
    assert.deepEqual(edge.streamsRefused, { subject: 6, address: 0 });
    const registry = new Registry();
    edgeMetrics(registry, edge);
    const text = await registry.metrics();
    assert.match(text, /amphi_edge_streams_refused_total\{limit="subject"\} 6/);
    assert.match(text, /amphi_edge_streams_refused_total\{limit="address"\} 0/);
  });

  test('one address holds at most maxStreamsPerAddress streams, whatever tokens it uses', async () => {
    const { edge, token, listen } = setup({ maxStreamsPerSubject: 3, maxStreamsPerAddress: 2 });
    await listen(token('an_first00001'), '203.0.113.7');
    const second = await listen(token('an_second0001'), '203.0.113.7');
    await assert.rejects(edge.openStream(token('an_third00001'), SPACE, '203.0.113.7'), tooMany('address'));
    await listen(token('an_third00001'), '203.0.113.8'); // another address is not affected
    second.opened.close();
    await listen(token('an_third00001'), '203.0.113.7');
    assert.deepEqual(edge.streamsRefused, { subject: 0, address: 1 });
  });

  test('a slot is freed however the stream ends: removal, the Space ending, or a failed start', async () => {
    const { clock, edge, origin, token, listen } = setup({ maxStreamsPerSubject: 1, maxStreamsPerAddress: 1000 });
    const a = await listen(token('an_removed001'));
    edge.revoke(SPACE, 'an_removed001');
    assert.equal(a.sink.ended, 1, 'the removed listener’s stream ended');
    const b = await listen(token('an_keeps00001'));
    await assert.rejects(edge.openStream(token('an_keeps00001'), SPACE), tooMany('subject'));
    // The Space ends: the fan-out closes every stream, and their slots go with them.
    origin.reload(playlist(part('p3.0'), part('p3.1'), ENDLIST));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(b.sink.ended, 1);
    assert.equal(edge.retained.heldSubjects, 0);
    assert.equal(edge.retained.heldAddresses, 0);
    // A stream that cannot start (the Space is over) holds no slot either.
    origin.state.start = playlist(part('p3.0'), ENDLIST);
    clock.advance(1000); // the cached live playlist is stale
    for (let i = 0; i < 3; i++)
      await assert.rejects(
        edge.openStream(token('an_keeps00001'), SPACE),
        (e: unknown) => e instanceof AmphiError && e.code === 'SPACE_ENDED',
      );
    assert.equal(edge.retained.heldSubjects, 0);
  });
});
