/**
 * A WHIP publisher built on werift like a third-party client would be: it POSTs an SDP offer, sends a
 * sine tone as Opus in real time, and decodes (or only counts) whatever the stage sends back. The stage
 * bench's load generator; tests may use it too.
 */
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../src/stage/audio.ts';
import { OpusDecoderMono, OpusEncoderMono } from '../../src/stage/codec.ts';
import { keepCandidates } from '../../src/stage/sdp.ts';
import { fastSrtp } from '../../src/stage/srtp-keys.ts';

export interface TonePublisher {
  readonly status: number;
  readonly location: string | undefined;
  /** Decoded audio received from the stage, as 20 ms frames with their arrival times. */
  readonly received: { atMs: number; frame: Float32Array }[];
  /** Packets received when not decoding. */
  readonly receivedPackets: () => number;
  /**
   * The return stream's sequence numbers (extended past 16 bits): the highest and lowest seen and how
   * many distinct ones arrived. `highest - lowest + 1 - distinct` packets were lost on the way.
   */
  readonly returnSequence: () => ReturnSequence;
  readonly connectionState: () => string;
  /** Resolves when ICE and DTLS are up (rejects after 5 s). */
  connected(): Promise<void>;
  stopSending(): void;
  /** Switches between the tone and (encoded) silence; returns the time of the switch. */
  setTone(on: boolean): number;
  /** DELETEs the WHIP session and closes the connection. */
  close(): Promise<void>;
}

export interface ReturnSequence {
  readonly lowest: number;
  readonly highest: number;
  readonly distinct: number;
}

export interface ToneOptions {
  whipUrl: string;
  token: string | undefined;
  frequencyHz: number;
  amplitude?: number;
  receive?: boolean;
  /** Start by sending silence (see `setTone`). */
  startSilent?: boolean;
  /** Decode what comes back (default true); a load generator only counts it. */
  decodeReceived?: boolean;
}

export async function publishTone(options: ToneOptions): Promise<TonePublisher> {
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2, payloadType: 111 })] },
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
  });
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: options.receive === false ? 'sendonly' : 'sendrecv' });
  const returned = receive(pc, options.decodeReceived !== false);
  let res: Response;
  let sender: ToneSender | undefined;
  try {
    res = await fetch(options.whipUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', ...bearer(options.token) },
      body: await localOffer(pc),
    });
    if (res.status === 201) {
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      sender = sendTone(track, options);
    } else {
      await res.arrayBuffer();
    }
  } catch (error) {
    await pc.close(); // its UDP sockets and timers would keep the process alive
    throw error;
  }
  const location = res.headers.get('location') ?? undefined;
  const origin = new URL(options.whipUrl).origin;
  return {
    status: res.status,
    location,
    received: returned.frames,
    receivedPackets: () => returned.packets(),
    returnSequence: () => returned.sequence(),
    connectionState: () => pc.connectionState,
    connected: () => connected(pc),
    stopSending: () => sender?.stop(),
    setTone: (on) => {
      sender?.setTone(on);
      return Date.now();
    },
    async close() {
      sender?.stop();
      try {
        if (location !== undefined) {
          await fetch(`${origin}${location}`, { method: 'DELETE', headers: bearer(options.token) }).then((r) => r.arrayBuffer());
        }
      } finally {
        // Even when the server is gone: an open connection's UDP sockets keep the process alive.
        await pc.close();
      }
    },
  };
}

/** A speaker that stays on stage by itself: see `keepPublishing`. */
export interface KeptPublisher {
  /** The publisher now (replaced at each reconnection). */
  current(): TonePublisher;
  /** Each time the connection was found dead and when a new one was up, with the WHIP URL it went to. */
  readonly reconnects: { readonly lostAt: number; readonly backAt: number; readonly whipUrl: string }[];
  close(): Promise<void>;
}

/**
 * Publishes a tone and keeps it published, as the web app's speaker does: when the connection dies
 * (its state failed or closed, or the stage's return audio, sent every 20 ms once the Space is live,
 * stops for `stallMs` after it had begun), it asks `grant` again (the control plane's `POST /api/spaces/:id/stage`, which names the stage of the
 * media node producing the Space now) and publishes there, retrying with backoff until it is back.
 */
export async function keepPublishing(
  options: Omit<ToneOptions, 'whipUrl' | 'token' | 'receive'> & {
    readonly grant: () => Promise<{ readonly whipUrl: string; readonly token: string }>;
    readonly stallMs?: number;
  },
): Promise<KeptPublisher> {
  const stallMs = options.stallMs ?? 1500;
  const open = async () => {
    const { whipUrl, token } = await options.grant();
    const publisher = await publishTone({ ...options, whipUrl, token, receive: true, decodeReceived: false });
    if (publisher.status !== 201) {
      await publisher.close();
      throw new Error(`the stage answered ${publisher.status}`);
    }
    await publisher.connected();
    return { publisher, whipUrl };
  };
  // The first connection is retried too (a stage may answer 503 while the Space's lease is being taken).
  const first = async () => {
    for (let delay = 250, tries = 0; ; delay = Math.min(2000, delay * 2), tries++) {
      try {
        return (await open()).publisher;
      } catch (error) {
        if (tries >= 9) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
  let publisher = await first();
  let lastCount = 0;
  let lastMoveAt = Date.now();
  let closed = false;
  let reconnecting = false;
  const reconnects: KeptPublisher['reconnects'][number][] = [];
  const reconnect = async (lostAt: number) => {
    reconnecting = true;
    void publisher.close().catch(() => {});
    for (let delay = 250; !closed; delay = Math.min(2000, delay * 2)) {
      try {
        const next = await open();
        publisher = next.publisher;
        reconnects.push({ lostAt, backAt: Date.now(), whipUrl: next.whipUrl });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    lastCount = 0;
    lastMoveAt = Date.now();
    reconnecting = false;
  };
  const watch = setInterval(() => {
    if (closed || reconnecting) return;
    const count = publisher.receivedPackets();
    const now = Date.now();
    if (count !== lastCount) [lastCount, lastMoveAt] = [count, now];
    const state = publisher.connectionState();
    // Return audio flows only once the Space is live: its absence before that is no sign of a dead stage.
    if (state === 'failed' || state === 'closed' || (lastCount > 0 && now - lastMoveAt > stallMs)) void reconnect(now);
  }, 250);
  return {
    current: () => publisher,
    reconnects,
    async close() {
      closed = true;
      clearInterval(watch);
      // Its stage may be gone (that is what reconnecting is for): the DELETE then fails, harmlessly.
      await publisher.close().catch(() => {});
    },
  };
}

const bearer = (token: string | undefined): Record<string, string> =>
  token === undefined ? {} : { authorization: `Bearer ${token}` };

/** What the stage sends back: decoded frames, or only a packet count. */
function receive(pc: RTCPeerConnection, decode: boolean) {
  const frames: { atMs: number; frame: Float32Array }[] = [];
  let packets = 0;
  const sequence = new SequenceCount();
  const decoder = new OpusDecoderMono();
  pc.onTrack.subscribe((t) =>
    t.onReceiveRtp.subscribe((rtp) => {
      sequence.add(rtp.header.sequenceNumber);
      if (!decode) {
        packets++;
        return;
      }
      const frame = decoder.decode(rtp.payload);
      if (frame !== undefined) frames.push({ atMs: Date.now(), frame });
    }),
  );
  return { frames, packets: () => packets, sequence: () => sequence.now() };
}

/** RTP sequence numbers extended past 16 bits, and how many distinct ones arrived (duplicates ignored). */
export class SequenceCount {
  #lowest = -1;
  #highest = -1;
  #distinct = 0;
  /** Bit k set: #highest - k has arrived (the last 32 numbers, for duplicates and reordering). */
  #recent = 0;

  add(seq16: number): void {
    if (this.#highest < 0) {
      [this.#lowest, this.#highest, this.#distinct, this.#recent] = [seq16, seq16, 1, 1];
      return;
    }
    const delta = ((seq16 - this.#highest + 0x8000) & 0xffff) - 0x8000; // -32768 ... 32767
    if (delta > 0) {
      this.#highest += delta;
      this.#recent = delta >= 32 ? 1 : ((this.#recent << delta) | 1) >>> 0;
      this.#distinct++;
    } else if (-delta < 32 && (this.#recent & (1 << -delta)) === 0) {
      this.#recent = (this.#recent | (1 << -delta)) >>> 0;
      this.#distinct++;
      this.#lowest = Math.min(this.#lowest, this.#highest + delta);
    }
  }

  now(): ReturnSequence {
    return { lowest: this.#lowest, highest: this.#highest, distinct: this.#distinct };
  }
}

/** The offer once ICE gathering is complete, with loopback candidates only. */
async function localOffer(pc: RTCPeerConnection): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  fastSrtp(pc); // the load generator's SRTP costs a fifth as much (see srtp-keys.ts)
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve());
  });
  return keepCandidates(pc.localDescription!.sdp, ['127.0.0.1']);
}

interface ToneSender {
  setTone(on: boolean): void;
  stop(): void;
}

/** Sends one second of the tone, encoded once and looped (a whole number of cycles for 440 and 660 Hz). */
function sendTone(track: MediaStreamTrack, options: ToneOptions): ToneSender {
  const encoder = new OpusEncoderMono({ bitrateBps: 48_000 });
  const amplitude = options.amplitude ?? 0.3;
  const packets: Buffer[] = [];
  const silence = Buffer.from(encoder.encode(new Float32Array(FRAME_SAMPLES)));
  for (let k = 0; k < 50; k++) {
    const frame = new Float32Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      frame[i] = amplitude * Math.sin((2 * Math.PI * options.frequencyHz * (k * FRAME_SAMPLES + i)) / SAMPLE_RATE);
    }
    packets.push(Buffer.from(encoder.encode(frame)));
  }
  let toneOn = options.startSilent !== true;
  let n = 0;
  // Paced by wall time: this is real media on real sockets, not logic under test.
  const timer = setInterval(() => {
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: n & 0xffff, timestamp: (n * FRAME_SAMPLES) >>> 0 });
    track.writeRtp(new RtpPacket(header, toneOn ? packets[n % 50]! : silence));
    n++;
  }, 20);
  return {
    setTone: (on) => (toneOn = on),
    stop: () => clearInterval(timer),
  };
}

const CONNECT_TIMEOUT_MS = 15_000;

function connected(pc: RTCPeerConnection): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (pc.connectionState === 'connected') {
      resolve();
      return;
    }
    // 15 s: on a loaded two-core CI machine (Chromium suites beside it) ICE took over 5 s once.
    const timer = setTimeout(() => reject(new Error(`not connected: ${pc.connectionState}`)), CONNECT_TIMEOUT_MS);
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
