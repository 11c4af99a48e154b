import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Edge, type OriginClient } from '../../src/edge/edge.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';

const signer = new TokenSigner([{ id: 'k', secret: 'an-edge-space-end-test-key-long-enough' }]);
const TTL_MS = 300_000;
const KEEP_ALIVE_MS = 60_000;

/** An origin that answers every object at once. */
const origin: OriginClient = {
  get: (_spaceId, file) =>
    Promise.resolve({ status: 200, contentType: 'audio/mp4', cacheControl: 'max-age=60', body: new TextEncoder().encode(file) }),
};

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 10, 1, 12));
  const make = () =>
    new Edge({
      signer,
      clock,
      origin,
      log: pino({ level: 'silent' }),
      cacheMaxBytes: 1 << 20,
      listenerWindowMs: 30_000,
      tokenKeepAliveMs: KEEP_ALIVE_MS,
      listenerTokenTtlMs: TTL_MS,
    });
  const token = (space: string, subject: string) => signer.sign({ t: 'l', s: space, u: subject }, clock.now() + TTL_MS);
  return { clock, edge: make(), make, token };
}

const space = (i: number) => `sp_END${String(i).padStart(9, '0')}`;

describe('what the edge keeps per Space goes when the Space ends', () => {
  test('hundreds of Spaces live and end: listener windows go at the end, revocations a token lifetime later', async () => {
    const { clock, edge, token } = setup();
    for (let i = 0; i < 300; i++) {
      for (const subject of ['an_listener001', 'an_listener002', 'an_removed0001'])
        await edge.serve({ token: token(space(i), subject), spaceId: space(i), file: 'init.mp4' });
      edge.revoke(space(i), 'an_removed0001');
    }
    assert.equal(edge.retained.seenSpaces, 300);
    assert.equal(edge.retained.revokedSpaces, 300);
    const removedToken = token(space(0), 'an_removed0001');
    for (let i = 0; i < 300; i++) edge.spaceEnded(space(i));
    assert.equal(edge.retained.seenSpaces, 0, 'listener windows dropped at the end');
    // Its tokens still open the replay: a removed listener's stays refused while it could be good.
    assert.equal(edge.accepts(removedToken, space(0)), false);
    assert.equal(edge.accepts(token(space(0), 'an_listener001'), space(0)), true);
    clock.advance(TTL_MS + KEEP_ALIVE_MS - 1);
    edge.spaceEnded(space(300));
    assert.equal(edge.retained.revokedSpaces, 300, 'kept until every token issued before them has expired');
    clock.advance(1);
    edge.spaceEnded(space(301));
    assert.equal(edge.retained.revokedSpaces, 0, 'then dropped');
    assert.equal(edge.retained.endingSpaces, 2, 'only the two Spaces that ended since wait their turn');
    assert.equal(edge.accepts(removedToken, space(0)), false, 'by now the token itself has expired, and was never kept alive');
  });

  test('listener windows of Spaces nobody requests any more shrink back to nothing, counted or not', async () => {
    const { clock, edge, token } = setup();
    const serve = (i: number) => edge.serve({ token: token(space(i), 'an_listener001'), spaceId: space(i), file: 'a.m4s' });
    for (let i = 0; i < 50; i++) await serve(i);
    assert.equal(edge.allListeners(), 50);
    clock.advance(30_001);
    assert.equal(edge.allListeners(), 0);
    assert.equal(edge.retained.seenSpaces, 0);
    // Where nobody asks for counts (`amphi edge` without scrapes), requests forget idle ones once a window.
    for (let i = 0; i < 50; i++) await serve(i);
    clock.advance(30_001);
    await serve(99);
    assert.equal(edge.retained.seenSpaces, 1);
  });

  test('a restarted edge told the bans again (revoke at start-up) refuses the removed listeners’ unexpired tokens', () => {
    const { make, token } = setup();
    const removed = token(space(1), 'an_removed0001');
    const kept = token(space(1), 'an_listener001');
    const restarted = make();
    assert.equal(restarted.accepts(removed, space(1)), true, 'a fresh edge knows no revocation');
    const again = make();
    again.revoke(space(1), 'an_removed0001');
    assert.equal(again.accepts(removed, space(1)), false);
    assert.equal(again.accepts(kept, space(1)), true);
    assert.equal(again.listening(space(1), 'an_listener001'), true, 'seen: its renewals take no place');
    assert.equal(again.listening(space(1), 'an_removed0001'), false);
  });
});
