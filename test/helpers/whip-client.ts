import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../src/stage/audio.ts';
import { OpusDecoderMono, OpusEncoderMono } from '../../src/stage/codec.ts';
import { keepCandidates } from '../../src/stage/sdp.ts';

/**
 * A WHIP publisher for tests, built on werift like a third-party client would be: it POSTs an SDP
 * offer, sends a sine tone as Opus in real time, and decodes whatever the stage sends back.
 */
export interface TonePublisher {
  readonly status: number;
  readonly location: string | undefined;
  /** Decoded audio received from the stage, as 20 ms frames with their arrival times. */
  readonly received: { atMs: number; frame: Float32Array }[];
  /** Packets received when not decoding. */
  readonly receivedPackets: () => number;
  readonly connectionState: () => string;
  /** Resolves when ICE and DTLS are up (rejects after 5 s). */
  connected(): Promise<void>;
  stopSending(): void;
  /** Switches between the tone and (encoded) silence; returns the time of the switch. */
  setTone(on: boolean): number;
  /** DELETEs the WHIP session and closes the connection. */
  close(): Promise<void>;
}

export async function publishTone(options: {
  whipUrl: string;
  token: string | undefined;
  frequencyHz: number;
  amplitude?: number;
  receive?: boolean;
  /** Start by sending silence (see `setTone`). */
  startSilent?: boolean;
  /** Decode what comes back (default true); a load generator only counts it. */
  decodeReceived?: boolean;
}): Promise<TonePublisher> {
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2, payloadType: 111 })] },
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
  });
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: options.receive === false ? 'sendonly' : 'sendrecv' });
  const received: { atMs: number; frame: Float32Array }[] = [];
  let receivedPackets = 0;
  const decoder = new OpusDecoderMono();
  pc.onTrack.subscribe((t) =>
    t.onReceiveRtp.subscribe((rtp) => {
      if (options.decodeReceived === false) {
        receivedPackets++;
        return;
      }
      const frame = decoder.decode(rtp.payload);
      if (frame !== undefined) received.push({ atMs: Date.now(), frame });
    }),
  );
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve());
  });
  const offer = keepCandidates(pc.localDescription!.sdp, ['127.0.0.1']);
  const res = await fetch(options.whipUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/sdp',
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    },
    body: offer,
  });
  const location = res.headers.get('location') ?? undefined;
  let timer: NodeJS.Timeout | undefined;
  let toneOn = options.startSilent !== true;
  if (res.status === 201) {
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    // One second of the tone, encoded once and looped (a whole number of cycles for 440 and 660 Hz).
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
    let n = 0;
    // Paced by wall time: this is real media on real sockets, not logic under test.
    timer = setInterval(() => {
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: n & 0xffff, timestamp: (n * FRAME_SAMPLES) >>> 0 });
      track.writeRtp(new RtpPacket(header, toneOn ? packets[n % 50]! : silence));
      n++;
    }, 20);
  } else {
    await res.arrayBuffer();
  }
  const origin = new URL(options.whipUrl).origin;
  return {
    status: res.status,
    location,
    received,
    receivedPackets: () => receivedPackets,
    connectionState: () => pc.connectionState,
    connected: () =>
      new Promise<void>((resolve, reject) => {
        if (pc.connectionState === 'connected') {
          resolve();
          return;
        }
        const timer = setTimeout(() => reject(new Error(`not connected: ${pc.connectionState}`)), 5000);
        pc.connectionStateChange.subscribe((s) => {
          if (s === 'connected') {
            clearTimeout(timer);
            resolve();
          }
        });
      }),
    stopSending: () => clearInterval(timer),
    setTone: (on) => {
      toneOn = on;
      return Date.now();
    },
    async close() {
      clearInterval(timer);
      if (location !== undefined) {
        await fetch(`${origin}${location}`, {
          method: 'DELETE',
          headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
        }).then((r) => r.arrayBuffer());
      }
      await pc.close();
    },
  };
}

/** Concatenates frames into one signal for spectral checks. */
export function concat(frames: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of frames) {
    out.set(f, offset);
    offset += f.length;
  }
  return out;
}
