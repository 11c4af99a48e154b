import { isIPv4 } from 'node:net';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { parseIceServerLinks, type IceServer } from '../shared/ice-servers.ts';
import { gathered } from '../stage/session.ts';

const OPUS_PT = 111;

/** A WHIP request the stage refused, with its status and the error code of its body. */
export class WhipRefused extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface WhipOptions {
  readonly url: string;
  readonly token: string;
  /** ICE servers to use instead of those the stage names (`--turn`). */
  readonly iceServers?: readonly IceServer[];
  /** How long ICE gathering may take (a TURN allocation over TCP included). */
  readonly gatherTimeoutMs?: number;
}

/**
 * One WHIP session from a werift peer connection: ICE servers from the stage's Link headers (an
 * OPTIONS first, so the offer carries the relay candidates; a 201 naming servers the offer did not
 * use is published again with them), the whole offer at once (no trickle), Opus RTP out.
 */
export class WhipSession {
  readonly #pc: RTCPeerConnection;
  readonly #track: MediaStreamTrack;
  readonly #location: string;
  readonly #token: string;
  readonly etag: string | undefined;
  readonly iceServers: readonly IceServer[];
  #sequence = Math.floor(Math.random() * 0xffff);
  #timestamp = Math.floor(Math.random() * 0xffffffff);
  #closed = false;

  private constructor(
    pc: RTCPeerConnection,
    track: MediaStreamTrack,
    location: string,
    token: string,
    etag: string | undefined,
    servers: readonly IceServer[],
  ) {
    this.#pc = pc;
    this.#track = track;
    this.#location = location;
    this.#token = token;
    this.etag = etag;
    this.iceServers = servers;
  }

  /** Publishes: resolves once the stage has answered (201); `connected()` waits for ICE and DTLS. */
  static async open(options: WhipOptions): Promise<WhipSession> {
    const first = options.iceServers ?? (await optionsIceServers(options));
    const session = await WhipSession.#post(options, first);
    const named = parseIceServerLinks(session.answerLinks);
    if (options.iceServers !== undefined || named.length === 0 || sameServers(named, first)) return session.session;
    // The stage names servers its OPTIONS did not: publish again with them in the offer.
    await session.session.close();
    return (await WhipSession.#post(options, named)).session;
  }

  static async #post(
    options: WhipOptions,
    servers: readonly IceServer[],
  ): Promise<{ session: WhipSession; answerLinks: string | null }> {
    const pc = new RTCPeerConnection({
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2, payloadType: OPUS_PT })],
      },
      iceServers: servers.map((s) => ({ ...s })),
      iceUseIpv6: false,
      // werift skips loopback unless named: a stage on this machine is reached there.
      iceAdditionalHostAddresses: isLoopback(new URL(options.url).hostname) ? ['127.0.0.1'] : undefined,
      // Active ICE-TCP candidates (RFC 6544): reach a stage's passive TCP ports where UDP is blocked.
      iceUseTcp: true,
      iceTcpPassive: false,
    });
    try {
      const track = new MediaStreamTrack({ kind: 'audio' });
      pc.addTransceiver(track, { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, options.gatherTimeoutMs ?? 10_000);
      const offer = usefulCandidates(pc.localDescription!.sdp, new URL(options.url).hostname);
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${options.token}` },
        body: offer,
        signal: AbortSignal.timeout(20_000),
      });
      if (res.status !== 201) throw await refusal(res);
      const location = new URL(res.headers.get('location') ?? '', options.url).toString();
      const session = new WhipSession(pc, track, location, options.token, res.headers.get('etag') ?? undefined, servers);
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      } catch (error) {
        await session.close();
        throw error;
      }
      return { session, answerLinks: res.headers.get('link') };
    } catch (error) {
      await pc.close();
      throw error;
    }
  }

  /** Resolves once ICE and DTLS are up; rejects if the connection fails or `timeoutMs` passes. */
  connected(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#pc.connectionState === 'connected') {
        resolve();
        return;
      }
      const timer = setTimeout(
        () => reject(new Error(`no connection within ${timeoutMs / 1000} s (ICE ${this.#pc.iceConnectionState})`)),
        timeoutMs,
      );
      this.#pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') {
          clearTimeout(timer);
          resolve();
        } else if (state === 'failed' || state === 'closed') {
          clearTimeout(timer);
          reject(new Error(`connection ${state}`));
        }
      });
    });
  }

  /** Resolves when the connection ends by itself (failed or closed by the stage). */
  ended(): Promise<string> {
    return new Promise((resolve) =>
      this.#pc.connectionStateChange.subscribe((state) => {
        if (state === 'failed' || state === 'closed') resolve(`connection ${state}`);
      }),
    );
  }

  /** The pair ICE chose, e.g. "relay udp -> host udp 10.0.0.1:40000" (werift may misname the local address). */
  get path(): string {
    const transport = this.#pc.getTransceivers()[0]?.sender.dtlsTransport.iceTransport;
    const pair = transport?.connection.nominated;
    if (pair === undefined) return 'unknown';
    const l = pair.localCandidate;
    const r = pair.remoteCandidate;
    return `${l.type} ${l.transport} -> ${r.type} ${r.transport} ${r.host}:${r.port}`;
  }

  /** Sends one Opus packet (20 ms at 48 kHz). */
  send(packet: Uint8Array, samples = 960): void {
    if (this.#closed) return;
    const header = new RtpHeader({ payloadType: OPUS_PT, sequenceNumber: this.#sequence, timestamp: this.#timestamp });
    this.#track.writeRtp(new RtpPacket(header, Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength)));
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + samples) >>> 0;
  }

  /** DELETEs the session (bounded: the stage may be gone) and closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await fetch(this.#location, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${this.#token}` },
        signal: AbortSignal.timeout(3000),
      }).then((r) => r.arrayBuffer());
    } catch {
      // The stage is gone or unreachable: nothing left to end there.
    } finally {
      await this.#pc.close();
    }
  }
}

/** RFC 9725 §4.6: the ICE servers an OPTIONS to the WHIP endpoint names (none if it names none or fails). */
async function optionsIceServers(options: WhipOptions): Promise<IceServer[]> {
  try {
    const res = await fetch(options.url, {
      method: 'OPTIONS',
      headers: { authorization: `Bearer ${options.token}` },
      signal: AbortSignal.timeout(5000),
    });
    await res.arrayBuffer();
    return res.ok ? parseIceServerLinks(res.headers.get('link')) : [];
  } catch {
    return [];
  }
}

async function refusal(res: Response): Promise<WhipRefused> {
  const text = await res.text().catch(() => '');
  let code = `HTTP_${res.status}`;
  let message = text.slice(0, 200) || res.statusText;
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
    if (typeof body.error?.details === 'string') message += ` (${body.error.details})`;
  } catch {
    // Not our JSON shape (a proxy's page): keep the start of the text.
  }
  return new WhipRefused(res.status, code, message);
}

const sameServers = (a: readonly IceServer[], b: readonly IceServer[]) =>
  a.length === b.length && a.every((s, i) => s.urls === b[i]?.urls);

/**
 * The offer's candidates that can reach the stage: loopback ones only for a stage on loopback, none
 * for one elsewhere (and IPv4 only: the stage is IPv4). Relay candidates (TURN) always stay.
 */
export function usefulCandidates(sdp: string, stageHost: string): string {
  const stageLoopback = isLoopback(stageHost);
  return sdp
    .split('\r\n')
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      const bits = line.split(' ');
      const address = bits[4] ?? '';
      if (bits[7] === 'relay') return true;
      if (!isIPv4(address)) return false;
      return address.startsWith('127.') === stageLoopback;
    })
    .join('\r\n');
}

const isLoopback = (host: string) => host === 'localhost' || host.startsWith('127.');
