/**
 * The junk generator: raw keep-alive sockets from their own source addresses, junk requests written in
 * pipelined batches on a schedule, answers counted by status and kind. Every answer must be a 4xx; a
 * 2xx/3xx, a 5xx, a reset or a request left unanswered is an error.
 */
import { connect, type Socket } from 'node:net';
import { sleep } from '../lib/sleep.ts';
import { takeAnswers } from './answers.ts';
import { JUNK_KINDS, junkPaths, type JunkKind } from './junk-paths.ts';

export interface JunkOptions {
  /** e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string;
  /** A real Space id (junk aimed at a live Space gets past the path check to the token check). */
  readonly spaceId: string;
  readonly perSecond: number;
  readonly seconds: number;
  readonly sourceAddresses: readonly string[];
  /** Keep-alive connections, spread over the source addresses. */
  readonly connections: number;
  /** Requests written at once per connection (pipelined). */
  readonly batch: number;
  /** The server's signing key (id `cfg`), to sign expired tokens; without it they are forged instead. */
  readonly signingKey?: string;
  /** Only these kinds (default: all, in turn). */
  readonly kinds?: readonly JunkKind[];
  /** Updated as answers arrive, for readings during the run. */
  readonly live?: { answered: number };
}
export interface JunkResult {
  readonly sent: number;
  readonly answered: number;
  readonly perSecondTarget: number;
  readonly perSecondAchieved: number;
  /** Requests the schedule owed that no connection could take (the server or generator fell behind). */
  readonly skipped: number;
  readonly byStatus: Record<string, number>;
  readonly byKind: Record<string, Record<string, number>>;
  readonly errors: Record<string, number>;
  readonly errorCount: number;
}

interface Conn {
  socket: Socket;
  /** The kinds of requests written and not yet answered, in order (HTTP/1.1 answers in order). */
  kinds: number[];
  head: number;
  pending: string;
  connected: boolean;
}

/** Sends junk at `perSecond` for `seconds` and counts the answers. */
export function runJunk(o: JunkOptions): Promise<JunkResult> {
  return new JunkFlood(o).run();
}

class JunkFlood {
  readonly #o: JunkOptions;
  readonly #port: number;
  readonly #host: string;
  /** Request texts per kind (by index in JUNK_KINDS), and where each kind's pool is up to. */
  readonly #requests: string[][];
  readonly #cursor = JUNK_KINDS.map(() => 0);
  readonly #kindIndexes: number[];
  readonly #byStatus: Record<string, number> = {};
  readonly #byKind: Record<string, Record<string, number>> = Object.fromEntries(JUNK_KINDS.map((k) => [k, {}]));
  readonly #errors: Record<string, number> = {};
  readonly #conns: Conn[] = [];
  #sent = 0;
  #answered = 0;
  #skipped = 0;
  #next = 0;
  #stopping = false;

  constructor(o: JunkOptions) {
    this.#o = o;
    const base = new URL(o.baseUrl);
    this.#port = Number(base.port);
    this.#host = base.hostname;
    const paths = junkPaths(o.spaceId, o.signingKey);
    this.#requests = JUNK_KINDS.map((k) =>
      paths[k].map((p) => `GET ${p} HTTP/1.1\r\nHost: ${this.#host}:${this.#port}\r\nUser-Agent: amphi-junk\r\n\r\n`),
    );
    this.#kindIndexes = (o.kinds ?? JUNK_KINDS).map((k) => JUNK_KINDS.indexOf(k));
  }

  async run(): Promise<JunkResult> {
    const o = this.#o;
    for (let i = 0; i < o.connections; i++) this.#conns.push(this.#open(i));
    const t0 = Date.now();
    const deadline = t0 + o.seconds * 1000;
    while (Date.now() < deadline) {
      this.#tick(t0, deadline);
      await sleep(5);
    }
    // Answers still in flight come in (bounded).
    const drainUntil = Date.now() + 3000;
    while (Date.now() < drainUntil && this.#conns.some((c) => c.kinds.length - c.head > 0)) await sleep(10);
    const unanswered = this.#conns.reduce((n, c) => n + c.kinds.length - c.head, 0);
    if (unanswered > 0) this.#countError('unanswered', unanswered);
    this.#stopping = true;
    for (const c of this.#conns) c.socket.destroy();
    return {
      sent: this.#sent,
      answered: this.#answered,
      perSecondTarget: Math.round(o.perSecond),
      perSecondAchieved: Math.round(this.#sent / o.seconds),
      skipped: this.#skipped,
      byStatus: this.#byStatus,
      byKind: this.#byKind,
      errors: this.#errors,
      errorCount: Object.values(this.#errors).reduce((a, b) => a + b, 0),
    };
  }

  #countError(kind: string, n = 1): void {
    if (!this.#stopping) this.#errors[kind] = (this.#errors[kind] ?? 0) + n;
  }

  #answer(c: Conn, status: number): void {
    const kind = JUNK_KINDS[c.kinds[c.head++]!]!;
    if (c.head === c.kinds.length) {
      c.kinds = [];
      c.head = 0;
    }
    this.#answered++;
    if (this.#o.live !== undefined) this.#o.live.answered++;
    const s = String(status);
    this.#byStatus[s] = (this.#byStatus[s] ?? 0) + 1;
    const k = this.#byKind[kind]!;
    k[s] = (k[s] ?? 0) + 1;
    if (status < 400) this.#countError(`accepted_${status}`);
    else if (status >= 500) this.#countError(`http_${status}`);
  }

  #open(i: number): Conn {
    const o = this.#o;
    const socket = connect({ host: this.#host, port: this.#port, localAddress: o.sourceAddresses[i % o.sourceAddresses.length] });
    socket.setNoDelay(true);
    const c: Conn = { socket, kinds: [], head: 0, pending: '', connected: false };
    socket.setEncoding('latin1');
    socket.on('connect', () => (c.connected = true));
    socket.on('data', (d: string) => {
      const { statuses, rest } = takeAnswers(c.pending + d);
      c.pending = rest;
      for (const status of statuses) this.#answer(c, status);
    });
    socket.on('error', (e: Error & { code?: string }) =>
      this.#countError(e.code === 'ECONNRESET' ? 'reset' : (e.code ?? 'socket_error')),
    );
    socket.on('close', () => {
      const lost = c.kinds.length - c.head;
      if (lost > 0) this.#countError('closed_with_requests_pending', lost);
      c.kinds = [];
      c.head = 0;
      if (!this.#stopping) this.#conns[i] = this.#open(i);
    });
    return c;
  }

  /** Writes what the schedule owes by now, in batches, on connections with room for one. */
  #tick(t0: number, deadline: number): void {
    const o = this.#o;
    const conns = this.#conns;
    const now = Date.now();
    let owed = Math.floor((o.perSecond * Math.min(now, deadline) - o.perSecond * t0) / 1000) - this.#sent - this.#skipped;
    for (let n = 0; n < conns.length && owed > 0; n++) {
      const c = conns[(this.#next + n) % conns.length]!;
      if (!c.connected || c.kinds.length - c.head >= o.batch) continue;
      const count = Math.min(owed, o.batch);
      let text = '';
      for (let r = 0; r < count; r++) {
        const kind = this.#kindIndexes[(this.#sent + r) % this.#kindIndexes.length]!;
        const pool = this.#requests[kind]!;
        text += pool[this.#cursor[kind]! % pool.length]!;
        this.#cursor[kind] = this.#cursor[kind]! + 1;
        c.kinds.push(kind);
      }
      c.socket.write(text, 'latin1');
      this.#sent += count;
      owed -= count;
    }
    this.#next = (this.#next + 1) % conns.length;
    // More than half a second behind: the excess is dropped (and counted), not sent in a burst later.
    const slack = Math.ceil(o.perSecond / 2);
    if (owed > slack) this.#skipped += owed - slack;
  }
}
