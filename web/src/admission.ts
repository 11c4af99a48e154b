import { api, ApiError, errorOf, type Grant, type JoinRequest, type Line, type Ticket } from './api.ts';

/** Where the caller stands while the door decides. */
export type DoorState =
  { readonly kind: 'waiting'; readonly position: number; readonly etaSeconds: number } | { readonly kind: 'proving' };

/** Jittered wait: a million clients never poll in step. */
const jittered = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms * (0.8 + Math.random() * 0.4)));

/** Solves a challenge in a Web Worker, so the page stays responsive. */
function solveInWorker(challenge: string): Promise<string> {
  const worker = new Worker(new URL('./pow-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<string>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<string>) => resolve(event.data);
    worker.onerror = () => reject(new Error('proof of work failed'));
    worker.postMessage(challenge);
  }).finally(() => worker.terminate());
}

/**
 * This listener's own secret id (128 random bits, base64url): sent with the join and every renewal, so
 * only this page can renew its anonymous token, not whoever sees the token in a URL.
 */
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

/**
 * Joins through the door: a token now, or a place in line that is kept (the ticket and the client
 * id) while polling the cacheable now-serving value, or a proof of work first. Overload answers
 * (429, 503) are retried with jittered backoff inside a retry budget; other errors are thrown.
 */
export async function joinThroughDoor(
  spaceId: string,
  onState: (state: DoorState) => void,
  signal?: AbortSignal,
  secret: string = newClientId(),
): Promise<Grant> {
  let client = secret;
  let ticket: Ticket | undefined;
  let pow: JoinRequest['pow'];
  let retries = 0;
  for (;;) {
    signal?.throwIfAborted();
    const res = await api.POST('/api/spaces/{id}/join', {
      params: { path: { id: spaceId } },
      body: {
        client,
        ...(ticket === undefined ? {} : { ticket: ticket.ticket }),
        ...(pow === undefined ? {} : { pow }),
      },
    });
    pow = undefined;
    const status = res.response.status;
    if (status === 200 && res.data !== undefined && 'token' in res.data) return res.data;
    if (status === 202 && res.data !== undefined && 'ticket' in res.data) {
      ticket = res.data;
      client = res.data.client ?? client;
      await waitForTurn(ticket, res.data.etaSeconds, onState, signal);
      continue;
    }
    const error = errorOf(res.error);
    // POW_REQUIRED details: the challenge, and the client id to send back with the solution.
    const details = error?.details as { challenge?: unknown; client?: unknown } | undefined;
    if (status === 428 && typeof details?.challenge === 'string') {
      client = typeof details.client === 'string' ? details.client : client;
      onState({ kind: 'proving' });
      pow = { challenge: details.challenge, solution: await solveInWorker(details.challenge) };
      continue;
    }
    if ((status === 429 || status === 503) && retries < 8) {
      const retryAfterS = Number(res.response.headers.get('retry-after') ?? 1);
      await jittered(Math.min(30_000, Math.max(1000, retryAfterS * 1000) * 2 ** retries++));
      continue;
    }
    throw new ApiError(error?.code ?? `HTTP_${status}`, error?.message ?? `Join failed (${status})`);
  }
}

/** Polls now-serving (one small cached document) until the ticket's number comes up. */
async function waitForTurn(
  ticket: Ticket,
  etaSeconds: number,
  onState: (state: DoorState) => void,
  signal?: AbortSignal,
): Promise<void> {
  let eta = etaSeconds;
  for (;;) {
    signal?.throwIfAborted();
    const line = await fetch(ticket.lineUrl).then(
      (r) => (r.ok ? (r.json() as Promise<Line>) : undefined),
      () => undefined,
    );
    if (line !== undefined) {
      const ahead = ticket.number - line.nowServing;
      if (ahead <= 0) return;
      // As the server counts it: until the number comes up, plus about a second (the value's cache age and
      // this loop's interval near the turn) to notice.
      eta = line.perSecond > 0 ? ahead / line.perSecond + 1 : eta;
      onState({ kind: 'waiting', position: ahead, etaSeconds: eta });
    }
    // Poll more often as the turn nears; never faster than the value's one-second cache.
    await jittered(Math.min(5000, Math.max(1000, (eta * 1000) / 4)));
  }
}
