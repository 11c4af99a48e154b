import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Captions } from '../../src/captions/captions.ts';
import { ErrorResponse } from '../../src/control/http/schemas.ts';
import { createHttpApp } from '../../src/lib/http-app.ts';
import { TypedEmitter } from '../../src/lib/typed-emitter.ts';
import { followStage, mountCaptions } from '../../src/roles/captions.ts';
import type { StagePlane } from '../../src/stage/plane.ts';
import { makeTestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/eventually.ts';
import { rethrow } from '../helpers/events.ts';
import { FakeRoom } from './fake-room.ts';

const log = pino({ level: 'silent' });

/** A stage room as `followStage` sees it: PCM for captions and a program that may end. */
class Room extends FakeRoom {
  readonly program = new TypedEmitter<{ end: { final: boolean } }>(rethrow);
}

/**
 * The embedded role's wiring: the host's toggle is kept in the database, and a node that opens the
 * Space's room again (after a restart: a new `Captions` over the same database) applies it.
 */
test(
  "the host's captions toggle outlives the node: a restarted one captions the Space again, or not",
  { timeout: 30_000 },
  async () => {
    const app = await makeTestApp();
    const api = createHttpApp({ log, limits: app.config.admission.limits, bodyLimitBytes: app.config.server.bodyLimitBytes });
    api.addSchema(ErrorResponse); // as the API app has it (its routes' error answers refer to it)
    const made: Captions[] = [];
    /** A media node's captions over the test app's database, following a stage of its own. */
    const node = () => {
      const captions = new Captions({
        enabled: true,
        defaultOn: false,
        maxSpaces: 2,
        modelDir: '/nonexistent',
        clock: app.clock,
        log,
        onListenerError: rethrow,
        availability: () => ({ ok: true }),
      });
      made.push(captions);
      const stage = { events: new TypedEmitter<{ room: Room }>(rethrow) };
      followStage(captions, stage as unknown as StagePlane, app.store.captionsChoices(), log);
      return { captions, open: (spaceId: string) => stage.events.emit('room', new Room(spaceId)) };
    };
    try {
      const first = node();
      mountCaptions(api, app.plane, app.config, first.captions, app.clock);
      const host = await app.signUp('tg_host');
      const live = async (title: string) => {
        const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title } })).json.space.id as string;
        await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
        first.open(id);
        return id;
      };
      const put = (id: string, on: boolean) =>
        api.inject({
          method: 'PUT',
          url: `/api/spaces/${id}/captions`,
          headers: { authorization: `Bearer ${host.token}` },
          payload: { on },
        });
      const [on, off, never] = [await live('On'), await live('Off'), await live('Never chosen')];
      const r = await put(on, true);
      assert.equal(r.statusCode, 200, r.body);
      assert.equal((await put(off, true)).statusCode, 200);
      assert.equal((await put(off, false)).statusCode, 200);
      assert.deepEqual([first.captions.view(on).on, first.captions.view(off).on], [true, false]);

      const restarted = node();
      for (const id of [on, off, never]) restarted.open(id);
      await eventually('the kept choice applied', () => restarted.captions.view(on).on, { timeoutMs: 5000, intervalMs: 10 });
      assert.equal(restarted.captions.view(off).on, false, 'turned off by the host: stays off');
      assert.equal(restarted.captions.view(never).on, false, 'never chosen: the default (off)');
      assert.equal(await app.store.captionsChoices().chosen(never), undefined);
    } finally {
      for (const c of made) c.close();
      await api.close();
      await app.close();
    }
  },
);
