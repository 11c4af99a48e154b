import assert from 'node:assert/strict';
import { KeyObject, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtcpSrPacket,
  RtcpSenderInfo,
  RtpHeader,
  type RTCPeerConnection,
  SrtcpSession,
  SrtpSession,
} from 'werift';
import { fastSrtp, keyObjectsFor } from '../../src/stage/srtp-keys.ts';

/** Two ends of one SRTP association, as DTLS would key them (a's local keys are b's remote ones). */
function pair<S>(profile: number, Session: new (config: ConstructorParameters<typeof SrtpSession>[0]) => S) {
  const saltBytes = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  const [k1, s1, k2, salt2] = [randomBytes(16), randomBytes(saltBytes), randomBytes(16), randomBytes(saltBytes)];
  const a = new Session({
    keys: { localMasterKey: k1, localMasterSalt: s1, remoteMasterKey: k2, remoteMasterSalt: salt2 },
    profile,
  });
  const b = new Session({
    keys: { localMasterKey: k2, localMasterSalt: salt2, remoteMasterKey: k1, remoteMasterSalt: s1 },
    profile,
  });
  const plain = new Session({
    keys: { localMasterKey: k1, localMasterSalt: s1, remoteMasterKey: k2, remoteMasterSalt: salt2 },
    profile,
  });
  return { a, b, plain };
}

const header = (seq: number) => new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 960, ssrc: 1234 });

for (const [name, profile] of [
  ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm],
  ['AES128_CM_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80],
] as const) {
  describe(`SRTP keys as KeyObjects (${name})`, () => {
    test('every session key becomes a KeyObject, and the packets on the wire are the same bytes', () => {
      const { a, b, plain } = pair(profile, SrtpSession);
      const converted = keyObjectsFor(a);
      assert.ok(converted >= 4, `${converted} keys converted`);
      const cipher = (a as unknown as { localContext: { cipher: Record<string, unknown> } }).localContext.cipher;
      assert.ok(cipher.srtpSessionKey instanceof KeyObject);
      keyObjectsFor(b);
      for (let seq = 65530; seq < 65550; seq++) {
        const payload = randomBytes(80 + (seq % 7));
        const wire = a.encrypt(payload, header(seq & 0xffff));
        assert.deepEqual(wire, plain.encrypt(payload, header(seq & 0xffff)), 'same ciphertext as with Buffer keys');
        const back = b.decrypt(wire);
        assert.deepEqual(back.subarray(back.length - payload.length), payload, 'the other end decrypts it');
      }
      assert.equal(keyObjectsFor(a), 0, 'idempotent: nothing left to convert');
    });

    test('SRTCP too: a converted end and a plain one understand each other', () => {
      const { a, b } = pair(profile, SrtcpSession);
      keyObjectsFor(a);
      const sr = new RtcpSrPacket({
        ssrc: 1234,
        senderInfo: new RtcpSenderInfo({ ntpTimestamp: 1n, rtpTimestamp: 2, packetCount: 3, octetCount: 4 }),
      });
      const raw = sr.serialize();
      const back = b.decrypt(a.encrypt(raw));
      assert.deepEqual(back.subarray(0, raw.length), raw);
    });
  });
}

describe('fastSrtp', () => {
  test('keys derived by each DTLS handshake, the first and any later one, become KeyObjects', () => {
    const keys = () => ({
      keys: {
        localMasterKey: randomBytes(16),
        localMasterSalt: randomBytes(12),
        remoteMasterKey: randomBytes(16),
        remoteMasterSalt: randomBytes(12),
      },
      profile: ProtectionProfileAeadAes128Gcm,
    });
    // The part of werift's RTCDtlsTransport fastSrtp touches: DTLS calls updateSrtpSession once keyed.
    const transport = {
      srtp: undefined as SrtpSession | undefined,
      srtcp: undefined as SrtcpSession | undefined,
      updateSrtpSession() {
        this.srtp = new SrtpSession(keys());
        this.srtcp = new SrtcpSession(keys());
      },
    };
    fastSrtp({ dtlsTransports: [transport] } as unknown as RTCPeerConnection);
    const keyOf = (s: SrtpSession | SrtcpSession | undefined) =>
      (s as unknown as { remoteContext: { cipher: { srtpSessionKey: unknown; srtcpSessionKey: unknown } } }).remoteContext.cipher;
    for (let handshake = 0; handshake < 2; handshake++) {
      transport.updateSrtpSession();
      assert.ok(keyOf(transport.srtp).srtpSessionKey instanceof KeyObject, `SRTP, handshake ${handshake}`);
      assert.ok(keyOf(transport.srtcp).srtcpSessionKey instanceof KeyObject, `SRTCP, handshake ${handshake}`);
    }
  });
});
