import type Hls from 'hls.js';
import type { ErrorData, Events } from 'hls.js';
import type { ListenerGrant } from './listener-grant.ts';
import { Refusal, supervise, type Link, type LinkStatus, type Supervisor } from './reconnect.ts';

/** What a live player needs to recover by itself: the listener's grant, whether the Space is live, where to say so. */
export interface LivePlayback {
  readonly grants: ListenerGrant;
  /** Whether the room state still says live: a player never reconnects to a Space that ended. */
  readonly isLive: () => boolean;
  readonly onStatus: (status: LinkStatus) => void;
}

/** A playing element whose time has not moved for this long is stuck (hls.js retries by itself before that). */
export const STUCK_PLAYBACK_MS = 15_000;
/** Fatal hls.js errors answered in place (`startLoad`, `recoverMediaError`) before a fresh join and a new player. */
const IN_PLACE_RECOVERIES = 2;

export const ENDED = 'The Space has ended.';

/**
 * Live hls.js playback that recovers by itself while the Space is live (`supervise`: jittered
 * exponential backoff between tries): a fatal error is answered first in place (`startLoad()` for
 * the network, `recoverMediaError()` for the media), then by a new player at the grant's next edge,
 * then by a renewal (a new token); playback stuck for 15 s, or no media 15 s after a try, counts as a fatal error.
 */
export function superviseHls(
  HlsClass: typeof Hls,
  element: HTMLAudioElement,
  lowLatency: boolean,
  live: LivePlayback,
): Supervisor {
  let player: Hls | undefined;
  let lastError: ErrorData | undefined;
  let inPlace = 0;
  let joins = 0;

  /** One run of `hls`: up once `upOn` fires, dropped by a fatal error or stuck playback. */
  const follow = (hls: Hls, upOn: Events.MANIFEST_PARSED | Events.FRAG_LOADED | Events.FRAG_BUFFERED): Promise<Link> =>
    new Promise((resolve, reject) => {
      const run = new AbortController();
      let drop: (() => void) | undefined;
      let upAt = 0;
      const timeout = setTimeout(() => fail(new Error('no media from the edge')), STUCK_PLAYBACK_MS);
      const fail = (error: Error) => {
        clearTimeout(timeout);
        hls.off(HlsClass.Events.ERROR, onError);
        run.abort();
        if (drop === undefined) {
          reject(error);
          return;
        }
        // A run that played a good while healed: the next fatal error is answered in place again.
        if (performance.now() - upAt >= STUCK_PLAYBACK_MS) inPlace = 0;
        drop();
      };
      const onError = (_event: unknown, data: ErrorData) => {
        if (!data.fatal) return;
        lastError = data;
        fail(new Error(data.details));
      };
      hls.on(HlsClass.Events.ERROR, onError);
      hls.once(upOn, () => {
        if (run.signal.aborted) return;
        clearTimeout(timeout);
        upAt = performance.now();
        const dropped = new Promise<void>((r) => (drop = r));
        void stuck(element, STUCK_PLAYBACK_MS, run.signal).then(() => fail(new Error('playback stuck')));
        resolve({
          dropped,
          close: () => {
            run.abort();
            hls.destroy();
          },
        });
      });
    });

  const open = async (): Promise<Link> => {
    if (!live.isLive()) throw new Refusal(ENDED);
    const error = lastError;
    lastError = undefined;
    if (player !== undefined && error !== undefined && inPlace < IN_PLACE_RECOVERIES) {
      inPlace++;
      if (error.type === HlsClass.ErrorTypes.NETWORK_ERROR) {
        player.startLoad();
        return follow(player, HlsClass.Events.FRAG_LOADED);
      }
      if (error.type === HlsClass.ErrorTypes.MEDIA_ERROR) {
        player.recoverMediaError();
        return follow(player, HlsClass.Events.FRAG_BUFFERED);
      }
    }
    player?.destroy();
    player = undefined;
    // Every new player but the first tries the next edge of the grant (same token), and once every
    // edge was tried, a renewal: a new token, and edges chosen afresh (a 401 joins again without it).
    if (joins++ > 0 && !live.grants.failover()) await live.grants.renew(live.grants.current);
    const hls = new HlsClass({ lowLatencyMode: lowLatency });
    player = hls;
    inPlace = 0;
    hls.on(HlsClass.Events.MANIFEST_PARSED, () => void element.play());
    hls.loadSource(live.grants.at('playlistUrl'));
    hls.attachMedia(element);
    return follow(hls, HlsClass.Events.MANIFEST_PARSED);
  };
  const supervisor = supervise(open, { onStatus: live.onStatus });
  return {
    async close() {
      await supervisor.close();
      player?.destroy();
    },
  };
}

/** Native HLS (Safari) with the same recovery: an element error or stuck playback means a fresh join and a new source. */
export function superviseNative(element: HTMLAudioElement, live: LivePlayback): Supervisor {
  let joins = 0;
  return supervise(
    async (): Promise<Link> => {
      if (!live.isLive()) throw new Refusal(ENDED);
      if (joins++ > 0) await live.grants.renew(live.grants.current);
      const run = new AbortController();
      element.src = live.grants.current.playlistUrl;
      void element.play();
      const failed = new Promise((resolve) => element.addEventListener('error', resolve, { once: true, signal: run.signal }));
      return {
        dropped: Promise.race([failed, stuck(element, STUCK_PLAYBACK_MS, run.signal)]).finally(() => run.abort()),
        close: () => {
          run.abort();
          element.removeAttribute('src');
        },
      };
    },
    { onStatus: live.onStatus },
  );
}

/**
 * Resolves once the element has been playing without its time moving for `ms` (checked every
 * second); never, once `signal` aborts.
 */
export function stuck(element: HTMLMediaElement, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let last = element.currentTime;
    let since = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      if (element.paused || element.currentTime !== last) {
        last = element.currentTime;
        since = now;
      } else if (now - since >= ms) {
        clearInterval(timer);
        resolve();
      }
    }, 1000);
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  });
}
