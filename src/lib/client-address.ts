import proxyAddr from '@fastify/proxy-addr';
import type { IncomingMessage } from 'node:http';

/**
 * Which `X-Forwarded-For` entries to believe (`server.trustProxy`): none (false), a hop count (true is one
 * hop: the one proxy in front appended the client's address), or the proxies' own addresses and CIDRs.
 * Never "every hop": the leftmost entry is whatever the client wrote.
 */
export type TrustProxy = boolean | number | readonly string[];

/** Whether the hop-th address from the socket inward is a proxy to believe; false trusts none. */
export type TrustedHop = (address: string, hop: number) => boolean;

/** The policy as a function: Fastify's `trustProxy` option takes it too, so `request.ip` and the door agree. */
export function trustedHop(trust: TrustProxy): TrustedHop | false {
  if (trust === false) return false;
  const hops = trust === true ? 1 : trust;
  if (typeof hops === 'number') return (_address, hop) => hop < hops;
  return proxyAddr.compile([...hops]);
}

/** The client's address of a raw request under `trust`: the listener door's twin of Fastify's `request.ip`. */
export function clientAddress(trust: TrustProxy): (req: IncomingMessage) => string {
  const trusted = trustedHop(trust);
  if (trusted === false) return (req) => req.socket.remoteAddress ?? '';
  return (req) => proxyAddr(req, trusted);
}
