import type { Config } from './schema.ts';

export type StageNetwork = Pick<Config['stage'], 'iceAddresses' | 'icePortRange' | 'iceTcp' | 'turn'>;

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
