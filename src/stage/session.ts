import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { systemClock, type Clock } from '../lib/clock.ts';
import { TypedEmitter, type OnListenerError } from '../lib/typed-emitter.ts';
import { FAILED_MEDIA_GRACE_MS, FailedConnection } from './media-liveness.ts';
import { refuseAddress, type CandidatePolicy } from './candidates.ts';
import { keepCandidates } from './sdp.ts';
import { fastSrtp } from './srtp-keys.ts';

export interface IceOptions {
  /** Host addresses the stage offers for media; candidates elsewhere are dropped. */
  readonly addresses: readonly string[];
  /** How long to wait for ICE gathering before answering anyway. */
  readonly gatherTimeoutMs: number;
  /**
   * Which remote candidates may be paired. The plane filters the offer and PATCHes with the same
   * policy first; this is the stack's own check, in case its parser reads a line differently.
   */
  readonly remote: CandidatePolicy;
  /** werift's port range and ICE-TCP switches (network.ts `weriftNetwork`). */
  readonly network: { icePortRange: [number, number] | undefined; iceUseTcp: boolean; iceTcpPassive: boolean };
  /** Times how long a `failed` connection whose media still arrives is kept (`FailedConnection`). */
  readonly clock?: Clock;
}

export interface SessionEvents extends Record<string, unknown> {
  /** One Opus packet from the speaker. */
  audio: { rtpTimestamp: number; payload: Buffer };
  /** The connection ended (closed by us, failed, or the peer went away). */
  closed: { reason: string };
}

const OPUS_PT = 111;

/** Opus packets up to this size carry silence (or comfort noise), not a voice. */
const SILENT_PACKET_BYTES = 16;
/** Packets with sound (at 20 ms each: half a second) before a microphone counts as heard. */
const HEARD_PACKETS = 25;

/**
 * One speaker's WebRTC connection (werift): receives their Opus audio and, when their offer is
 * sendrecv, sends back what they should hear. It knows nothing about Spaces or mixing.
 */
export class SpeakerSession extends TypedEmitter<SessionEvents> {
  readonly id: string;
  readonly #pc: RTCPeerConnection;
  readonly #outbound: MediaStreamTrack | undefined;
  #sequence = Math.floor(Math.random() * 0xffff);
  #timestamp = Math.floor(Math.random() * 0xffffffff);
  #closed = false;
  #connected = false;
  /** A `failed` connection ends the session only once its media stopped too. */
  readonly #failure: FailedConnection;
  /** Bytes received, for the bitrate cap. */
  bytesIn = 0;
  /** Packets with sound in them (bigger than `SILENT_PACKET_BYTES`) since the session opened. */
  soundPackets = 0;

  private constructor(
    id: string,
    pc: RTCPeerConnection,
    outbound: MediaStreamTrack | undefined,
    onError: OnListenerError,
    clock: Clock,
  ) {
    super(onError);
    this.id = id;
    this.#pc = pc;
    this.#outbound = outbound;
    this.#failure = new FailedConnection(clock, FAILED_MEDIA_GRACE_MS, () => this.#end('connection failed'));
  }

  /** Answers a WHIP offer. Throws when the stack cannot use the offer. */
  static async answer(
    id: string,
    offer: string,
    sendBack: boolean,
    ice: IceOptions,
    onError: OnListenerError,
  ): Promise<{ session: SpeakerSession; answer: string }> {
    const local = new Set(ice.addresses);
    const pc = new RTCPeerConnection({
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2, payloadType: OPUS_PT })],
      },
      iceInterfaceAddresses: { udp4: ice.addresses[0] },
      iceAdditionalHostAddresses: [...ice.addresses],
      iceUseIpv6: false,
      ...ice.network,
      // werift also gathers on every other interface of the machine (from sockets bound to the first
      // address): those candidates are not in the answer, but each would still pair with every
      // remote candidate and send checks. Pairs: remote candidates (capped) x the stage's addresses.
      iceFilterCandidatePair: (pair) =>
        local.has(pair.localCandidate.host) &&
        refuseAddress(pair.remoteCandidate.host, pair.remoteCandidate.port, ice.remote) === undefined,
    });
    // werift announces the remote track during setRemoteDescription, so listen before it.
    let session: SpeakerSession | undefined;
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        if (session === undefined) return;
        session.#failure.media();
        session.bytesIn += rtp.payload.length;
        if (rtp.payload.length > SILENT_PACKET_BYTES) session.soundPackets++;
        session.emit('audio', { rtpTimestamp: rtp.header.timestamp, payload: rtp.payload });
      });
    });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      fastSrtp(pc); // the transports exist now; DTLS starts once ICE connects
      const transceiver = pc.getTransceivers().find((t) => t.kind === 'audio');
      if (transceiver === undefined) throw new Error('no audio transceiver');
      let outbound: MediaStreamTrack | undefined;
      if (sendBack) {
        outbound = new MediaStreamTrack({ kind: 'audio' });
        transceiver.setDirection('sendrecv');
        await transceiver.sender.replaceTrack(outbound);
      }
      const created = new SpeakerSession(id, pc, outbound, onError, ice.clock ?? systemClock);
      session = created;
      pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') created.#connected = true;
        if (state === 'closed') created.#end('connection closed');
        else created.#failure.state(state);
      });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc, ice.gatherTimeoutMs);
      const local = pc.localDescription?.sdp;
      if (local === undefined) throw new Error('no local description');
      return { session: created, answer: keepCandidates(local, ice.addresses) };
    } catch (error) {
      await pc.close();
      throw error;
    }
  }

  /** Adds a trickled remote candidate (`candidate:...`). */
  async addCandidate(candidate: string): Promise<void> {
    await this.#pc.addIceCandidate({ candidate, sdpMLineIndex: 0 });
  }

  /** Sends one Opus packet back to the speaker (their mix-minus), if they asked to receive. */
  send(packet: Uint8Array, samples: number): void {
    if (this.#outbound === undefined || this.#closed) return;
    this.#outbound.writeRtp(
      new RtpPacket(
        new RtpHeader({ payloadType: OPUS_PT, sequenceNumber: this.#sequence, timestamp: this.#timestamp }),
        Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength),
      ),
    );
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + samples) >>> 0;
  }

  get receivesAudio(): boolean {
    return this.#outbound !== undefined;
  }

  /**
   * Whether the speaker's microphone has been heard: half a second of packets bigger than Opus sends
   * for silence (its silent frames are a few bytes; speech and tones take 40–160). The backstage
   * status shows it to the waiting audience ("mic checked"); nothing is decoded for it.
   */
  get heard(): boolean {
    return this.soundPackets >= HEARD_PACKETS;
  }

  /** Whether ICE and DTLS have been up (the stage closes sessions that never get there). */
  get connected(): boolean {
    return this.#connected;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent. */
  close(reason = 'closed by the stage'): void {
    this.#end(reason);
  }

  #end(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failure.stop();
    this.#pc.close().catch(() => {});
    this.emit('closed', { reason });
  }
}

/** Resolves when ICE gathering completes, or after `timeoutMs` (then with the candidates so far). */
export function gathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
