import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.ts';
import type { ControlBus, ControlEvents } from './events.ts';

/** The events that cross nodes: all of them (each is small, and rare next to joins). */
const EVENTS: readonly (keyof ControlEvents)[] = [
  'space.changed',
  'space.started',
  'space.ended',
  'recording.deleted',
  'member.role',
  'member.muted',
  'member.removed',
  'member.unbanned',
];

export interface BusBridgeOptions {
  /** Publishes (XADD) and reads the stream; a blocking read needs a connection of its own. */
  readonly publisher: Redis;
  readonly reader: Redis;
  /** This node's id: its own events are not delivered back to it. */
  readonly nodeId: string;
  readonly log: Logger;
  /** The stream's key (one per deployment). */
  readonly stream?: string;
  /** Entries the stream keeps (approximately): how far back a node that was away can catch up. */
  readonly keep?: number;
  /** How long one blocking read waits before it reads again (ms). */
  readonly blockMs?: number;
}

/**
 * Carries the control bus between nodes over one Redis stream (cluster mode). What a node's planes emit
 * locally is appended to the stream (XADD, trimmed to `keep` entries); every other node reads the stream
 * with a blocking XREAD and emits the same events on its own bus, so a mute, a role change, a removal, a
 * start or an end reaches every node's caches and stage within milliseconds. A stream, not pub/sub: a
 * node that lost its connection reads on from the last entry it saw when it is back, so it catches up
 * instead of missing events; if it was away longer than the stream keeps, it says so (`gaps`) and its
 * caches fall back on their TTLs.
 */
export class BusBridge {
  readonly #o: Required<BusBridgeOptions>;
  readonly #bus: ControlBus;
  readonly #off: (() => void)[] = [];
  /** True while an event read from the stream is being emitted locally: it must not be published again. */
  #delivering = false;
  /** The last entry delivered (or seen at start): the next read continues after it, so nothing is skipped. */
  #lastId = '0-0';
  #running = true;
  /** Resolves at `close()`: a read or a retry pause in progress ends then, whatever the connection does. */
  readonly #stopped: Promise<null>;
  #stop!: () => void;
  readonly #loop: Promise<void>;
  /** Events of this node not yet in the stream (Redis away), oldest first. */
  readonly #outbox: OutboxEntry[] = [];
  #flushing = false;
  /** Events read from other nodes, published by this one, catch-ups that found a gap, events dropped from a full outbox. */
  received = 0;
  published = 0;
  gaps = 0;
  dropped = 0;

  private constructor(bus: ControlBus, options: BusBridgeOptions, startAfter: string) {
    this.#bus = bus;
    // Set before the first read starts (below): history before the start is never delivered.
    this.#lastId = startAfter;
    this.#o = { stream: 'amphi:bus', keep: 10_000, blockMs: 5000, ...options };
    this.#stopped = new Promise((resolve) => (this.#stop = () => resolve(null)));
    for (const event of EVENTS) {
      this.#off.push(bus.on(event, (payload) => this.#publish(event, payload)));
    }
    this.#loop = this.#read();
  }

  /** True while an event from another node is being emitted here: handlers that write shared state once skip it. */
  get delivering(): boolean {
    return this.#delivering;
  }

  /** Starts bridging `bus` once the stream's current end is known (events before it are history). */
  static async start(bus: ControlBus, options: BusBridgeOptions): Promise<BusBridge> {
    const stream = options.stream ?? 'amphi:bus';
    const last = (await options.publisher.xrevrange(stream, '+', '-', 'COUNT', 1))[0]?.[0];
    return new BusBridge(bus, options, last ?? '0-0');
  }

  /** Stops publishing and reading; the connections are the caller's. Idempotent. */
  async close(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stop();
    for (const off of this.#off) off();
    this.#o.reader.disconnect();
    await this.#loop;
  }

  #publish(event: keyof ControlEvents, payload: unknown): void {
    if (this.#delivering || !this.#running) return;
    this.published++;
    const entry: OutboxEntry = [event, JSON.stringify(payload)];
    // Sent at once (in emit order on the one connection); behind what already waits, if anything does.
    if (this.#outbox.length > 0) {
      this.#keep(entry);
      void this.#flush();
      return;
    }
    this.#send(entry).catch((error: unknown) => {
      this.#o.log.warn({ err: error, event }, 'bus: publishing failed; kept to send again');
      this.#keep(entry);
    });
  }

  #send([event, payload]: OutboxEntry): Promise<unknown> {
    const { publisher, stream, keep, nodeId } = this.#o;
    return publisher.xadd(stream, 'MAXLEN', '~', String(keep), '*', 'n', nodeId, 'e', event, 'p', payload);
  }

  #keep(entry: OutboxEntry): void {
    this.#outbox.push(entry);
    if (this.#outbox.length > OUTBOX_MAX) {
      this.#outbox.shift();
      this.dropped++;
    }
  }

  /**
   * Sends what waits in the outbox, in order: an event that could not be sent (Redis away) is sent
   * again by the next publish or read-loop turn (at least once a second), so a removal made while
   * Redis is away still reaches every node once it is back.
   */
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#outbox.length > 0 && this.#running) {
        await this.#send(this.#outbox[0]!);
        this.#outbox.shift();
      }
    } catch (error) {
      this.#o.log.warn({ err: error, waiting: this.#outbox.length }, 'bus: publishing failed; kept to send again');
    } finally {
      this.#flushing = false;
    }
  }

  async #read(): Promise<void> {
    const { reader, stream, blockMs, log } = this.#o;
    while (this.#running) {
      let batches: [string, [string, string[]][]][] | null;
      try {
        const read = reader.xread('COUNT', 500, 'BLOCK', blockMs, 'STREAMS', stream, this.#lastId);
        read.catch(() => {}); // after close() nobody awaits it
        batches = await Promise.race([read, this.#stopped]);
      } catch (error) {
        if (!this.#running) return;
        log.warn({ err: error }, 'bus: reading the stream failed; retrying');
        await Promise.race([new Promise((resolve) => setTimeout(resolve, 500)), this.#stopped]);
        await this.#checkGap();
        if (this.#outbox.length > 0) void this.#flush();
        continue;
      }
      if (!this.#running) return;
      for (const [, entries] of batches ?? []) for (const [id, fields] of entries) this.#deliver(id, fields);
      if (this.#outbox.length > 0) void this.#flush();
    }
  }

  #deliver(id: string, fields: string[]): void {
    this.#lastId = id;
    const entry = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) entry.set(fields[i]!, fields[i + 1]!);
    const event = entry.get('e') as keyof ControlEvents | undefined;
    if (entry.get('n') === this.#o.nodeId || event === undefined || !EVENTS.includes(event)) return;
    let payload: unknown;
    try {
      payload = JSON.parse(entry.get('p') ?? '{}');
    } catch {
      this.#o.log.warn({ id, event }, 'bus: an entry that is not JSON was skipped');
      return;
    }
    this.received++;
    this.#delivering = true;
    try {
      this.#bus.emit(event, payload);
    } finally {
      this.#delivering = false;
    }
  }

  /** After a lost connection: whether entries this node never saw were trimmed away meanwhile. */
  async #checkGap(): Promise<void> {
    if (this.#lastId === '0-0') return;
    try {
      const first = (await this.#o.publisher.xrange(this.#o.stream, '-', '+', 'COUNT', 1))[0]?.[0];
      if (first !== undefined && compareIds(first, this.#lastId) > 0) {
        this.gaps++;
        this.#o.log.warn({ lastSeen: this.#lastId, oldestKept: first }, 'bus: events were missed while away');
      }
    } catch {
      // still away: the next read retries
    }
  }
}

/** An event and its payload as JSON. */
type OutboxEntry = [keyof ControlEvents, string];

/** Events kept while Redis is away (each is small: a few hundred bytes). */
const OUTBOX_MAX = 10_000;

/** Orders two stream ids (`<ms>-<seq>`). */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am === bm ? as - bs : am - bm;
}
