import { createHmac } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import type { IceServer } from '../shared/ice-servers.ts';

type StageNetwork = Pick<Config['stage'], 'iceAddresses' | 'icePortRange' | 'iceTcp' | 'turn'>;

/**
 * The stage's network settings checked across fields, with messages that say what to change. The
 * config loader checks each key's shape; the stage calls this when it starts (and `amphi start`
 * fails with the message).
 */
export function checkStageNetwork(stage: StageNetwork): void {
  const problem = networkProblem(stage);
  if (problem !== undefined) throw new Error(`invalid configuration: ${problem}`);
}

/** What is wrong with the stage's network settings across fields, if anything. */
export function networkProblem(stage: StageNetwork): string | undefined {
  const range = stage.icePortRange;
  // werift needs two ports at least ("Minimum port and Maximum port must not be the same value").
  if (range !== null && range.min >= range.max)
    return `stage.icePortRange.min (${range.min}) must be less than max (${range.max})`;
  if (stage.iceAddresses.includes('0.0.0.0'))
    return 'stage.iceAddresses: 0.0.0.0 is not an address speakers can reach; give the machine’s public (or LAN) address';
  const { urls, secret, username, credential } = stage.turn;
  if ((username === null) !== (credential === null))
    return 'stage.turn: username and credential go together (fixed TURN credentials), or set neither';
  if (secret !== null && username !== null)
    return 'stage.turn: set either secret (time-limited credentials) or username/credential (fixed), not both';
  if (urls.some((u) => /^turns?:/.test(u)) && secret === null && username === null)
    return 'stage.turn: a turn: URL needs credentials: secret (coturn static-auth-secret) or username and credential';
  return undefined;
}

/**
 * The ICE servers named to one speaker (WHIP Link headers): with a shared secret, TURN REST API
 * credentials (coturn `use-auth-secret`): username `<expiry unix seconds>:<accountId>`, credential
 * base64(HMAC-SHA1(secret, username)), good for `credentialTtlSeconds`; else the fixed ones.
 */
export function iceServersFor(turn: Config['stage']['turn'], accountId: string, nowMs: number): IceServer[] {
  const expiry = Math.floor(nowMs / 1000) + turn.credentialTtlSeconds;
  return turn.urls.map((urls) => {
    if (urls.startsWith('stun:')) return { urls };
    if (turn.secret !== null) {
      const username = `${expiry}:${accountId}`;
      return { urls, username, credential: createHmac('sha1', turn.secret).update(username).digest('base64') };
    }
    if (turn.username !== null && turn.credential !== null) return { urls, username: turn.username, credential: turn.credential };
    return { urls };
  });
}

/** werift's options for the stage's ports and ICE-TCP (`icePortRange` is [min, max] inclusive). */
export function weriftNetwork(stage: Pick<StageNetwork, 'icePortRange' | 'iceTcp'>) {
  const range = stage.icePortRange;
  return {
    icePortRange: range === null ? undefined : ([range.min, range.max] as [number, number]),
    iceUseTcp: stage.iceTcp,
    // Passive only: the stage listens; speakers (active, RFC 6544) connect to it. It never dials out.
    iceTcpPassive: true,
  };
}
