import { errorOf } from './api.ts';
import { playStream } from './audio.ts';
import { Refusal, supervise, type Link, type LinkStatus } from './reconnect.ts';
import { parseIceServerLinks } from '../../src/shared/ice-servers.ts';

/** A browser speaker on the stage: microphone out over WHIP, the other speakers' mix back. */
export interface StageConnection {
  setMuted(muted: boolean): void;
  /**
   * Leaves the stage: no more reconnects, the microphone released, and the WHIP session deleted
   * unless `deleteSession` is false (the stage ended it already: the Space ended, a removal).
   */
  close(deleteSession?: boolean): Promise<void>;
}

/** A stage credential (`POST /api/spaces/:id/stage`): where to publish and the token to do it with. */
export interface StageGrant {
  readonly whipUrl: string;
  readonly token: string;
}

/** How long a connection may stay `disconnected` (ICE may come back by itself) before it counts as lost. */
const DISCONNECTED_GRACE_MS = 3000;

/**
 * WHIP refusals that a new credential and a new offer cannot change: a bad or codec-less offer
 * (400), wrong content type (415), not allowed on this stage (403: removed, not on stage) and the
 * Space's state (409: ended, not live). A 401 (the stage restarted with our token in flight), 404,
 * 408, 429, 5xx and the network are worth another try.
 */
function refuses(status: number): boolean {
  return status >= 400 && status < 500 && ![401, 404, 408, 429].includes(status);
}

/**
 * Joins the stage with `first`, then keeps the speaker on it by itself: when the connection drops
 * without the speaker asking (the peer connection `failed`, closed by the stage, or `disconnected`
 * for 3 s; a server restart does all three), it asks `credential()` for a fresh WHIP URL and token
 * and publishes the same microphone track on a new peer connection, with jittered exponential
 * backoff, until the speaker leaves or the server refuses for good (`credential()` or the stage
 * throws a `Refusal`: moved to the audience, removed, the Space ended). `onStatus` hears
 * `reconnecting` (with the attempt), `connected` and `stopped` (the microphone is then released).
 * The first connection's errors are thrown.
 */
export async function joinStage(
  first: StageGrant,
  credential: () => Promise<StageGrant>,
  microphone: MediaStream,
  onStatus: (status: LinkStatus) => void,
): Promise<StageConnection> {
  const release = () => {
    for (const track of microphone.getTracks()) track.stop();
  };
  let sessionGone = false;
  const gone = () => sessionGone;
  let up: Link;
  try {
    up = await publish(first, microphone, gone);
  } catch (error) {
    release();
    throw error;
  }
  const supervisor = supervise(async () => publish(await credential(), microphone, gone), {
    first: up,
    onStatus: (status) => {
      if (status.kind === 'stopped') release();
      onStatus(status);
    },
  });
  return {
    setMuted(muted) {
      for (const track of microphone.getAudioTracks()) track.enabled = !muted;
    },
    async close(deleteSession = true) {
      sessionGone = !deleteSession;
      await supervisor.close();
      release();
    },
  };
}

/** One WHIP session: a peer connection sending the microphone, the mix-minus played back; `gone()`: no DELETE needed. */
async function publish(grant: StageGrant, microphone: MediaStream, gone: () => boolean): Promise<Link> {
  // The stage's TURN servers first (RFC 9725 §4.6), so the one offer carries relay candidates too.
  const pc = new RTCPeerConnection({ iceServers: await iceServers(grant) });
  let stopPlayback = () => {};
  try {
    for (const track of microphone.getAudioTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [microphone] });
    pc.ontrack = (event) => {
      stopPlayback();
      stopPlayback = playStream(event.streams[0] ?? new MediaStream([event.track]));
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const res = await fetch(grant.whipUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${grant.token}` },
      body: pc.localDescription?.sdp ?? '',
    });
    if (res.status !== 201) {
      const error = errorOf(await res.json().catch(() => undefined));
      const message = error?.message ?? `The stage refused the connection (${res.status})`;
      throw refuses(res.status) ? new Refusal(message) : new Error(message);
    }
    const location = new URL(res.headers.get('location') ?? '', grant.whipUrl).toString();
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    return {
      dropped: lost(pc),
      async close() {
        if (!gone())
          await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${grant.token}` } }).catch(() => undefined);
        pc.close();
        stopPlayback();
      },
    };
  } catch (error) {
    pc.close();
    stopPlayback();
    throw error;
  }
}

/**
 * The ICE servers (TURN, with credentials for this speaker) the stage names in the Link headers of an
 * OPTIONS to its WHIP URL; none if it names none or does not answer in 3 s (direct UDP may still work).
 */
async function iceServers(grant: StageGrant): Promise<RTCIceServer[]> {
  try {
    const res = await fetch(grant.whipUrl, {
      method: 'OPTIONS',
      headers: { authorization: `Bearer ${grant.token}` },
      signal: AbortSignal.timeout(3000),
    });
    return parseIceServerLinks(res.headers.get('link')).map((s) => ({ ...s }));
  } catch {
    return [];
  }
}

/** Resolves once ICE gathering is complete (every candidate goes in the one offer), or after 2 s. */
function gathered(pc: RTCPeerConnection): Promise<void> {
  return new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 2000);
  });
}

/**
 * Resolves when the connection is lost: `failed`, `closed`, or `disconnected` for longer than the
 * grace. The stage closing its side (a restart, a removal) ends DTLS at once, which the transport
 * says before ICE notices the silence, so that is watched too.
 */
function lost(pc: RTCPeerConnection): Promise<void> {
  return new Promise<void>((resolve) => {
    let grace: ReturnType<typeof setTimeout> | undefined;
    pc.addEventListener('connectionstatechange', () => {
      clearTimeout(grace);
      const state = pc.connectionState;
      if (state === 'failed' || state === 'closed') resolve();
      else if (state === 'disconnected') grace = setTimeout(resolve, DISCONNECTED_GRACE_MS);
    });
    for (const transport of new Set(pc.getSenders().map((s) => s.transport))) {
      transport?.addEventListener('statechange', () => {
        if (transport.state === 'closed' || transport.state === 'failed') resolve();
      });
    }
  });
}
