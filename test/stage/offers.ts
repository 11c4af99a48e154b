/**
 * WHIP offers written by hand, as a hostile client would send them: valid enough for werift to
 * answer (ICE credentials, a DTLS fingerprint, Opus), with whatever candidate lines the test names.
 * No client peer connection is needed, so nothing is left open on the client side.
 */
export function handOffer(candidates: readonly string[] = [], direction: 'sendrecv' | 'sendonly' = 'sendonly'): string {
  const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:hOst',
    'a=ice-pwd:abcdefghijklmnopqrstuvwx',
    `a=fingerprint:sha-256 ${fingerprint}`,
    'a=setup:actpass',
    'a=mid:0',
    `a=${direction}`,
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    ...candidates.map((c) => `a=${c}`),
    '',
  ].join('\r\n');
}

/** A host candidate line's value (`candidate:...`) for an address and port. */
export function hostCandidate(address: string, port: number, foundation = 1, transport = 'udp'): string {
  return `candidate:${foundation} 1 ${transport} 2130706431 ${address} ${port} typ host`;
}
