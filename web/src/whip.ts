import { errorOf } from './api.ts';
import { playStream } from './audio.ts';

/** A browser speaker on the stage: microphone out over WHIP, the other speakers' mix back. */
export interface StageConnection {
  setMuted(muted: boolean): void;
  close(): Promise<void>;
}

export async function joinStage(whipUrl: string, token: string, microphone: MediaStream): Promise<StageConnection> {
  const pc = new RTCPeerConnection();
  for (const track of microphone.getAudioTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [microphone] });
  pc.ontrack = (event) => playStream(event.streams[0] ?? new MediaStream([event.track]));
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 2000);
  });
  const res = await fetch(whipUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
    body: pc.localDescription?.sdp ?? '',
  });
  if (res.status !== 201) {
    pc.close();
    const error = errorOf(await res.json().catch(() => undefined));
    throw new Error(error?.message ?? `The stage refused the connection (${res.status})`);
  }
  const location = new URL(res.headers.get('location') ?? '', whipUrl).toString();
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return {
    setMuted(muted) {
      for (const track of microphone.getAudioTracks()) track.enabled = !muted;
    },
    async close() {
      await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
      pc.close();
      for (const track of microphone.getTracks()) track.stop();
    },
  };
}
