import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { liveSignals } from '../../src/roles/live-signals.ts';

/** The doors' backstage status, as the public view reads it from the stage's green room. */

const SPACE = 'sp_abcdefghijkl';
const HOST = 'ac_host0000000';
const COHOST = 'ac_cohost00000';

type Waiting = { accountId: string; connected: boolean; heard: boolean };

/** The signals over a stage whose green room holds `waiting`; only `backstage` is read by these tests. */
function signals(waiting: Waiting[], clustered = false) {
  const stage = { backstage: (spaceId: string) => (spaceId === SPACE ? waiting : []) };
  return liveSignals({
    services: {} as never,
    stage: stage as never,
    origin: {} as never,
    edge: {} as never,
    fleet: undefined,
    clustered,
  });
}

describe('backstage status', () => {
  test('nobody waiting: the host has not arrived, no microphone checked', () => {
    assert.deepEqual(signals([]).backstage(SPACE, HOST), { hostConnected: false, micChecked: false });
  });

  test('a co-host alone in the green room, heard, is not the host arriving', () => {
    const live = signals([{ accountId: COHOST, connected: true, heard: true }]);
    assert.deepEqual(live.backstage(SPACE, HOST), { hostConnected: false, micChecked: false });
  });

  test('the host connected and not yet heard: arrived, microphone not checked (a heard co-host does not check it)', () => {
    const live = signals([
      { accountId: HOST, connected: true, heard: false },
      { accountId: COHOST, connected: true, heard: true },
    ]);
    assert.deepEqual(live.backstage(SPACE, HOST), { hostConnected: true, micChecked: false });
  });

  test('the host connected and heard: arrived and checked', () => {
    const live = signals([{ accountId: HOST, connected: true, heard: true }]);
    assert.deepEqual(live.backstage(SPACE, HOST), { hostConnected: true, micChecked: true });
  });

  test('a host session still negotiating (not connected) has not arrived, even if a packet was heard', () => {
    const live = signals([{ accountId: HOST, connected: false, heard: true }]);
    assert.deepEqual(live.backstage(SPACE, HOST), { hostConnected: false, micChecked: false });
  });

  test('in a cluster, an empty green room here says nothing (the host may wait on another media node)', () => {
    assert.equal(signals([], true).backstage(SPACE, HOST), undefined);
    assert.deepEqual(signals([{ accountId: HOST, connected: true, heard: false }], true).backstage(SPACE, HOST), {
      hostConnected: true,
      micChecked: false,
    });
  });
});
