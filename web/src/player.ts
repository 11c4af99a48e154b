import { playThrough, probe } from './audio.ts';
import { catchUpStep, SILENCE_DB, type CatchUp } from './catch-up.ts';
import { withToken, type ListenerGrant } from './listener-grant.ts';
import { ENDED, STUCK_PLAYBACK_MS, stuck, superviseHls, superviseNative, type LivePlayback } from './live-playback.ts';
import { Refusal, supervise, type Link } from './reconnect.ts';
import { StreamBuffer } from './stream-buffer.ts';

export { canPlayStream } from './stream-buffer.ts';

/** A held stream that brings no byte for this long is dead (parts come every 500 ms), even if no error says so. */
const SILENT_STREAM_MS = 10_000;

/**
 * Plays an LL-HLS playlist in an audio element: hls.js where there is no native HLS (most browsers),
 * loaded on first play so the pages stay small. With `live` (a live Space, not a replay), playback
 * recovers by itself while the Space is live (`superviseHls`, `superviseNative`).
 */
export async function attachHls(
  element: HTMLAudioElement,
  url: string,
  lowLatency: boolean,
  live?: LivePlayback,
): Promise<() => void> {
  element.crossOrigin = 'anonymous';
  playThrough(element);
  if (!('MediaSource' in window) && element.canPlayType('application/vnd.apple.mpegurl') !== '') {
    if (live !== undefined) return disposer(superviseNative(element, live));
    element.src = url;
    void element.play();
    return () => element.removeAttribute('src');
  }
  const { default: Hls } = await import('hls.js');
  if (live !== undefined) return disposer(superviseHls(Hls, element, lowLatency, live));
  const hls = new Hls({ lowLatencyMode: lowLatency });
  hls.loadSource(url);
  hls.attachMedia(element);
  hls.on(Hls.Events.MANIFEST_PARSED, () => void element.play());
  return () => hls.destroy();
}

function disposer(supervisor: { close(): Promise<void> }): () => void {
  return () => void supervisor.close();
}

declare global {
  interface Window {
    amphiBehindMs?: () => number;
  }
}

/**
 * Plays the live stream (`streamUrl`, one held response the edge writes each part into) through
 * Media Source Extensions. The token is renewed before it expires (through `grants`, which the
 * room-state loop reads too). When the stream ends or fails while the Space is live (the token ran
 * out, the edge or the whole server restarted, no byte for 10 s, the element failed), the player
 * reconnects by itself with the newest token (`supervise`: jittered exponential backoff), at the next
 * edge of the grant's fallbacks (cluster mode; the same token, no new join), and the
 * overlap is appended again, so the timeline has no gap; a failed element, or one whose time stood
 * still for 15 s while playing, gets a new buffer. A 403
 * (removed) stops it, and so do 404 and 409 once the room state says the Space ended: until then
 * they are what a restarting server answers.
 */
export async function attachStream(element: HTMLAudioElement, live: LivePlayback): Promise<() => void> {
  const { grants } = live;
  playThrough(element);
  let sink = await StreamBuffer.open(element);
  let reading: AbortController | undefined;
  let disposed = false;
  const drop = () => reading?.abort();
  element.addEventListener('error', drop);
  const stopRenewing = keepRenewed(grants);
  const open = async (): Promise<Link> => {
    if (sink.broken) {
      sink.close();
      sink = await StreamBuffer.open(element);
      if (disposed) sink.close(); // stopped while the new buffer opened: the fetch below is aborted too
    }
    sink.onFault = drop;
    const grant = grants.current;
    const abort = new AbortController();
    if (disposed) abort.abort();
    reading = abort;
    let res: Response;
    try {
      res = await fetch(grants.at('streamUrl'), { signal: abort.signal });
    } catch (error) {
      grants.failover(); // the edge is unreachable: the next try goes to the next one
      throw error;
    }
    if (res.status === 401) {
      await grants.renew(grant);
      throw new Error('listener token renewed');
    }
    if (res.status === 403) throw new Refusal('You can no longer listen to this Space.');
    if ((res.status === 404 || res.status === 409) && !live.isLive()) throw new Refusal(ENDED);
    if (!res.ok || res.body === null) {
      if (res.status >= 500) grants.failover(); // that edge cannot serve now: the next try goes to the next one
      throw new Error(`live stream answered ${res.status}`);
    }
    const epoch = Number(res.headers.get('amphi-program-epoch-ms'));
    sink.writesEvery(Number(res.headers.get('amphi-stream-write-ms')));
    // How far behind the mix this listener hears, for the page's probe (tests, diagnostics).
    if (epoch > 0) window.amphiBehindMs = () => Date.now() - (epoch + element.currentTime * 1000);
    const playing = sink;
    // Bytes flowing into an element whose time stands still: a new buffer on the next try.
    void stuck(element, STUCK_PLAYBACK_MS, abort.signal).then(() => {
      playing.close();
      abort.abort();
    });
    // A stream that ends while the Space is live: its edge died or restarted; try the next edge first.
    const dropped = pipe(res.body, sink, abort).finally(() => {
      if (!disposed) grants.failover();
    });
    return { dropped, close: () => abort.abort() };
  };
  const supervisor = supervise(open, { onStatus: live.onStatus });
  return () => {
    disposed = true;
    reading?.abort();
    void supervisor.close();
    stopRenewing();
    element.removeEventListener('error', drop);
    sink.close();
  };
}

/** Renews the grant's token a minute before it expires (checked every 5 s), until the function it returns is called. */
function keepRenewed(grants: ListenerGrant): () => void {
  let renewing = false;
  const renewal = setInterval(() => {
    if (renewing || Date.parse(grants.current.expiresAt) - Date.now() >= 60_000) return;
    renewing = true;
    void grants
      .renew(grants.current)
      .catch(() => undefined) // playing goes on; the next attempt is in a few seconds
      .finally(() => (renewing = false));
  }, 5_000);
  return () => clearInterval(renewal);
}

/** Reads the held stream into the buffer until it ends, fails, is aborted, or brings nothing for too long. */
async function pipe(body: ReadableStream<Uint8Array>, sink: StreamBuffer, abort: AbortController): Promise<void> {
  const reader = body.getReader();
  let silence: ReturnType<typeof setTimeout> | undefined;
  const watch = () => {
    clearTimeout(silence);
    silence = setTimeout(() => abort.abort(), SILENT_STREAM_MS);
  };
  try {
    watch();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      watch();
      sink.push(value);
    }
  } finally {
    clearTimeout(silence);
    abort.abort();
  }
}

declare global {
  interface Window {
    /** The catch-up under way (tests, diagnostics). */
    amphiCatchUp?: () => CatchUp | undefined;
  }
}

/**
 * Plays a live Space from its start, or `startAt` seconds in (`dvr.m3u8`: every segment so far) at `rate`, shortening long
 * silences, until it reaches the live edge, and stays there at normal speed. `onState` hears each step.
 */
export async function attachCatchUp(
  element: HTMLAudioElement,
  grants: ListenerGrant,
  rate: number,
  onState: (state: CatchUp) => void,
  startAt = 0,
): Promise<() => void> {
  element.crossOrigin = 'anonymous';
  playThrough(element);
  const { default: Hls } = await import('hls.js');
  // Every request carries the newest token (renewed a minute before expiry): a catch-up outlives one.
  const hls = new Hls({
    lowLatencyMode: true,
    startPosition: startAt,
    xhrSetup: (xhr, url) => xhr.open('GET', withToken(url, grants.current.token), true),
  });
  const stopRenewing = keepRenewed(grants);
  hls.loadSource(new URL('dvr.m3u8', grants.at('playlistUrl')).href);
  hls.attachMedia(element);
  hls.on(Hls.Events.MANIFEST_PARSED, () => void element.play());
  let state: CatchUp = { behindS: Number.POSITIVE_INFINITY, playbackRate: rate, live: false, silentMs: 0 };
  window.amphiCatchUp = () => state;
  const STEP_MS = 250;
  const timer = setInterval(() => {
    const ranges = element.seekable;
    if (ranges.length === 0 || element.paused) return;
    const behindS = ranges.end(ranges.length - 1) - element.currentTime;
    state = catchUpStep(state, { behindS, silent: probe().levelDb < SILENCE_DB, dtMs: STEP_MS }, rate);
    if (element.playbackRate !== state.playbackRate) element.playbackRate = state.playbackRate;
    onState(state);
  }, STEP_MS);
  return () => {
    clearInterval(timer);
    stopRenewing();
    window.amphiCatchUp = undefined;
    hls.destroy();
  };
}
