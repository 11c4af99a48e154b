import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, test } from 'node:test';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { liveStage, SUITE, TEST } from '../stage/live-stage.ts';
import { handOffer, hostCandidate } from '../stage/offers.ts';

/**
 * A hostile WHIP client: its offer and trickle PATCHes name UDP sockets that are not a WebRTC peer
 * (here, sockets of this test on 127.0.0.1). The stage must send them nothing unless the policy
 * allows their network, and then at most `maxPerSession` of them, a few binding requests each.
 *
 * werift starts its checks within a few hundred ms of answering and gives up on a silent pair after
 * 5 tries over about 850 ms; LISTEN_MS covers that with room to spare on a busy machine. Waiting for
 * nothing to arrive needs a window of real time: the stage's own logic is tested on a manual clock
 * (test/stage/plane.test.ts), and the positive case below shows the window is long enough to see it.
 */
const LISTEN_MS = 2500;

interface Target {
  readonly port: number;
  /** STUN binding requests received (type 0x0001). */
  readonly stun: () => number;
}

/** UDP sockets on loopback that count the STUN binding requests they receive. */
async function udpTargets(cleanup: Cleanup, count: number): Promise<Target[]> {
  const targets: Target[] = [];
  for (let i = 0; i < count; i++) {
    const socket = cleanup.use(
      'udp target',
      createSocket('udp4'),
      (s: Socket) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    let stun = 0;
    socket.on('message', (message) => {
      if (message.length >= 20 && message.readUInt16BE(0) === 0x0001) stun++;
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    targets.push({ port: socket.address().port, stun: () => stun });
  }
  return targets;
}

const sdp = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/sdp' });
const fragment = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/trickle-ice-sdpfrag' });
const fragmentOf = (candidates: string[]) =>
  `a=ice-ufrag:hOst\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n${candidates.map((c) => `a=${c}\r\n`).join('')}`;

describe('a hostile WHIP client, on a stage that refuses loopback peers', SUITE, () => {
  const stage = liveStage({
    stage: {
      port: 0,
      maxSessions: 2,
      patchesPerSession: { capacity: 2, refillPerSecond: 0.01 },
      remoteCandidates: { maxPerSession: 10, allowLoopback: false, allowPrivate: false, minPort: 1024, maxPort: 65535 },
    },
  });
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** POSTs `offer` for a new live Space's host; the session is ended after the test. */
  async function post(offer: string) {
    const { server } = stage;
    const { spaceId, host } = await server.liveSpace(0);
    const { whipUrl, token } = await server.stageToken(spaceId, host.token);
    const res = await fetch(whipUrl, { method: 'POST', headers: sdp(token), body: offer });
    const location = res.headers.get('location');
    await res.arrayBuffer();
    const sessionUrl = location === null ? undefined : `${server.stageUrl}${location}`;
    if (sessionUrl !== undefined)
      cleanup.add('WHIP session', () => fetch(sessionUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }));
    return { status: res.status, sessionUrl, token };
  }

  test('the STUN test: no packet reaches a socket named by a refused candidate, in the offer or a PATCH', TEST, async () => {
    const targets = await udpTargets(cleanup, 3);
    const [a, b, c] = targets as [Target, Target, Target];
    const { status, sessionUrl, token } = await post(
      handOffer([hostCandidate('127.0.0.1', a.port), hostCandidate('127.0.0.1', b.port, 2)]),
    );
    assert.equal(status, 201, 'the offer is answered: its candidates are dropped, not the offer');
    const patch = await fetch(sessionUrl!, {
      method: 'PATCH',
      headers: fragment(token),
      body: fragmentOf([hostCandidate('127.0.0.1', c.port, 3)]),
    });
    assert.equal(patch.status, 204);
    await sleep(LISTEN_MS);
    assert.deepEqual(
      targets.map((t) => t.stun()),
      [0, 0, 0],
    );
    const dropped = stage.server.stage.droppedCandidates.get('loopback') ?? 0;
    assert.ok(dropped >= 3, `dropped loopback candidates: ${dropped}`);
  });

  test('trickle PATCHes past patchesPerSession get 429 with Retry-After', TEST, async () => {
    const { sessionUrl, token } = await post(handOffer());
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const r = await fetch(sessionUrl!, { method: 'PATCH', headers: fragment(token), body: fragmentOf([]) });
      statuses.push(r.status);
      if (r.status === 429) {
        retryAfter = r.headers.get('retry-after');
        assert.match(r.headers.get('access-control-expose-headers') ?? '', /retry-after/, 'a browser speaker can read it');
        assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
      } else await r.arrayBuffer();
    }
    assert.deepEqual(statuses, [204, 204, 429, 429]);
    assert.ok(Number(retryAfter) >= 1, `Retry-After: ${retryAfter}`);
  });

  test('concurrent POSTs cannot exceed maxSessions: two answers, then STAGE_BUSY', TEST, async () => {
    const { server } = stage;
    const { spaceId, host, speakers } = await server.liveSpace(2);
    const credentials = await Promise.all([host, ...speakers].map((account) => server.stageToken(spaceId, account.token)));
    const responses = await Promise.all(
      credentials.map(({ whipUrl, token }) => fetch(whipUrl, { method: 'POST', headers: sdp(token), body: handOffer() })),
    );
    for (const [i, res] of responses.entries()) {
      const location = res.headers.get('location');
      const { token } = credentials[i]!;
      if (location !== null)
        cleanup.add('WHIP session', () =>
          fetch(`${server.stageUrl}${location}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }),
        );
    }
    const statuses = responses.map((r) => r.status).sort();
    const bodies = await Promise.all(responses.map((r) => r.text()));
    assert.deepEqual(statuses, [201, 201, 503], bodies.join('\n'));
    assert.ok(bodies.some((b) => b.includes('STAGE_BUSY')));
    assert.equal(server.stage.sessionCount, 2);
  });
});

describe('a hostile WHIP client, on a stage that allows loopback peers (as tests do)', SUITE, () => {
  const stage = liveStage({
    stage: {
      port: 0,
      remoteCandidates: { maxPerSession: 3, allowLoopback: 'auto', allowPrivate: false, minPort: 1024, maxPort: 65535 },
    },
  });
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  test('allowed candidates do get STUN, a few binding requests each, and only maxPerSession of them', TEST, async () => {
    const { server } = stage;
    const targets = await udpTargets(cleanup, 5);
    const { spaceId, host } = await server.liveSpace(0);
    const { whipUrl, token } = await server.stageToken(spaceId, host.token);
    const offer = handOffer(targets.slice(0, 4).map((t, i) => hostCandidate('127.0.0.1', t.port, i + 1)));
    const res = await fetch(whipUrl, { method: 'POST', headers: sdp(token), body: offer });
    assert.equal(res.status, 201);
    await res.arrayBuffer();
    const sessionUrl = `${server.stageUrl}${res.headers.get('location')!}`;
    cleanup.add('WHIP session', () => fetch(sessionUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }));
    const patch = await fetch(sessionUrl, {
      method: 'PATCH',
      headers: fragment(token),
      body: fragmentOf([hostCandidate('127.0.0.1', targets[4]!.port, 5)]),
    });
    assert.equal(patch.status, 204, 'a PATCH past the cap is accepted; its candidates are ignored');
    // The first three (the cap) are checked; the fourth (offer) and fifth (PATCH) are not.
    await eventually('STUN at the three admitted sockets', () => targets.slice(0, 3).every((t) => t.stun() > 0), {
      timeoutMs: LISTEN_MS,
    });
    await sleep(LISTEN_MS);
    const counts = targets.map((t) => t.stun());
    assert.deepEqual(counts.slice(3), [0, 0], counts.join(','));
    // One pair per candidate (the stage's one address), 5 tries each: not one per machine interface.
    for (const n of counts.slice(0, 3)) assert.ok(n >= 1 && n <= 5, counts.join(','));
    assert.equal(server.stage.droppedCandidates.get('cap'), 2);
  });

  test('a host who connects before going live waits: no room (no recording) until the Space starts', TEST, async () => {
    const { server } = stage;
    const host = await server.signUp(`green_${Date.now()}`);
    const spaceId = (await server.api('POST', '/api/spaces', host.token, { title: 'Not yet' })).json.space.id as string;
    const { whipUrl, token } = await server.stageToken(spaceId, host.token);
    const res = await fetch(whipUrl, { method: 'POST', headers: sdp(token), body: handOffer() });
    assert.equal(res.status, 201, 'hosts may connect early');
    await res.arrayBuffer();
    cleanup.add('WHIP session', () =>
      fetch(`${server.stageUrl}${res.headers.get('location')!}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    assert.equal(server.stage.room(spaceId), undefined);
    assert.equal((await server.api('POST', `/api/spaces/${spaceId}/start`, host.token)).status, 200);
    assert.deepEqual(server.stage.room(spaceId)?.connected(), [host.id], 'on the mix the moment the Space starts');
  });
});
