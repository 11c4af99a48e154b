import { createHmac } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { networkProblem, type StageNetwork } from '../config/stage-network.ts';
import type { IceServer } from '../shared/ice-servers.ts';

/**
 * The stage's network settings checked across fields, with messages that say what to change. The
 * config loader checks each key's shape; the stage calls this when it starts (and `amphi start`
 * fails with the message).
 */
export function checkStageNetwork(stage: StageNetwork): void {
  const problem = networkProblem(stage);
  if (problem !== undefined) throw new Error(`invalid configuration: ${problem}`);
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
