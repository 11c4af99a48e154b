import { createHash } from 'node:crypto';

/**
 * The little SDP handling the stage needs before a WebRTC stack sees an offer: reject what is not an
 * audio offer with Opus (a clear 4xx instead of a stack error), read the audio direction, and keep
 * only ICE candidates on the addresses the stage is configured to use.
 */
export type OfferCheck =
  | { readonly ok: true; readonly direction: 'sendrecv' | 'sendonly'; readonly opusPayloadType: number }
  | { readonly ok: false; readonly reason: 'WHIP_SDP_INVALID' | 'WHIP_CODEC_UNSUPPORTED'; readonly detail: string };

const MAX_SDP_BYTES = 16_384;

export function checkOffer(sdp: string): OfferCheck {
  if (sdp.length > MAX_SDP_BYTES) return { ok: false, reason: 'WHIP_SDP_INVALID', detail: 'offer larger than 16 KiB' };
  const lines = sdp.split(/\r?\n/);
  if (lines[0]?.trim() !== 'v=0') return { ok: false, reason: 'WHIP_SDP_INVALID', detail: 'an SDP offer starts with v=0' };
  if (!lines.some((l) => l.startsWith('a=fingerprint:'))) {
    return { ok: false, reason: 'WHIP_SDP_INVALID', detail: 'no DTLS fingerprint (a=fingerprint)' };
  }
  const media = lines.filter((l) => l.startsWith('m='));
  const audioIndex = lines.findIndex((l) => l.startsWith('m=audio '));
  if (audioIndex < 0)
    return { ok: false, reason: 'WHIP_CODEC_UNSUPPORTED', detail: 'no audio m-line: the stage takes Opus audio' };
  if (media.length > 2) return { ok: false, reason: 'WHIP_SDP_INVALID', detail: 'too many m-lines' };
  const end = lines.findIndex((l, i) => i > audioIndex && l.startsWith('m='));
  const section = lines.slice(audioIndex, end < 0 ? undefined : end);
  const opus = section.map((l) => /^a=rtpmap:(\d+) opus\/48000(\/2)?\s*$/i.exec(l)).find((m) => m !== null);
  if (opus === undefined || opus === null) {
    return { ok: false, reason: 'WHIP_CODEC_UNSUPPORTED', detail: 'the audio m-line offers no opus/48000' };
  }
  const direction = section.some((l) => l.trim() === 'a=sendonly') ? 'sendonly' : 'sendrecv';
  if (section.some((l) => l.trim() === 'a=recvonly' || l.trim() === 'a=inactive')) {
    return { ok: false, reason: 'WHIP_SDP_INVALID', detail: 'a WHIP offer must send audio (sendonly or sendrecv)' };
  }
  return { ok: true, direction, opusPayloadType: Number(opus[1]) };
}

/** Drops candidates whose address is not one of `addresses` (e.g. keep media on loopback). */
export function keepCandidates(sdp: string, addresses: readonly string[]): string {
  const allowed = new Set(addresses);
  return sdp
    .split('\r\n')
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      const address = line.split(' ')[4];
      return address !== undefined && allowed.has(address);
    })
    .join('\r\n');
}

/** Candidate lines of a trickle-ice-sdpfrag body (RFC 8840), without the `a=` prefix. */
export function fragmentCandidates(fragment: string): string[] {
  return fragment
    .split(/\r?\n/)
    .filter((l) => l.startsWith('a=candidate:'))
    .map((l) => l.slice(2).trim());
}

/**
 * The WHIP ETag of an answer (RFC 9725 §4.3): names its ICE session, so it is made from the answer's
 * ice-ufrag and ice-pwd (a restart would change both). A strong entity tag, quoted.
 */
export function iceSessionTag(answer: string): string {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(answer)?.[1] ?? '';
  const pwd = /^a=ice-pwd:(\S+)/m.exec(answer)?.[1] ?? '';
  return `"${createHash('sha256').update(`${ufrag}:${pwd}`).digest('base64url').slice(0, 22)}"`;
}

/** Whether an If-Match header (absent, `*`, or a list of entity tags) lets a request on `etag` through. */
export function ifMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  const tags = header.split(',').map((t) => t.trim()); // strong comparison: a weak W/ tag never matches
  return tags.includes('*') || tags.includes(etag);
}
