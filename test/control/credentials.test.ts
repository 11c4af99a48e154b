import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { anonymousSubject, Credentials } from '../../src/control/credentials.ts';
import type { SpaceSnapshot } from '../../src/control/snapshots.ts';
import type { Spaces } from '../../src/control/spaces.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import type { Account, SpaceRecord } from '../../src/storage/store.ts';
import { spaceRecord } from '../helpers/space-record.ts';

/** Who may listen and with what: the rules of `Credentials`, on one Space whose snapshot the test sets. */

const signer = new TokenSigner([{ id: 'k1', secret: 'a-credentials-test-key-long-enough' }]);
const fan = { id: 'ac_fan00000000' } as Account;
const other = { id: 'ac_other000000' } as Account;

function rig(space: Partial<SpaceRecord> = {}, banned: string[] = [], recording = false) {
  const clock = new ManualClock(1_000_000);
  const snap = (): SpaceSnapshot => ({
    space: spaceRecord(space),
    hostHandle: 'host',
    members: [],
    banned: new Set(banned),
    requestCount: 0,
    reminderCount: 0,
  });
  const spaces = {
    snapshot: (id: string) =>
      id === 'sp_1' || id === 'sp_2' ? Promise.resolve(snap()) : Promise.reject(new AmphiError('SPACE_NOT_FOUND')),
  } as unknown as Spaces;
  const credentials = new Credentials({
    spaces,
    signer,
    clock,
    listenerTokenTtlSeconds: 300,
    stageTokenTtlSeconds: 3600,
    edgeFor: () => ({ url: 'http://edge-a', fallbacks: ['http://edge-b'] }),
    hasRecording: () => recording,
    stageBaseUrl: () => 'http://stage',
  });
  return { credentials, clock };
}

const code = (expected: string) => (error: unknown) => error instanceof AmphiError && error.code === expected;

describe('Credentials', () => {
  test('a grant names the edge and its fallbacks, with the token in each URL', async () => {
    const g = await rig().credentials.join(fan, 'sp_1');
    const base = `/l/${g.token}/sp_1`;
    assert.equal(g.playlistUrl, `http://edge-a${base}/index.m3u8`);
    assert.equal(g.streamUrl, `http://edge-a${base}/live.mp4`);
    assert.deepEqual(g.fallbacks, [
      { playlistUrl: `http://edge-b${base}/index.m3u8`, streamUrl: `http://edge-b${base}/live.mp4` },
    ]);
    assert.equal(g.expiresAt, 1_000_000 + 300_000);
  });

  test('admissible: live and scheduled go through the door, a replay does not, an ended Space without one is refused', async () => {
    assert.equal(await rig().credentials.admissible(fan, 'sp_1'), true);
    assert.equal(await rig({ state: 'scheduled' }).credentials.admissible(fan, 'sp_1'), true);
    assert.equal(await rig({ state: 'ended' }, [], true).credentials.admissible(fan, 'sp_1'), false, 'a replay: no door');
    await assert.rejects(rig({ state: 'ended' }).credentials.admissible(fan, 'sp_1'), code('SPACE_ENDED'));
    await assert.rejects(rig({ state: 'ended' }).credentials.join(fan, 'sp_1'), code('SPACE_ENDED'));
    assert.ok((await rig({ state: 'ended' }, [], true).credentials.join(fan, 'sp_1')).token, 'a replay is joined');
  });

  test('anonymous listeners only where allowed; removed subjects, by account or by client id, never', async () => {
    await assert.rejects(rig({ allowAnonymous: false }).credentials.admissible(undefined, 'sp_1'), code('AUTH_REQUIRED'));
    await assert.rejects(rig({ allowAnonymous: false }).credentials.join(undefined, 'sp_1'), code('AUTH_REQUIRED'));
    assert.equal(await rig({ allowAnonymous: false }).credentials.admissible(fan, 'sp_1'), true);
    const removedClient = 'a-removed-client-id-0123456789';
    const r = rig({}, [fan.id, anonymousSubject(removedClient)]);
    await assert.rejects(r.credentials.admissible(fan, 'sp_1'), code('REMOVED_FROM_SPACE'));
    await assert.rejects(r.credentials.join(fan, 'sp_1'), code('REMOVED_FROM_SPACE'));
    await assert.rejects(r.credentials.admissible(undefined, 'sp_1', removedClient), code('REMOVED_FROM_SPACE'));
    await assert.rejects(r.credentials.join(undefined, 'sp_1', { client: removedClient }), code('REMOVED_FROM_SPACE'));
    assert.equal(await r.credentials.admissible(other, 'sp_1'), true);
    assert.equal(await r.credentials.admissible(undefined, 'sp_1', 'another-client-id-0123456789'), true);
    assert.equal(await r.credentials.admissible(undefined, 'sp_1'), true, 'no client id yet: the door decides');
    await assert.rejects(
      r.credentials.join(other, 'sp_1', { renewing: fan.id }),
      code('REMOVED_FROM_SPACE'),
      'a renewal for a removed subject',
    );
  });

  test('a renewal is proven: a listener token of this Space, by its account or the anonymous client’s secret', async () => {
    const { credentials } = rig();
    const mine = (await credentials.join(fan, 'sp_1')).token;
    assert.equal(credentials.renewalSubject(fan, 'sp_1', mine, undefined), fan.id);
    const invalid = code('LISTENER_TOKEN_INVALID');
    assert.throws(() => credentials.renewalSubject(other, 'sp_1', mine, undefined), invalid, 'another account');
    assert.throws(() => credentials.renewalSubject(undefined, 'sp_1', mine, undefined), invalid, 'signed out');
    assert.throws(() => credentials.renewalSubject(fan, 'sp_2', mine, undefined), invalid, 'another Space');
    assert.throws(() => credentials.renewalSubject(fan, 'sp_1', `${mine}x`, undefined), invalid, 'tampered');
    const stage = signer.sign({ t: 's', s: 'sp_1', u: fan.id, r: 'speaker' }, 2_000_000);
    assert.throws(() => credentials.renewalSubject(fan, 'sp_1', stage, undefined), invalid, 'a stage token is no listener token');
    const client = 'my-secret-client-id-0123456789';
    const anon = (await credentials.join(undefined, 'sp_1', { client })).token;
    assert.equal(credentials.renewalSubject(undefined, 'sp_1', anon, client), anonymousSubject(client));
    assert.throws(() => credentials.renewalSubject(undefined, 'sp_1', anon, undefined), invalid, 'without the client id');
    assert.throws(
      () => credentials.renewalSubject(undefined, 'sp_1', anon, 'a-guessed-client-id-0123456789'),
      invalid,
      'the wrong one',
    );
  });

  test('recordings: only of an ended Space, for whoever may listen to its replay', async () => {
    await assert.rejects(rig().credentials.recordingAccess(fan, 'sp_1'), code('RECORDING_NOT_AVAILABLE'));
    await assert.rejects(rig({ state: 'scheduled' }).credentials.recordingAccess(fan, 'sp_1'), code('RECORDING_NOT_AVAILABLE'));
    assert.equal((await rig({ state: 'ended' }).credentials.recordingAccess(fan, 'sp_1')).id, 'sp_1');
    assert.equal((await rig({ state: 'ended' }).credentials.recordingAccess(undefined, 'sp_1')).id, 'sp_1');
    await assert.rejects(
      rig({ state: 'ended', allowAnonymous: false }).credentials.recordingAccess(undefined, 'sp_1'),
      code('AUTH_REQUIRED'),
    );
    await assert.rejects(rig({ state: 'ended' }, [fan.id]).credentials.recordingAccess(fan, 'sp_1'), code('REMOVED_FROM_SPACE'));
  });
});
