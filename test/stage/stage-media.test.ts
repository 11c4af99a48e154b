import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { peak, toneShare } from '../../src/stage/audio.ts';
import { OpusDecoderMono } from '../../src/stage/codec.ts';
import type { ProgramFrame } from '../../src/stage/program.ts';
import { eventually, realTime } from '../helpers/eventually.ts';
import { concat } from '../helpers/whip-client.ts';
import { liveStage, SUITE, TEST } from './live-stage.ts';

/** Real sockets, real WebRTC (werift on both sides), real Opus: what speakers and the program hear. */
describe('stage media', SUITE, () => {
  const stage = liveStage();

  /** Collects the decoded program of a Space with each frame's production time. */
  function recordProgram(spaceId: string) {
    const decoder = new OpusDecoderMono();
    const frames: { atMs: number; frame: ProgramFrame; pcm: Float32Array }[] = [];
    const room = stage.server.stage.openRoom(spaceId);
    room.program.on('frame', (frame) => {
      const pcm = decoder.decode(frame.data);
      if (pcm !== undefined) frames.push({ atMs: Date.now(), frame, pcm });
    });
    return {
      frames,
      between: (fromMs: number, toMs: number) =>
        concat(frames.filter((f) => f.atMs >= fromMs && f.atMs < toMs).map((f) => f.pcm)),
    };
  }
  const contiguous = (sequences: number[]) => sequences.every((s, i) => i === 0 || s === sequences[i - 1]! + 1);

  test('two speakers: each hears the other and not themselves; the program has both, unclipped', TEST, async () => {
    const { server } = stage;
    const { spaceId, host, speakers } = await server.liveSpace(1);
    const program = recordProgram(spaceId);
    const a = await stage.publish({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440, amplitude: 0.7 });
    const b = await stage.publish({
      ...(await server.stageToken(spaceId, speakers[0]!.token)),
      frequencyHz: 660,
      amplitude: 0.7,
    });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.match(a.location ?? '', new RegExp(`^/whip/${spaceId}/sessions/ss_`));
    await realTime(2500, 'both tones through the mix for over a second and a half');
    const t = Date.now();
    const mix = program.between(t - 1500, t);
    assert.ok(mix.length > 48_000, `program samples: ${mix.length}`);
    assert.ok(toneShare(mix, 440) > 0.2, `440 Hz share in program ${toneShare(mix, 440)}`);
    assert.ok(toneShare(mix, 660) > 0.2, `660 Hz share in program ${toneShare(mix, 660)}`);
    assert.ok(peak(mix) < 0.99, `program peak ${peak(mix)} (two 0.7 tones would sum to 1.4 without the limiter)`);
    const heardByA = concat(a.received.filter((r) => r.atMs > t - 1500).map((r) => r.frame));
    const heardByB = concat(b.received.filter((r) => r.atMs > t - 1500).map((r) => r.frame));
    assert.ok(
      toneShare(heardByA, 660) > 0.5 && toneShare(heardByA, 440) < 0.05,
      `A hears B only: ${toneShare(heardByA, 660)} / ${toneShare(heardByA, 440)}`,
    );
    assert.ok(
      toneShare(heardByB, 440) > 0.5 && toneShare(heardByB, 660) < 0.05,
      `B hears A only: ${toneShare(heardByB, 440)} / ${toneShare(heardByB, 660)}`,
    );
    assert.ok(contiguous(program.frames.map((f) => f.frame.sequence)), 'the program timeline has no gaps');

    // Speaking indicators reach the public view within a second.
    const view = await server.api('GET', `/api/spaces/${spaceId}`);
    for (const member of view.json.space.stage) assert.equal(member.speaking, true, JSON.stringify(member));

    // Mute by the host: the 660 Hz speaker leaves the program within 200 ms.
    const mutedAt = Date.now();
    await server.api('POST', `/api/spaces/${spaceId}/members/${speakers[0]!.id}/mute`, host.token);
    await realTime(800, 'the program for 600 ms after the mute took effect');
    const afterMute = program.between(mutedAt + 200, Date.now());
    assert.ok(toneShare(afterMute, 660) < 0.02, `660 Hz after mute: ${toneShare(afterMute, 660)}`);
    assert.ok(toneShare(afterMute, 440) > 0.5, `440 Hz goes on: ${toneShare(afterMute, 440)}`);
  });

  test('a speaker muted by the host before connecting is not heard once connected, until they unmute', TEST, async () => {
    const { server } = stage;
    const { spaceId, host, speakers } = await server.liveSpace(1);
    const speaker = speakers[0]!;
    const mute = await server.api('POST', `/api/spaces/${spaceId}/members/${speaker.id}/mute`, host.token);
    assert.equal(mute.status, 200, JSON.stringify(mute.json));
    const program = recordProgram(spaceId);
    const pub = await stage.publish({ ...(await server.stageToken(spaceId, speaker.token)), frequencyHz: 660, amplitude: 0.5 });
    assert.equal(pub.status, 201);
    await pub.connected();
    await eventually('the speaker on stage', () => server.stage.room(spaceId)?.speakerCount === 1);
    const connectedAt = Date.now();
    await realTime(1000, 'the muted speaker’s tone reaching the stage for a second');
    const whileMuted = program.between(connectedAt, Date.now());
    assert.ok(whileMuted.length > 40_000, `program samples: ${whileMuted.length}`);
    assert.ok(
      peak(whileMuted) < 0.01,
      `silent while muted: peak ${peak(whileMuted)}, 660 Hz share ${toneShare(whileMuted, 660)}`,
    );

    // Silent because muted, not because nothing arrives: once they unmute themselves they are heard.
    const unmutedAt = Date.now();
    const unmute = await server.api('POST', `/api/spaces/${spaceId}/members/${speaker.id}/unmute`, speaker.token);
    assert.equal(unmute.status, 200, JSON.stringify(unmute.json));
    await realTime(800, 'the program for 600 ms after the unmute took effect');
    const afterUnmute = program.between(unmutedAt + 200, Date.now());
    assert.ok(toneShare(afterUnmute, 660) > 0.5, `660 Hz after unmute: ${toneShare(afterUnmute, 660)}`);
  });

  for (const [name, path] of [
    ['moving a speaker to the audience', 'audience'],
    ['removing a speaker', 'remove'],
  ] as const) {
    test(`${name} tears their session down within 1 s; the program goes on`, TEST, async () => {
      const { server } = stage;
      const { spaceId, host, speakers } = await server.liveSpace(1);
      const program = recordProgram(spaceId);
      const speaker = await stage.publish({ ...(await server.stageToken(spaceId, speakers[0]!.token)), frequencyHz: 660 });
      await speaker.connected();
      await eventually('the speaker on stage', () => server.stage.room(spaceId)?.speakerCount === 1, { timeoutMs: 600 });
      const before = program.frames.length;
      const t0 = Date.now();
      await server.api('POST', `/api/spaces/${spaceId}/members/${speakers[0]!.id}/${path}`, host.token);
      await eventually('the session to close', () => server.stage.room(spaceId)!.speakerCount === 0, {
        timeoutMs: 1000,
        intervalMs: 10,
      });
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      await eventually('the program to keep running', () => program.frames.length > before + 10, { timeoutMs: 300 });
    });
  }

  test('ending the Space closes every session and the program, once', TEST, async () => {
    const { server } = stage;
    const { spaceId, host, speakers } = await server.liveSpace(1);
    let ended = 0;
    server.stage.openRoom(spaceId).program.on('end', () => ended++);
    const hostCredential = await server.stageToken(spaceId, host.token);
    const pubs = [
      await stage.publish({ ...hostCredential, frequencyHz: 440 }),
      await stage.publish({ ...(await server.stageToken(spaceId, speakers[0]!.token)), frequencyHz: 660 }),
    ];
    for (const p of pubs) await p.connected();
    await eventually('both sessions up', () => server.stage.sessionCount >= 2, { timeoutMs: 400 });
    await server.api('POST', `/api/spaces/${spaceId}/end`, host.token);
    assert.equal(server.stage.room(spaceId), undefined, 'room closed at once');
    await server.api('POST', `/api/spaces/${spaceId}/end`, host.token);
    assert.equal(ended, 1);
    const again = await stage.publish({ ...hostCredential, frequencyHz: 440 });
    assert.equal(again.status, 409, 'no publishing into an ended Space');
  });

  test('speaker to speaker: a tone is heard by the other speaker well under 300 ms after it starts', TEST, async () => {
    const { server } = stage;
    const { spaceId, host, speakers } = await server.liveSpace(1);
    const a = await stage.publish({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440, startSilent: true });
    const b = await stage.publish({
      ...(await server.stageToken(spaceId, speakers[0]!.token)),
      frequencyHz: 660,
      startSilent: true,
    });
    await a.connected();
    await b.connected();
    await realTime(500, 'jitter buffers settle on the silent streams');
    const delays: number[] = [];
    for (let round = 0; round < 3; round++) {
      const since = b.received.length;
      const startedAt = a.setTone(true);
      const hit = await eventually(
        `B to hear burst ${round + 1}`,
        () => b.received.slice(since).find((r) => peak(r.frame) > 0.05 && toneShare(r.frame, 440) > 0.5),
        { timeoutMs: 1000, intervalMs: 5 },
      );
      delays.push(hit.atMs - startedAt);
      a.setTone(false);
      await realTime(400, 'silence between bursts');
    }
    console.log(`speaker-to-speaker delay (ms): ${delays.join(', ')}`);
    assert.ok(Math.max(...delays) < 300, `delays ${delays.join(', ')} ms`);
  });

  test('a speaker who drops and publishes again resumes without the program restarting', TEST, async () => {
    const { server } = stage;
    const { spaceId, host } = await server.liveSpace(0);
    const program = recordProgram(spaceId);
    const credential = await server.stageToken(spaceId, host.token);
    const first = await stage.publish({ ...credential, frequencyHz: 440 });
    await first.connected(); // closing a werift peer mid-ICE leaves a 30 s timer (see whip-protocol.test.ts)
    await realTime(600, 'the first connection on the program');
    await first.close();
    await realTime(200, 'a gap before the speaker is back');
    const second = await stage.publish({ ...credential, frequencyHz: 440 });
    assert.equal(second.status, 201);
    await realTime(800, 'the second connection on the program');
    const t = Date.now();
    assert.ok(toneShare(program.between(t - 400, t), 440) > 0.5, 'the tone is back');
    assert.ok(contiguous(program.frames.map((f) => f.frame.sequence)), 'one continuous timeline across the reconnect');
  });
});
