import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { defaultConfig } from '../../src/config/defaults.ts';
import { ControlBus } from '../../src/control/events.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';
import { StagePlane } from '../../src/stage/plane.ts';
import { rethrow } from '../helpers/events.ts';
import { settle } from '../helpers/settle.ts';
import { handOffer } from './offers.ts';

const SPACE = 'sp_owned0000000';

/** The stage of one media node of a cluster: it produces a Space only while `owns` says so (its lease). */
function makeStage(owned: { value: boolean | Error; asked: string[] }) {
  const clock = new ManualClock(Date.now());
  const signer = new TokenSigner([{ id: 'k', secret: 'ownership-test-signing-key-0123456789ab' }]);
  const bus = new ControlBus(rethrow);
  const log = pino({ level: 'silent' });
  const plane = new StagePlane({
    config: { ...defaultConfig.stage, whipPostsPerAccount: { capacity: 100, refillPerSecond: 100 } },
    clock,
    log,
    signer,
    authority: { standing: () => Promise.resolve({ ok: true, muted: false, live: true }) },
    bus,
    failures: new ListenerFailures(log),
    owns: (spaceId) => {
      owned.asked.push(spaceId);
      return owned.value instanceof Error ? Promise.reject(owned.value) : Promise.resolve(owned.value);
    },
  });
  const token = signer.sign({ t: 's', s: SPACE, u: 'ac_host', r: 'host' }, clock.now() + 3_600_000);
  return { plane, bus, publish: () => plane.publish(SPACE, token, handOffer()) };
}

describe('a media node produces only the Spaces it holds', () => {
  let stage: ReturnType<typeof makeStage> | undefined;
  afterEach(() => stage?.plane.close());

  test('the Space starts: the room opens where the lease is held, nowhere else', async () => {
    const owner = { value: true, asked: [] as string[] };
    const other = { value: false, asked: [] as string[] };
    stage = makeStage(owner);
    const second = makeStage(other);
    try {
      stage.bus.emit('space.started', { spaceId: SPACE });
      second.bus.emit('space.started', { spaceId: SPACE });
      await settle();
      assert.ok(stage.plane.room(SPACE) !== undefined, 'the holder opened the room');
      assert.equal(second.plane.room(SPACE), undefined, 'the other node did not');
      assert.deepEqual([owner.asked, other.asked], [[SPACE], [SPACE]]);
    } finally {
      second.plane.close();
    }
  });

  test("a publisher reaching a node that does not hold the Space is refused with 503 and told to ask for the owner's URL", async () => {
    stage = makeStage({ value: false, asked: [] });
    const error = await stage.publish().then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AmphiError);
    assert.equal(error.code, 'SERVICE_UNAVAILABLE');
    assert.match(String(error.details), /another media node produces this Space/);
    assert.equal(stage.plane.room(SPACE), undefined);
  });

  test('a lease that cannot be taken now (Redis or the bucket away) is a 503 too, never a 500', async () => {
    stage = makeStage({ value: new Error('radosgw timed out'), asked: [] });
    const error = await stage.publish().then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AmphiError);
    assert.equal(error.code, 'SERVICE_UNAVAILABLE');
    assert.equal(stage.plane.room(SPACE), undefined);
  });

  test('dropRoom: the room stops as a shutdown (not an end: the recording is not finished) and its publishers are closed', async () => {
    stage = makeStage({ value: true, asked: [] });
    const { sessionId } = await stage.publish();
    const room = stage.plane.room(SPACE)!;
    const ends: boolean[] = [];
    room.program.on('end', ({ final }) => ends.push(final));
    stage.plane.dropRoom(SPACE);
    assert.deepEqual(ends, [false]);
    assert.equal(stage.plane.room(SPACE), undefined);
    assert.equal(stage.plane.sessionCount, 0, `session ${sessionId} closed`);
  });
});
