import { isIP } from 'node:net';
import type { Config } from './schema.ts';

/** proxy-addr's names for address ranges, accepted wherever addresses are. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, a CIDR (`10.0.0.0/8`, `fd00::/8`) or a proxy-addr range name. */
export function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash < 0) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const bits = entry.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * What is wrong with the server's address lists, if anything: proxy-addr compiles them when the
 * server starts and throws a bare TypeError for an entry it cannot parse, so they are checked here,
 * with the setting named, before anything starts.
 */
export function addressProblem(server: Pick<Config['server'], 'trustProxy' | 'metricsAllowFrom'>): string | undefined {
  const lists = [
    ['server.trustProxy', Array.isArray(server.trustProxy) ? server.trustProxy : []],
    ['server.metricsAllowFrom', server.metricsAllowFrom],
  ] as const;
  for (const [key, entries] of lists) {
    const bad = entries.find((entry) => !isAddressOrRange(entry));
    if (bad !== undefined) {
      const hops = key === 'server.trustProxy' && /^\d+$/.test(bad) ? ' (a hop count is a whole number from 1 to 10)' : '';
      return `${key}: ${JSON.stringify(bad)} is not an IP address, a CIDR (10.0.0.0/8) or one of ${[...NAMED_RANGES].join(', ')}${hops}`;
    }
  }
  return undefined;
}
