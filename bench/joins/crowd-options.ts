/** What the flash crowd (crowd.ts) is asked to do, and what it reports each second. */
export interface CrowdOptions {
  /** Amphi's API, e.g. http://127.0.0.1:8080. */
  readonly baseUrl: string;
  readonly spaceId: string;
  /** New join attempts per second for `seconds`. */
  readonly attemptsPerSecond: number;
  readonly seconds: number;
  /** After the crowd, keep following tickets at most this long. */
  readonly drainSeconds: number;
  /** Loopback addresses the clients are spread over (client i uses address i mod n). */
  readonly sourceAddresses: readonly string[];
  readonly linePoll: 'cdn' | 'direct';
  /** How often a waiting client looks at the line (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** At most this many clients in all (default attemptsPerSecond x seconds). */
  readonly maxClients?: number;
  /** Requests in flight at most; past it launches wait (and the drill reports the lag). */
  readonly maxInFlight?: number;
  readonly timeoutMs?: number;
  readonly onProgress?: (p: CrowdProgress) => void;
}

export interface CrowdProgress {
  readonly elapsedS: number;
  readonly attempts: number;
  readonly tokens: number;
  readonly tickets: number;
  readonly exchanged: number;
  readonly waiting: number;
  readonly errors: number;
  readonly nowServing: number;
  readonly lastIssued: number;
  readonly perSecond: number;
}
