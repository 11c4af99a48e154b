import { isIP, isIPv4 } from 'node:net';
import type { Config } from '../config/schema.ts';

/**
 * Which remote ICE candidates the stage sends connectivity checks (STUN) to. A WHIP offer or trickle
 * PATCH names the addresses; unfiltered, any signed-up host could make the stage send STUN to any
 * host and port (a scanner of our own network, a reflector towards others). The stage is IPv4 only
 * (werift runs with `iceUseIpv6: false`). With `stage.iceTcp` it also listens for ICE-TCP, and then
 * takes a speaker's active TCP candidates (RFC 6544; they name no port, the speaker dials the stage);
 * it never dials out, so passive and simultaneous-open TCP candidates are refused.
 */
export interface CandidatePolicy {
  readonly allowLoopback: boolean;
  readonly allowPrivate: boolean;
  readonly minPort: number;
  readonly maxPort: number;
  /** Candidates taken per session, over the offer and every PATCH: bounds the checks one session makes. */
  readonly maxPerSession: number;
  /** Active ICE-TCP candidates are taken (the stage listens for ICE-TCP). */
  readonly acceptTcp: boolean;
}

/** Why a remote candidate was not given to the WebRTC stack. */
export type Refusal =
  | 'malformed'
  | 'transport'
  | 'hostname'
  | 'ipv6'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'link-local'
  | 'loopback'
  | 'private'
  | 'port'
  | 'duplicate'
  | 'cap';

type AddressClass =
  'public' | 'loopback' | 'private' | Extract<Refusal, 'unspecified' | 'multicast' | 'broadcast' | 'reserved' | 'link-local'>;

/** Resolves the config's 'auto': loopback (private) peers only when the stage itself serves that network. */
export function candidatePolicy(
  stage: Pick<Config['stage'], 'iceAddresses' | 'remoteCandidates'> & Partial<Pick<Config['stage'], 'iceTcp'>>,
): CandidatePolicy {
  const own = stage.iceAddresses.map((a) => (isIPv4(a) ? ipv4Class(a) : 'public'));
  const { allowLoopback, allowPrivate, minPort, maxPort, maxPerSession } = stage.remoteCandidates;
  return {
    allowLoopback: allowLoopback === 'auto' ? own.includes('loopback') : allowLoopback,
    allowPrivate: allowPrivate === 'auto' ? own.includes('private') : allowPrivate,
    minPort,
    maxPort,
    maxPerSession,
    acceptTcp: stage.iceTcp === true,
  };
}

/** The class of a dotted-quad IPv4 address (callers check `isIPv4` first). */
function ipv4Class(address: string): AddressClass {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (a === 0) return 'unspecified'; // 0.0.0.0/8, "this network"
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a >= 224 && a <= 239) return 'multicast';
  if (address === '255.255.255.255') return 'broadcast';
  if (a >= 240) return 'reserved';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // 100.64.0.0/10, carrier-grade NAT
  return 'public';
}

/** Whether the stage may send checks to this address and port; undefined when it may. */
export function refuseAddress(host: string, port: number, policy: CandidatePolicy): Refusal | undefined {
  if (!isIPv4(host)) {
    // Anything else werift would resolve first: mDNS `.local` names, DNS names, '127.1'.
    return isIP(host) === 6 ? 'ipv6' : 'hostname';
  }
  const kind = ipv4Class(host);
  if (kind === 'loopback' && !policy.allowLoopback) return 'loopback';
  if (kind === 'private' && !policy.allowPrivate) return 'private';
  if (kind !== 'public' && kind !== 'loopback' && kind !== 'private') return kind;
  if (!Number.isInteger(port) || port < policy.minPort || port > policy.maxPort) return 'port';
  return undefined;
}

/**
 * One session's remote candidates: each is judged by the policy, and at most `maxPerSession`
 * distinct ones are let through over the session's life (the offer, then every trickle PATCH).
 */
export class CandidateBudget {
  readonly #policy: CandidatePolicy;
  readonly #taken = new Set<string>();

  constructor(policy: CandidatePolicy) {
    this.#policy = policy;
  }

  /**
   * Judges one candidate's text (what follows `candidate:`), split on single spaces exactly as werift
   * parses it: `foundation component transport priority address port typ type ...`. Undefined when
   * it may go to the stack (it is then counted), else why not.
   */
  admit(text: string): Refusal | undefined {
    const bits = text.split(' ');
    if (bits.length < 8 || bits[6] !== 'typ') return 'malformed';
    const transport = bits[2]?.toLowerCase();
    const host = bits[4] ?? '';
    let key: string;
    let refused: Refusal | undefined;
    if (transport === 'tcp') {
      // An active candidate's port is a placeholder (9): the stage checks only its address.
      const tcptype = bits.indexOf('tcptype', 8);
      if (!this.#policy.acceptTcp || tcptype < 0 || bits[tcptype + 1] !== 'active') return 'transport';
      refused = refuseAddress(host, this.#policy.minPort, this.#policy);
      key = `tcp ${host}`;
    } else if (transport === 'udp') {
      const portText = bits[5] ?? '';
      const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
      refused = refuseAddress(host, port, this.#policy);
      key = `${host}:${port}`;
    } else return 'transport';
    if (refused !== undefined) return refused;
    if (this.#taken.has(key)) return 'duplicate';
    if (this.#taken.size >= this.#policy.maxPerSession) return 'cap';
    this.#taken.add(key);
    return undefined;
  }
}

/**
 * The offer with only the candidate lines the budget admits. Lines are split as werift splits them
 * and joined with CRLF, so the stack parses exactly the lines judged here.
 */
export function filterOfferCandidates(sdp: string, budget: CandidateBudget): { sdp: string; dropped: Refusal[] } {
  const dropped: Refusal[] = [];
  const kept = sdp.split(/\r?\n/).filter((line) => {
    if (!line.startsWith('a=candidate')) return true;
    const refused = line.startsWith('a=candidate:') ? budget.admit(line.slice('a=candidate:'.length)) : 'malformed';
    if (refused !== undefined) dropped.push(refused);
    return refused === undefined;
  });
  return { sdp: kept.join('\r\n'), dropped };
}
