const STREAM_TYPE = 'audio/mp4; codecs="opus"';
/** How far behind the newest received audio playback starts, and how far it may drift before a catch-up. */
const LIVE_DELAY_S = 1.0;
/** What a player buffers beyond the interval between the edge's writes (`amphi-stream-write-ms`). */
const WRITE_MARGIN_S = 0.5;
const MAX_DRIFT_S = 3.0;

/** Whether this browser can play the held fMP4 live stream (Media Source Extensions with Opus in MP4). */
export function canPlayStream(): boolean {
  return 'MediaSource' in window && MediaSource.isTypeSupported(STREAM_TYPE);
}

/**
 * An audio element fed fMP4 bytes through Media Source Extensions, kept at the live edge: playback
 * starts `LIVE_DELAY_S` behind the newest audio, jumps forward when it falls more than `MAX_DRIFT_S`
 * behind or sits in a hole (a stream resumed after a restart or a lost segment), and keeps a minute
 * behind the playhead at most. `broken` says when it must be replaced (the element or the source
 * failed): a new one starts over on the same element.
 */
export class StreamBuffer {
  readonly #element: HTMLAudioElement;
  readonly #source: MediaSource;
  readonly #buffer: SourceBuffer;
  readonly #objectUrl: string;
  readonly #queue: Uint8Array[] = [];
  #started = false;
  /** Behind the newest audio at the start: more when the edge writes less often than every 500 ms. */
  #liveDelayS = LIVE_DELAY_S;
  #closed = false;
  /** Called when an append fails: the caller reconnects, and the new head refills from the live edge. */
  onFault: () => void = () => {};

  private constructor(element: HTMLAudioElement, source: MediaSource, objectUrl: string) {
    this.#element = element;
    this.#source = source;
    this.#objectUrl = objectUrl;
    this.#buffer = source.addSourceBuffer(STREAM_TYPE);
    this.#buffer.addEventListener('updateend', () => this.#updated());
  }

  static async open(element: HTMLAudioElement): Promise<StreamBuffer> {
    const source = new MediaSource();
    const objectUrl = URL.createObjectURL(source);
    element.src = objectUrl;
    await new Promise((resolve) => source.addEventListener('sourceopen', resolve, { once: true }));
    return new StreamBuffer(element, source, objectUrl);
  }

  /** The element or the media source failed (a decode error, a source closed): replace this buffer. */
  get broken(): boolean {
    return this.#closed || this.#element.error !== null || this.#source.readyState !== 'open';
  }

  push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#pump();
  }

  /** Detaches from the element. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    if (this.#element.src === this.#objectUrl) this.#element.removeAttribute('src');
    URL.revokeObjectURL(this.#objectUrl);
  }

  /** The edge writes every `ms` (its `amphi-stream-write-ms`): playback keeps that much and a margin buffered. */
  writesEvery(ms: number): void {
    if (ms > 0) this.#liveDelayS = Math.max(LIVE_DELAY_S, ms / 1000 + WRITE_MARGIN_S);
  }

  #pump(): void {
    if (this.#closed || this.#buffer.updating || this.#queue.length === 0) return;
    try {
      this.#buffer.appendBuffer(this.#queue.shift()! as Uint8Array<ArrayBuffer>);
    } catch {
      // Full or broken buffer: drop what is queued and reconnect.
      this.#queue.length = 0;
      this.onFault();
    }
  }

  #updated(): void {
    const element = this.#element;
    const ranges = this.#buffer.buffered;
    if (ranges.length > 0) {
      const end = ranges.end(ranges.length - 1);
      if (!this.#started || end - element.currentTime > MAX_DRIFT_S || this.#inHole())
        element.currentTime = Math.max(ranges.start(ranges.length - 1), end - this.#liveDelayS);
      if (!this.#started) {
        this.#started = true;
        void element.play();
      }
      // Keep a minute behind the playhead at most: a listener may stay for hours.
      if (element.currentTime - ranges.start(0) > 90 && this.#queue.length === 0) {
        this.#buffer.remove(0, element.currentTime - 60);
        return;
      }
    }
    this.#pump();
  }

  /** Whether the playhead sits before the newest buffered range, outside any range: it would wait for ever. */
  #inHole(): boolean {
    const ranges = this.#buffer.buffered;
    const t = this.#element.currentTime;
    for (let i = 0; i < ranges.length; i++) if (t >= ranges.start(i) && t < ranges.end(i)) return false;
    return ranges.length > 0 && t < ranges.start(ranges.length - 1);
  }
}
