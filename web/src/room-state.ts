import type { RoomStateDocument, RoomStateResponse } from '../../src/shared/room-state.ts';
import { backoffDelay, type BackoffPolicy } from './backoff.ts';
import type { ListenerGrant } from './listener-grant.ts';

/** How the room-state loop backs off after errors (jittered: a million pages never retry in step). */
export type RoomStateRetry = BackoffPolicy;

export const defaultRoomStateRetry: RoomStateRetry = { firstDelayMs: 500, maxDelayMs: 30_000, jitter: 0.5 };

/** The room state on the listener's edge in use, beside the playlist: `?v=N` asks for the version after N. */
export function roomStateUrl(grants: ListenerGrant, after: number | undefined): string {
  const url = new URL('state.json', grants.at('playlistUrl'));
  if (after !== undefined) url.searchParams.set('v', String(after));
  return url.href;
}

/**
 * Follows a Space's room state through the listener's edge until `signal` aborts or `onState`
 * returns false. Each request asks for the version after the one shown (`state.json?v=N`); the edge
 * holds it until the version passes N (or its blocking timeout passes, answering the same version,
 * uncached), so a change reaches the page one round trip after the origin sees it, and a quiet
 * Space costs one request per timeout. The edge caches each answer keyed without the token, so all
 * listeners asking for the same version share one origin request. Under overload the origin
 * re-reads the room less often (the document's `degradation` says so): answers come later, and the
 * loop needs no change of its own.
 *
 * The token is read from `grants` on every request (the player renews it); an expired one (401) is
 * renewed here through the same `grants`, so the two never renew twice. Errors back off
 * exponentially with jitter, and never sooner than a Retry-After.
 */
export async function followRoomState(
  grants: ListenerGrant,
  onState: (state: RoomStateDocument) => boolean,
  signal: AbortSignal,
  retry: RoomStateRetry = defaultRoomStateRetry,
): Promise<void> {
  let version: number | undefined;
  let failures = 0;
  while (!signal.aborted) {
    const grant = grants.current;
    let retryAfterMs = 0;
    const askedAt = performance.now();
    try {
      const res = await fetch(roomStateUrl(grants, version), { signal });
      if (res.ok) {
        const body = (await res.json()) as RoomStateResponse;
        // Any other version is news, a lower one included: a restarted origin counts from 1 again.
        if (body.version !== version) {
          failures = 0;
          version = body.version;
          if (!onState(body.state)) return;
          continue;
        }
        // The same version is answered after the edge held the request; at once, something in
        // between does not hold (a cache ignoring `?v`): back off rather than spin.
        if (performance.now() - askedAt >= retry.firstDelayMs) {
          failures = 0;
          continue;
        }
      }
      failures++;
      if (res.status === 401) {
        // Expired (or refused): renew once for the player and this loop, then ask again at once.
        const renewed = await grants.renew(grant).catch(() => grant);
        if (renewed !== grant && failures === 1) continue;
      } else retryAfterMs = (Number(res.headers.get('retry-after')) || 0) * 1000;
    } catch {
      if (signal.aborted) return;
      failures++;
    }
    await sleep(Math.max(retryAfterMs, backoffDelay(retry, failures - 1, Math.random())), signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
