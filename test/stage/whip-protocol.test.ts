import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { keyList, TokenSigner } from '../../src/lib/signed-token.ts';
import { parseIceServerLinks } from '../../src/shared/ice-servers.ts';
import { eventually } from '../helpers/eventually.ts';
import { TEST_SIGNING_KEY } from '../helpers/server.ts';
import { liveStage, SUITE, TEST } from './live-stage.ts';
import { handOffer } from './offers.ts';

/** WHIP (RFC 9725) as a client sees it: credentials, status codes, and bad input. */
describe('WHIP endpoint', SUITE, () => {
  const stage = liveStage({ stage: { port: 0, whipPostsPerAccount: { capacity: 3, refillPerSecond: 0.01 } } });

  const post = (url: string, body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers, body }).then(async (r) => ({
      status: r.status,
      text: await r.text(),
      headers: r.headers,
    }));
  const codeOf = (text: string) => (JSON.parse(text) as { error: { code: string } }).error.code;

  test('the stage listens on its own port, not the API port', () => {
    const { server } = stage;
    assert.notEqual(new URL(server.stageUrl).port, new URL(server.url).port);
  });

  test('a listener token, another Space’s token, an expired token and no token are all refused', TEST, async () => {
    const { server } = stage;
    const a = await server.liveSpace(0);
    const b = await server.liveSpace(0);
    const whipUrl = `${server.stageUrl}/whip/${a.spaceId}`;
    const listener = (await server.api('POST', `/api/spaces/${a.spaceId}/join`)).json.token as string;
    const otherSpace = (await server.stageToken(b.spaceId, b.host.token)).token;
    const [key] = keyList(TEST_SIGNING_KEY);
    const signer = new TokenSigner([key!]);
    const expired = signer.sign({ t: 's', s: a.spaceId, u: a.host.id, r: 'host' }, Date.now() - 1000);
    const forged = new TokenSigner([{ id: key!.id, secret: 'not-the-key-not-the-key-not-the-key!' }]).sign(
      { t: 's', s: a.spaceId, u: a.host.id, r: 'host' },
      Date.now() + 60_000,
    );
    for (const [name, token] of [
      ['listener token', listener],
      ['other Space', otherSpace],
      ['expired', expired],
      ['forged', forged],
      ['none', undefined],
    ] as const) {
      const pub = await stage.publish({ whipUrl, token, frequencyHz: 440 });
      assert.equal(pub.status, 401, name);
    }
    assert.equal(server.stage.sessionCount, 0);
  });

  test('malformed SDP, no Opus, and the wrong content type get clear 4xx codes', TEST, async () => {
    const { server } = stage;
    const { spaceId, host } = await server.liveSpace(0);
    const { whipUrl, token } = await server.stageToken(spaceId, host.token);
    const auth = { authorization: `Bearer ${token}` };
    const garbage = await post(whipUrl, 'hello', { ...auth, 'content-type': 'application/sdp' });
    assert.equal(garbage.status, 400);
    assert.equal(codeOf(garbage.text), 'WHIP_SDP_INVALID');
    const video =
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AA\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n';
    const noAudio = await post(whipUrl, video, { ...auth, 'content-type': 'application/sdp' });
    assert.equal(codeOf(noAudio.text), 'WHIP_CODEC_UNSUPPORTED');
    const pcmu = video.replace(
      'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000',
      'm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000',
    );
    const notOpus = await post(whipUrl, pcmu, { ...auth, 'content-type': 'application/sdp' });
    assert.equal(codeOf(notOpus.text), 'WHIP_CODEC_UNSUPPORTED');
    const json = await post(whipUrl, '{}', { ...auth, 'content-type': 'application/json' });
    assert.equal(json.status, 415);
    const big = await post(whipUrl, `v=0\r\n${'a=x\r\n'.repeat(5000)}`, { ...auth, 'content-type': 'application/sdp' });
    assert.equal(big.status, 413);
    const unknown = await fetch(`${server.stageUrl}/whip/${spaceId}/sessions/ss_AAAAAAAAAAAA`, {
      method: 'DELETE',
      headers: auth,
    });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'WHIP_SESSION_NOT_FOUND');
  });

  test('a flood of WHIP POSTs is refused with 429 and leaves the live session untouched', TEST, async () => {
    const { server } = stage;
    const { spaceId, host } = await server.liveSpace(0);
    const credential = await server.stageToken(spaceId, host.token);
    const live = await stage.publish({ ...credential, frequencyHz: 440 });
    assert.equal(live.status, 201);
    await live.connected();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await post(credential.whipUrl, 'v=0\r\n', {
        authorization: `Bearer ${credential.token}`,
        'content-type': 'application/sdp',
      });
      statuses.push(r.status);
      if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.equal(server.stage.room(spaceId)?.speakerCount, 1, 'the publishing host is still on');
    assert.equal(live.connectionState(), 'connected');
  });

  const trickle = (sessionUrl: string, token: string) =>
    fetch(sessionUrl, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/trickle-ice-sdpfrag' },
      body: 'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n',
    });
  const end = (sessionUrl: string, token: string) =>
    fetch(sessionUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    }));

  test('DELETE of the Location ends the session; trickle PATCH is accepted', TEST, async () => {
    const { server } = stage;
    const { spaceId, host } = await server.liveSpace(0);
    const credential = await server.stageToken(spaceId, host.token);
    const pub = await stage.publish({ ...credential, frequencyHz: 440 });
    const sessionUrl = `${server.stageUrl}${pub.location!}`;
    const patch = await trickle(sessionUrl, credential.token);
    assert.equal(patch.status, 204);
    // Ending a peer while ICE is still connecting leaves werift 0.25's consent timer running for 30 s
    // (it starts after close), which kept this file's process alive: end it once connected.
    await pub.connected();
    assert.equal((await end(sessionUrl, credential.token)).status, 200);
    await eventually('the session to be gone', () => (server.stage.room(spaceId)?.speakerCount ?? 0) === 0);
    const again = await end(sessionUrl, credential.token);
    assert.equal(again.status, 404);
    assert.equal(codeOf(again.text), 'WHIP_SESSION_NOT_FOUND');
  });

  test('the answer carries an ETag; a PATCH whose If-Match names another ICE session gets 412', TEST, async () => {
    const { server } = stage;
    const { spaceId, host } = await server.liveSpace(0);
    const credential = await server.stageToken(spaceId, host.token);
    const auth = { authorization: `Bearer ${credential.token}` };
    const answer = await post(credential.whipUrl, handOffer(), { ...auth, 'content-type': 'application/sdp' });
    assert.equal(answer.status, 201, answer.text);
    const etag = answer.headers.get('etag');
    assert.match(etag ?? '', /^"[A-Za-z0-9_-]{16,}"$/, 'a strong, quoted entity tag');
    const sessionUrl = `${server.stageUrl}${answer.headers.get('location')!}`;
    const patch = (ifMatch?: string) =>
      fetch(sessionUrl, {
        method: 'PATCH',
        headers: {
          ...auth,
          'content-type': 'application/trickle-ice-sdpfrag',
          ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }),
        },
        body: 'a=ice-ufrag:hOst\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n',
      }).then(async (r) => ({ status: r.status, etag: r.headers.get('etag'), text: await r.text() }));
    const stale = await patch('"an-older-ice-session"');
    assert.equal(stale.status, 412);
    assert.equal(codeOf(stale.text), 'WHIP_ETAG_MISMATCH');
    assert.equal(stale.etag, etag, 'the 412 names the current ETag');
    assert.equal((await patch(`W/${etag!}`)).status, 412, 'If-Match compares strongly: a weak tag never matches');
    for (const ifMatch of [etag!, '*', `"x", ${etag!}`, undefined]) {
      const ok = await patch(ifMatch);
      assert.equal(ok.status, 204, `If-Match ${ifMatch}: ${ok.text}`);
      assert.equal(ok.etag, etag);
    }
    assert.equal((await fetch(sessionUrl, { method: 'DELETE', headers: auth })).status, 200);
    const other = await post(credential.whipUrl, handOffer(), { ...auth, 'content-type': 'application/sdp' });
    assert.notEqual(other.headers.get('etag'), etag, 'each ICE session has its own tag');
    const otherUrl = `${server.stageUrl}${other.headers.get('location')!}`;
    assert.equal((await fetch(otherUrl, { method: 'DELETE', headers: auth })).status, 200);
  });

  test('only the owner can end or trickle into a session, not another speaker of the same Space', TEST, async () => {
    const { server } = stage;
    const { spaceId, host, speakers } = await server.liveSpace(1);
    const hostCredential = await server.stageToken(spaceId, host.token);
    const speakerCredential = await server.stageToken(spaceId, speakers[0]!.token);
    const hostPub = await stage.publish({ ...hostCredential, frequencyHz: 440 });
    const speakerPub = await stage.publish({ ...speakerCredential, frequencyHz: 660 });
    assert.equal(hostPub.status, 201);
    assert.equal(speakerPub.status, 201);
    await hostPub.connected();
    await speakerPub.connected();
    const room = server.stage.room(spaceId)!;
    await eventually('both on stage', () => room.speakerCount === 2);
    const hostSession = room.session(host.id);
    const hostUrl = `${server.stageUrl}${hostPub.location!}`;

    // The speaker's token is valid for this Space and they own a session in it, just not this one.
    const hijackPatch = await trickle(hostUrl, speakerCredential.token);
    assert.equal(hijackPatch.status, 404, 'a PATCH with another owner’s token');
    assert.equal(codeOf(await hijackPatch.text()), 'WHIP_SESSION_NOT_FOUND');
    const hijack = await end(hostUrl, speakerCredential.token);
    assert.equal(hijack.status, 404, 'a DELETE with another owner’s token');
    assert.equal(codeOf(hijack.text), 'WHIP_SESSION_NOT_FOUND');
    assert.equal(room.session(host.id), hostSession, 'the host’s session is untouched');
    assert.equal(room.speakerCount, 2);
    assert.equal(hostPub.connectionState(), 'connected');

    // Each owner can still end their own.
    assert.equal((await end(hostUrl, hostCredential.token)).status, 200);
    assert.equal((await end(`${server.stageUrl}${speakerPub.location!}`, speakerCredential.token)).status, 200);
    await eventually('both sessions gone', () => room.speakerCount === 0);
  });
});

describe('stage resource caps', SUITE, () => {
  const stage = liveStage({ stage: { port: 0, maxSpeakerBitrateBps: 16_000 } });

  test('a speaker sending more than the bitrate cap is disconnected; the program goes on', TEST, async () => {
    const { server } = stage;
    const { spaceId, host } = await server.liveSpace(0);
    const pub = await stage.publish({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440, amplitude: 0.8 });
    await pub.connected();
    const frames = server.stage.room(spaceId)!.frames;
    await eventually(
      'the speaker to be disconnected for exceeding 16 kb/s',
      () => server.stage.room(spaceId)!.speakerCount === 0,
      { intervalMs: 50 },
    );
    assert.ok(server.stage.room(spaceId)!.frames > frames, 'the program keeps its timeline');
  });
});

describe('WHIP ICE servers (RFC 9725 §4.6)', SUITE, () => {
  const secret = 'whip-protocol-test-turn-secret';
  const stage = liveStage({
    stage: {
      port: 0,
      turn: { urls: ['turn:127.0.0.1:3478?transport=tcp'], secret, username: null, credential: null, credentialTtlSeconds: 600 },
    },
  });

  test('the 201 and an OPTIONS with the stage token name the TURN server with credentials; without it, none', TEST, async () => {
    const { server } = stage;
    const { spaceId, host } = await server.liveSpace(0);
    const credential = await server.stageToken(spaceId, host.token);
    const auth = { authorization: `Bearer ${credential.token}` };
    const options = await fetch(credential.whipUrl, { method: 'OPTIONS', headers: auth });
    assert.equal(options.status, 204);
    const [named] = parseIceServerLinks(options.headers.get('link'));
    assert.equal(named?.urls, 'turn:127.0.0.1:3478?transport=tcp');
    assert.match(named?.username ?? '', new RegExp(`^\\d{10}:${host.id}$`));
    assert.equal(named?.credential, createHmac('sha1', secret).update(named.username!).digest('base64'));
    assert.match(options.headers.get('link') ?? '', /rel="ice-server"; .*credential-type="password"/);
    const anonymous = await fetch(credential.whipUrl, { method: 'OPTIONS' });
    assert.equal(anonymous.headers.get('link'), null, 'TURN credentials only for a speaker');
    const answer = await fetch(credential.whipUrl, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/sdp' },
      body: handOffer(),
    });
    assert.equal(answer.status, 201);
    assert.equal(parseIceServerLinks(answer.headers.get('link'))[0]?.urls, named?.urls);
    await answer.text();
    const sessionUrl = `${server.stageUrl}${answer.headers.get('location')!}`;
    assert.equal((await fetch(sessionUrl, { method: 'DELETE', headers: auth })).status, 200);
  });
});
