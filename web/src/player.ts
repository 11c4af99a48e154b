import { playThrough } from './audio.ts';

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
