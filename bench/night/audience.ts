/**
 * The launch-night audience: would-be listeners who behave as the web player does, measured one by
 * one. Each joins through the door (a token, or a ticket followed until its number comes up), then
 * holds the Space's `live.mp4`: before go-live the edge answers "not live" and the player asks again
 * every half second (it starts by itself at go-live); a stream that breaks (its edge died) moves to
 * the grant's next edge at once, with the same token; a refused token joins again. Answers that ask
 * to wait (429/503 with Retry-After) are waited for; anything else that ends a listener's attempt is
 * an error shown to a person.
 *
 * Per listener it records when it tried, its ticket and ETA if any, its first audio, and every silence
 * (the time between two pieces of the stream once audio began).
 */
import { Agent, get, type ClientRequest } from 'node:http';
import { httpCall, parseJson, type Answer } from '../lib/http-call.ts';
import { sleep } from '../lib/sleep.ts';

export interface AudienceOptions {
  /** The API (nginx in front of the control nodes). */
  readonly baseUrl: string;
  readonly spaceId: string;
  readonly count: number;
  /** Arrivals per second (under the door's capacity: they are the show's early audience). */
  readonly perSecond: number;
  readonly sourceAddresses: readonly string[];
}

/** One silence a listener heard: from the last piece of stream before it to the first after it. */
export interface Silence {
  readonly from: number;
  readonly to: number;
}

export interface ListenerLog {
  readonly triedAt: number;
  /** Its place in line, if it was given one: the number and the ETA the door gave, ms. */
  ticket?: { readonly number: number; readonly etaMs: number };
  admittedAt?: number;
  firstAudioAt?: number;
  lastDataAt?: number;
  bytes: number;
  /** Streams opened again on another (or the same) edge after one broke. */
  reconnects: number;
  /** Joins made again because the token was refused. */
  rejoins: number;
  /** Silences of 1 s or more after audio began. */
  readonly silences: Silence[];
  /** What ended an attempt with an error a person would see (none expected). */
  readonly errors: string[];
}

export interface Audience {
  readonly logs: readonly ListenerLog[];
  /** Listeners whose stream brought data in the last 2 s. */
  streaming(now: number): number;
  /** Stops every listener (closes its stream) and resolves once all have stopped. */
  stop(): Promise<void>;
}

const RETRY_MS = 500;
const SILENCE_MS = 1000;

/** Starts the audience; listeners arrive at `perSecond` and listen until `stop`. */
export function runAudience(o: AudienceOptions): Audience {
  const crowd = new Listeners(o);
  const running: Promise<void>[] = [];
  const t0 = Date.now();
  const arrivals = (async () => {
    for (let i = 0; i < o.count && !crowd.stopped; i++) {
      running.push(crowd.listen(i));
      const due = t0 + ((i + 1) * 1000) / o.perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
    }
  })();
  return {
    logs: crowd.logs,
    streaming: (now) => crowd.logs.filter((l) => l.lastDataAt !== undefined && now - l.lastDataAt < 2000).length,
    async stop() {
      crowd.stopped = true;
      await arrivals;
      crowd.closeStreams();
      await Promise.all(running);
      crowd.destroy();
    },
  };
}

/** What every listener shares: the API, the source addresses, the open streams. */
class Listeners {
  readonly logs: ListenerLog[] = [];
  stopped = false;
  readonly #o: AudienceOptions;
  readonly #base: URL;
  readonly #agents: Agent[];
  readonly #open = new Set<ClientRequest>();

  constructor(o: AudienceOptions) {
    this.#o = o;
    this.#base = new URL(o.baseUrl);
    this.#agents = o.sourceAddresses.map((localAddress) => new Agent({ keepAlive: true, localAddress, maxSockets: 64 }));
  }

  /** One listener: joins, then keeps hearing the Space (moving edges, joining again) until stopped. */
  async listen(i: number): Promise<void> {
    const agent = this.#agents[i % this.#agents.length]!;
    const log: ListenerLog = { triedAt: Date.now(), bytes: 0, reconnects: 0, rejoins: 0, silences: [], errors: [] };
    this.logs.push(log);
    try {
      let grant = await this.#join(agent, log);
      if (grant === undefined) return;
      log.admittedAt = Date.now();
      let next = 0;
      while (!this.stopped) {
        const fallbacks = (grant.fallbacks as { streamUrl: string }[] | undefined) ?? [];
        const urls = [String(grant.streamUrl), ...fallbacks.map((f) => f.streamUrl)];
        const how = await this.#hold(urls[next % urls.length]!, agent, log);
        if (this.stopped) return;
        if (how === 'refused') {
          log.rejoins++;
          grant = await this.#join(agent, log);
          if (grant === undefined) return;
          next = 0;
        } else if (how === 'not-live') {
          await sleep(RETRY_MS);
        } else {
          // The stream broke: the next edge at once (the web player's fallback), the same one after a round.
          if (log.firstAudioAt !== undefined) log.reconnects++;
          next++;
          if (next % urls.length === 0) await sleep(RETRY_MS);
        }
      }
    } catch (error) {
      log.errors.push(String(error));
    }
  }

  closeStreams(): void {
    for (const req of this.#open) req.destroy();
  }

  destroy(): void {
    for (const a of this.#agents) a.destroy();
  }

  async #join(agent: Agent, log: ListenerLog): Promise<Record<string, unknown> | undefined> {
    const path = `/api/spaces/${this.#o.spaceId}/join`;
    let answer = await this.#call(agent, 'POST', path, '{}');
    while (!this.stopped) {
      if (answer.status === 200) return parseJson(answer.body);
      if (answer.status === 202) {
        const t = parseJson(answer.body)!;
        log.ticket ??= { number: Number(t.number), etaMs: Number(t.etaSeconds ?? 0) * 1000 };
        answer = await this.#followTicket(agent, String(t.lineUrl), Number(t.number), path, {
          ticket: t.ticket,
          client: t.client,
        });
        continue;
      }
      const wait = retryAfter(answer);
      if (wait === undefined) {
        log.errors.push(`join ${answer.status}${answer.error === undefined ? '' : ` ${answer.error}`}`);
        return undefined;
      }
      await sleep(wait);
      answer = await this.#call(agent, 'POST', path, '{}');
    }
    return undefined;
  }

  async #followTicket(agent: Agent, lineUrl: string, number: number, path: string, body: object): Promise<Answer> {
    const where = new URL(lineUrl, this.#base);
    for (;;) {
      await sleep(1000);
      if (this.stopped) return { status: 0, body: '', headers: {} };
      const line = await this.#call(agent, 'GET', `${where.pathname}${where.search}`);
      const serving = parseJson(line.body)?.nowServing;
      if (typeof serving === 'number' && serving >= number) return this.#call(agent, 'POST', path, JSON.stringify(body));
    }
  }

  #call(agent: Agent, method: string, path: string, body?: string): Promise<Answer> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    return httpCall(this.#base, agent, method, path, body, 10_000, headers);
  }

  /** Holds one stream URL until it ends; resolves with how it ended. */
  #hold(url: string, agent: Agent, log: ListenerLog): Promise<'ended' | 'refused' | 'not-live' | 'failed'> {
    return new Promise((resolve) => {
      const req = get(url, { agent }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve(res.statusCode === 401 || res.statusCode === 403 ? 'refused' : 'not-live');
          return;
        }
        res.on('data', (chunk: Buffer) => heard(log, chunk.length, Date.now()));
        res.on('end', () => resolve('ended'));
        res.on('error', () => resolve('failed'));
      });
      this.#open.add(req);
      req.on('error', () => resolve('failed'));
      req.on('close', () => this.#open.delete(req));
    });
  }
}

/** A piece of stream arrived: the first audio, or the end of a silence. */
function heard(log: ListenerLog, bytes: number, now: number): void {
  if (log.firstAudioAt === undefined) log.firstAudioAt = now;
  else if (now - log.lastDataAt! >= SILENCE_MS) log.silences.push({ from: log.lastDataAt!, to: now });
  log.lastDataAt = now;
  log.bytes += bytes;
}

/** How long a refusal asks to wait (429 or 503 with Retry-After), or undefined for a final answer. */
function retryAfter(a: Answer): number | undefined {
  if (a.status !== 429 && a.status !== 503 && a.status !== -1 && a.status !== -2) return undefined;
  const header = Number(a.headers['retry-after']);
  // A socket error or timeout (a control node died under the request): nginx's next try, then ours.
  return Number.isFinite(header) && header > 0 ? header * 1000 : RETRY_MS;
}
