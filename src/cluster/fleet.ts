import type { Redis } from 'ioredis';
import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';

/** What each node says about itself every `reportMs`. */
export interface NodeReport {
  readonly role: 'control' | 'edge' | 'media';
  /** Where listeners reach it (edges and media nodes: their edge's base URL). */
  readonly url: string;
  /** Listeners it serves now, in all and per Space (edges). */
  readonly listeners: number;
  readonly spaces: Readonly<Record<string, number>>;
  /** Busy share of one core over the last second, 0..1. */
  readonly cpu: number;
  /** Leaving (SIGTERM): joins stop choosing it; its listeners move on when it closes. */
  readonly draining: boolean;
  /** The id of the key it signs with and the ids it verifies with: every node must hold the signer's. */
  readonly keyIds: readonly string[];
  /** Media nodes: their stage's base URL, where publishers of the Spaces they hold connect (WHIP). */
  readonly stageUrl?: string;
}

export interface FleetNode extends NodeReport {
  readonly id: string;
}

export interface FleetOptions {
  readonly redis: Redis;
  readonly clock: Clock;
  readonly log: Logger;
  readonly nodeId: string;
  /** This node's report, read at each beat; undefined for a node that only reads the fleet. */
  readonly report?: (() => NodeReport) | undefined;
  readonly reportMs: number;
  /** A report lives this long in Redis (its key expires on Redis's own clock): a dead node drops out. */
  readonly staleMs: number;
  /** The keys' prefix (one per deployment, or per test). */
  readonly prefix?: string;
  /** Picks among equals; injectable so a test can pin it. */
  readonly random?: () => number;
  /** Called after each refresh with the fleet as read (key checks, metrics). */
  readonly onRefresh?: ((nodes: readonly FleetNode[]) => void) | undefined;
}

/** The edge a join is sent to, and others to fall back on if it fails (best first). */
export interface EdgeChoice {
  readonly url: string;
  readonly fallbacks: readonly string[];
}

/**
 * The fleet's registry, in Redis: every node writes its report each beat under a key that expires after
 * `staleMs` (Redis's clock: no two nodes' clocks are compared), and reads everyone's (one SMEMBERS and
 * one MGET a beat). Joins choose an edge from the last read, without a round trip: the lighter of two
 * random fresh edges that are not draining (power of two choices, as LiveKit's and most balancers'
 * selectors do: it avoids both the herd on the least-loaded node and random's hot spots), counting the
 * listeners this node sent each edge since the last read, and two fallbacks, the lightest others.
 */
export class Fleet {
  readonly #o: FleetOptions & { readonly prefix: string; readonly random: () => number };
  #nodes: readonly FleetNode[] = [];
  /** Listeners this node sent to each edge since the last read. */
  #sent = new Map<string, number>();
  #stop: (() => void) | undefined;
  /** Beats that failed since the last good one (Redis away): the fleet as last read is kept meanwhile. */
  failures = 0;

  constructor(options: FleetOptions) {
    this.#o = { prefix: 'amphi:fleet:', random: Math.random, ...options };
  }

  /** Reports and reads once now, then every `reportMs`. */
  async start(): Promise<void> {
    await this.beat();
    this.#stop = every(
      this.#o.clock,
      this.#o.reportMs,
      () => this.beat(),
      () => {},
    );
  }

  /** One beat: writes this node's report, reads the fleet. Failures are counted and logged once. */
  async beat(): Promise<void> {
    const { redis, prefix, nodeId, staleMs } = this.#o;
    try {
      const report = this.#o.report?.();
      const pipeline = redis.multi();
      if (report !== undefined) {
        pipeline.set(`${prefix}node:${nodeId}`, JSON.stringify(report), 'PX', staleMs);
        pipeline.sadd(`${prefix}nodes`, nodeId);
      }
      pipeline.smembers(`${prefix}nodes`);
      const results = (await pipeline.exec()) ?? [];
      const ids = (results.at(-1)?.[1] as string[] | undefined) ?? [];
      const values = ids.length === 0 ? [] : await redis.mget(...ids.map((id) => `${prefix}node:${id}`));
      const nodes: FleetNode[] = [];
      const gone: string[] = [];
      ids.forEach((id, i) => {
        const value = values[i];
        if (value === null || value === undefined) gone.push(id);
        else {
          const report = parseReport(value);
          if (report === undefined) this.#o.log.warn({ node: id }, 'fleet: a report that is not well formed was ignored');
          else nodes.push({ ...report, id });
        }
      });
      if (gone.length > 0) await redis.srem(`${prefix}nodes`, ...gone);
      this.#nodes = nodes;
      this.#sent = new Map();
      if (this.failures > 0) this.#o.log.info({ nodes: nodes.length }, 'fleet: registry reachable again');
      this.failures = 0;
      this.#o.onRefresh?.(nodes);
    } catch (error) {
      if (this.failures === 0) this.#o.log.warn({ err: error }, 'fleet: reporting or reading the registry failed');
      this.failures++;
    }
  }

  /** The fleet as last read. */
  get nodes(): readonly FleetNode[] {
    return this.#nodes;
  }

  /** A node as last read, by id (undefined: it has not reported within `staleMs`). */
  node(id: string): FleetNode | undefined {
    return this.#nodes.find((n) => n.id === id);
  }

  /**
   * Fresh edges that take new listeners. Media nodes serve listeners too, but only while no edge
   * reports: their cores belong to mixing and packaging.
   */
  edges(): FleetNode[] {
    const open = this.#nodes.filter((n) => n.role !== 'control' && !n.draining);
    const edges = open.filter((n) => n.role === 'edge');
    return edges.length > 0 ? edges : open;
  }

  /**
   * How many nodes share the door for joins now: the control nodes (behind the load balancer), or the
   * media nodes where no control node reports; at least 1.
   */
  doorNodes(): number {
    const controls = this.#nodes.filter((n) => n.role === 'control').length;
    return Math.max(1, controls > 0 ? controls : this.#nodes.filter((n) => n.role === 'media').length);
  }

  /** Listeners over all fresh edges, and per Space. */
  listeners(spaceId?: string): number {
    let sum = 0;
    for (const node of this.#nodes) sum += spaceId === undefined ? node.listeners : (node.spaces[spaceId] ?? 0);
    return sum;
  }

  /** An edge for one join (see the class comment), or undefined when no edge reports. */
  chooseEdge(): EdgeChoice | undefined {
    const edges = this.edges();
    if (edges.length === 0) return undefined;
    const load = (n: FleetNode) => n.listeners + (this.#sent.get(n.id) ?? 0);
    const a = edges[Math.floor(this.#o.random() * edges.length)]!;
    const b = edges[Math.floor(this.#o.random() * edges.length)]!;
    const chosen = load(b) < load(a) ? b : a;
    this.#sent.set(chosen.id, (this.#sent.get(chosen.id) ?? 0) + 1);
    const fallbacks = edges
      .filter((n) => n.id !== chosen.id)
      .sort((x, y) => load(x) - load(y))
      .slice(0, 2)
      .map((n) => n.url);
    return { url: chosen.url, fallbacks };
  }

  /** Stops beating and takes this node out of the registry (best effort). */
  async stop(): Promise<void> {
    this.#stop?.();
    this.#stop = undefined;
    if (this.#o.report === undefined) return;
    const { redis, prefix, nodeId } = this.#o;
    await redis
      .multi()
      .del(`${prefix}node:${nodeId}`)
      .srem(`${prefix}nodes`, nodeId)
      .exec()
      .catch(() => {});
  }
}

const ROLES = new Set(['control', 'edge', 'media']);

/**
 * A report as read from Redis, checked before anything uses it: its URL goes into listeners' grants and
 * the pages' CSP, so only a plain http(s) base URL is accepted. Undefined when anything is off.
 */
export function parseReport(text: string): NodeReport | undefined {
  let r: Partial<Record<keyof NodeReport, unknown>>;
  try {
    r = JSON.parse(text) as typeof r;
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || !ROLES.has(r.role as string)) return undefined;
  if (typeof r.listeners !== 'number' || typeof r.cpu !== 'number' || typeof r.draining !== 'boolean') return undefined;
  if (typeof r.spaces !== 'object' || r.spaces === null || !Array.isArray(r.keyIds)) return undefined;
  if (typeof r.url !== 'string' || (r.role !== 'control' && !isBaseUrl(r.url))) return undefined;
  if (r.stageUrl !== undefined && (typeof r.stageUrl !== 'string' || !isBaseUrl(r.stageUrl))) return undefined;
  return r as NodeReport;
}

/** An http(s) base URL as a grant's prefix: no credentials, query or fragment, written as URL parses it. */
function isBaseUrl(url: string): boolean {
  try {
    const u = new URL(url);
    const plain = (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
    return plain && u.search === '' && u.hash === '' && (u.href === url || u.href === `${url}/`);
  } catch {
    return false;
  }
}

/**
 * Listener revocations that outlive an edge's restart: a Redis set of removed subjects per Space, kept
 * while the Space lives and `keepAfterEndMs` after it ends (as long as a token issued before the removal
 * could still be good). Control nodes add to it when they remove someone; an edge reads it at start.
 */
export class RevocationLog {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = 'amphi:revoked:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async add(spaceId: string, subject: string): Promise<void> {
    await this.#redis.sadd(`${this.#prefix}${spaceId}`, subject);
  }

  async remove(spaceId: string, subject: string): Promise<void> {
    await this.#redis.srem(`${this.#prefix}${spaceId}`, subject);
  }

  async spaceEnded(spaceId: string, keepAfterEndMs: number): Promise<void> {
    await this.#redis.pexpire(`${this.#prefix}${spaceId}`, keepAfterEndMs);
  }

  /** Every Space's removed subjects, and whether the Space has ended (its set is expiring). */
  async all(): Promise<{ spaceId: string; subjects: string[]; ended: boolean }[]> {
    const out: { spaceId: string; subjects: string[]; ended: boolean }[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const [subjects, ttl] = await Promise.all([this.#redis.smembers(key), this.#redis.pttl(key)]);
        out.push({ spaceId: key.slice(this.#prefix.length), subjects, ended: ttl > 0 });
      }
    } while (cursor !== '0');
    return out;
  }
}
