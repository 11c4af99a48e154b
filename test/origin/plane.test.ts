import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { OriginPlane, type OriginQuery, type OriginResponse } from '../../src/origin/plane.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import { ProgramStream } from '../../src/stage/program.ts';
import { rethrow } from '../helpers/events.ts';
import { programFrame } from '../helpers/program.ts';
import { settle } from '../helpers/settle.ts';
import { originConfig } from '../helpers/origin-config.ts';

const SPACE = 'sp_BLOCKING00000';
const BLOCKING_TIMEOUT_MS = 6000;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An origin packaging one live Space on the test clock: 500 ms parts, 4 parts (2 s) a segment. */
function liveOrigin() {
  const clock = new ManualClock(Date.UTC(2026, 10, 1, 20));
  const dir = mkdtempSync(join(tmpdir(), 'amphi-origin-'));
  dirs.push(dir);
  const origin = new OriginPlane({
    config: originConfig({ blockingTimeoutMs: BLOCKING_TIMEOUT_MS }),
    storage: new FileMediaStorage(dir),
    clock,
    log: pino({ level: 'silent' }),
    programBitrateBps: 48_000,
    preSkip: 312,
  });
  const program = new ProgramStream(rethrow);
  origin.attach(SPACE, program);
  let sequence = 0;
  /** `n` program frames of 20 ms, on the clock. */
  const frames = (n: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      program.emit('frame', programFrame(SPACE, sequence++, clock.now() - 20));
    }
  };
  return { clock, origin, frames };
}

type Outcome = { readonly ok: true; readonly response: OriginResponse } | { readonly ok: false; readonly error: unknown };

/** Starts a request and records how it ended, without awaiting it (a held request must not hang the test). */
function request(origin: OriginPlane, query: OriginQuery): { readonly outcome: () => Outcome | undefined } {
  let outcome: Outcome | undefined;
  origin.get(SPACE, 'media.m3u8', query).then(
    (response) => (outcome = { ok: true, response }),
    (error: unknown) => (outcome = { ok: false, error }),
  );
  return { outcome: () => outcome };
}

function assertRefused(outcome: Outcome | undefined, code: string, status: number): AmphiError {
  assert.ok(outcome !== undefined, `expected ${code} at once, but the request is still held`);
  if (outcome.ok) assert.fail(`expected ${code}, got a playlist (cache-control: ${outcome.response.cacheControl})`);
  const error = outcome.error;
  assert.ok(error instanceof AmphiError, String(error));
  assert.equal(error.code, code);
  assert.equal(error.status, status);
  return error;
}

describe('blocking playlist reload at the origin (LL-HLS _HLS_msn/_HLS_part, on the injected clock)', () => {
  test('a reload that times out is 503 HLS_NOT_YET_AVAILABLE with Retry-After, never a cacheable playlist', async () => {
    const { clock, origin, frames } = liveOrigin();
    frames(100); // segment 0 done; segment 1 is the live edge, no part of it yet
    const held = request(origin, { msn: 1, part: 1 });
    await settle();
    assert.equal(held.outcome(), undefined, 'held while the part is not there');
    clock.advance(BLOCKING_TIMEOUT_MS - 1); // the program stalls: no frames
    await settle();
    assert.equal(held.outcome(), undefined, 'still held one millisecond before the timeout');
    clock.advance(1);
    await settle();
    const error = assertRefused(held.outcome(), 'HLS_NOT_YET_AVAILABLE', 503);
    assert.equal(error.headers['retry-after'], '1');
  });

  test('a reload is answered the moment its part exists, with a playlist that has it', async () => {
    const { origin, frames } = liveOrigin();
    frames(100);
    const held = request(origin, { msn: 1, part: 1 });
    frames(49);
    await settle();
    assert.equal(held.outcome(), undefined, 'one frame short of part 1.1');
    frames(1);
    await settle();
    const outcome = held.outcome();
    assert.ok(outcome?.ok === true, 'answered');
    assert.match(new TextDecoder().decode(outcome.response.body), /URI="p1\.1\.m4s"/);
    assert.equal(outcome.response.cacheControl, 'public, max-age=6');
  });

  test('two segments past the live edge waits; three is 400 HLS_REQUEST_TOO_FAR_AHEAD at once', async () => {
    const { origin, frames } = liveOrigin();
    frames(100); // the live edge is segment 1
    const tooFar = request(origin, { msn: 4 });
    const tooFarPart = request(origin, { msn: 4, part: 0 });
    const twoAhead = request(origin, { msn: 3, part: 0 });
    await settle();
    assertRefused(tooFar.outcome(), 'HLS_REQUEST_TOO_FAR_AHEAD', 400);
    assertRefused(tooFarPart.outcome(), 'HLS_REQUEST_TOO_FAR_AHEAD', 400);
    assert.equal(twoAhead.outcome(), undefined, 'two ahead is a fair wait');
    frames(2 * 100 + 25); // segments 1 and 2, then part 3.0
    await settle();
    const outcome = twoAhead.outcome();
    assert.ok(outcome?.ok === true, 'answered once part 3.0 exists');
    assert.match(new TextDecoder().decode(outcome.response.body), /URI="p3\.0\.m4s"/);
  });
});
