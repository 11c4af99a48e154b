import { playThrough } from './audio.ts';
import type { ListenerGrant } from './listener-grant.ts';

/**
 * Plays an LL-HLS playlist in an audio element: hls.js where there is no native HLS (most browsers),
 * loaded on first play so the pages stay small.
 */
export async function attachHls(element: HTMLAudioElement, url: string, lowLatency: boolean): Promise<() => void> {
  element.crossOrigin = 'anonymous';
  playThrough(element);
  if (!('MediaSource' in window) && element.canPlayType('application/vnd.apple.mpegurl') !== '') {
    element.src = url;
    void element.play();
    return () => element.removeAttribute('src');
  }
  const { default: Hls } = await import('hls.js');
  const hls = new Hls({ lowLatencyMode: lowLatency });
  hls.loadSource(url);
  hls.attachMedia(element);
  hls.on(Hls.Events.MANIFEST_PARSED, () => void element.play());
  return () => hls.destroy();
}

declare global {
  interface Window {
    amphiBehindMs?: () => number;
  }
}

const STREAM_TYPE = 'audio/mp4; codecs="opus"';
/** How far behind the newest received audio playback starts, and how far it may drift before a catch-up. */
const LIVE_DELAY_S = 1.0;
const MAX_DRIFT_S = 3.0;

/** Whether this browser can play the held fMP4 live stream (Media Source Extensions with Opus in MP4). */
export function canPlayStream(): boolean {
  return 'MediaSource' in window && MediaSource.isTypeSupported(STREAM_TYPE);
}

/**
 * Plays the live stream (`streamUrl`, one held response the edge writes each part into) through
 * Media Source Extensions. The token is renewed before it expires (through `grants`, which the
 * room-state loop reads too); when the edge ends the stream (the token ran out, the edge restarted)
 * the player reconnects with the newest token and the overlap is appended again, so the timeline has
 * no gap. Retries back off with jitter.
 */
export async function attachStream(element: HTMLAudioElement, grants: ListenerGrant): Promise<() => void> {
  playThrough(element);
  const source = new MediaSource();
  const objectUrl = URL.createObjectURL(source);
  element.src = objectUrl;
  await new Promise((resolve) => source.addEventListener('sourceopen', resolve, { once: true }));
  const buffer = source.addSourceBuffer(STREAM_TYPE);
  const queue: Uint8Array[] = [];
  let stopped = false;
  let started = false;
  let abort = new AbortController();
  const pump = () => {
    if (stopped || buffer.updating || queue.length === 0) return;
    try {
      buffer.appendBuffer(queue.shift()! as Uint8Array<ArrayBuffer>);
    } catch {
      // Full or broken buffer: drop what is queued and reconnect; the new head refills from the live edge.
      queue.length = 0;
      abort.abort();
    }
  };
  buffer.addEventListener('updateend', () => {
    const ranges = buffer.buffered;
    if (ranges.length > 0) {
      const end = ranges.end(ranges.length - 1);
      if (!started || end - element.currentTime > MAX_DRIFT_S)
        element.currentTime = Math.max(ranges.start(0), end - LIVE_DELAY_S);
      if (!started) {
        started = true;
        void element.play();
      }
      // Keep a minute behind the playhead at most: a listener may stay for hours.
      if (element.currentTime - ranges.start(0) > 90 && queue.length === 0) {
        buffer.remove(0, element.currentTime - 60);
        return;
      }
    }
    pump();
  });
  let renewing = false;
  const renewal = setInterval(() => {
    if (renewing || Date.parse(grants.current.expiresAt) - Date.now() >= 60_000) return;
    renewing = true;
    void grants
      .renew(grants.current)
      .catch(() => undefined) // the stream goes on; the next attempt is in a few seconds
      .finally(() => (renewing = false));
  }, 5_000);
  const run = async () => {
    let failures = 0;
    while (!stopped) {
      try {
        abort = new AbortController();
        const grant = grants.current;
        const res = await fetch(grant.streamUrl, { signal: abort.signal });
        const epoch = Number(res.headers.get('amphi-program-epoch-ms'));
        // How far behind the mix this listener hears, for the page's probe (tests, diagnostics).
        if (epoch > 0) window.amphiBehindMs = () => Date.now() - (epoch + element.currentTime * 1000);
        if (res.status === 401) {
          failures++;
          await grants.renew(grant);
        } else if (res.status === 403 || res.status === 404 || res.status === 409) {
          return; // removed, or the Space is gone or ended: nothing to reconnect to
        } else if (res.ok && res.body !== null) {
          const reader = res.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            failures = 0;
            queue.push(value);
            pump();
          }
          // The edge ended the stream (token expiry, restart): reconnect after a short jittered wait.
          failures++;
          if (Date.parse(grants.current.expiresAt) - Date.now() < 60_000) await grants.renew(grants.current);
        } else failures++;
      } catch {
        if (stopped) return;
        failures++;
      }
      // Jittered exponential backoff, capped: a million players never retry in step.
      const delay = Math.min(10_000, 250 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
  void run();
  return () => {
    stopped = true;
    clearInterval(renewal);
    abort.abort();
    element.removeAttribute('src');
    URL.revokeObjectURL(objectUrl);
  };
}
