import { createSecretKey, type KeyObject } from 'node:crypto';
import type { RTCPeerConnection } from 'werift';

/**
 * werift encrypts and decrypts each SRTP packet with a new `createCipheriv` (and, for
 * AES_CM_HMAC_SHA1, a new `createHmac`) keyed by a Buffer. Node then checks on every call whether
 * that Buffer is a KeyObject or a CryptoKey, and the failing checks throw and catch inside: 28 us a
 * packet against 6 us with a KeyObject (measured, AES-128-GCM), the biggest cost on the stage after
 * Opus. So the session keys, once DTLS has derived them, are turned into KeyObjects holding the same
 * bytes: the same ciphers with the same keys, the same packets on the wire.
 */
const KEY_FIELDS = ['srtpSessionKey', 'srtcpSessionKey', 'srtpSessionAuthTag', 'srtcpSessionAuthTag'] as const;

type Keys = Partial<Record<(typeof KEY_FIELDS)[number], Buffer | KeyObject>>;
interface Context {
  readonly cipher?: Keys;
}
interface Session {
  readonly localContext?: Context;
  readonly remoteContext?: Context;
}
/** The part of werift's `RTCDtlsTransport` this touches (not in its public types). */
interface SrtpTransport {
  srtp?: Session;
  srtcp?: Session;
  updateSrtpSession(): void;
}

/** Replaces a werift SRTP or SRTCP session's Buffer keys with KeyObjects of the same bytes. Returns how many. */
export function keyObjectsFor(session: Session | undefined): number {
  let n = 0;
  for (const context of [session?.localContext, session?.remoteContext]) {
    const cipher = context?.cipher;
    if (cipher === undefined) continue;
    for (const field of KEY_FIELDS) {
      const key = cipher[field];
      if (Buffer.isBuffer(key)) {
        cipher[field] = createSecretKey(key);
        n++;
      }
    }
  }
  return n;
}

/**
 * Makes the connection's SRTP use KeyObjects from the moment DTLS derives its keys (and after any new
 * handshake). Call it once the transports exist (after the remote description for an answerer, the
 * local one for an offerer) and before ICE connects; a session already started is converted at once.
 */
export function fastSrtp(pc: RTCPeerConnection): void {
  for (const transport of pc.dtlsTransports as unknown as SrtpTransport[]) {
    const derive = transport.updateSrtpSession.bind(transport);
    transport.updateSrtpSession = () => {
      derive();
      keyObjectsFor(transport.srtp);
      keyObjectsFor(transport.srtcp);
    };
    keyObjectsFor(transport.srtp);
    keyObjectsFor(transport.srtcp);
  }
}
