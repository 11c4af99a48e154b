import { Worker } from 'node:worker_threads';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { TypedEmitter, type OnListenerError } from '../lib/typed-emitter.ts';
import { type RecognitionResult, type RecogniserErrorCode } from './recogniser.ts';
import type { WorkerOut, WorkerSetup } from './worker-protocol.ts';

export interface RecogniserThreadOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly onListenerError: OnListenerError;
  /** The pocketsphinx model (default: Debian's). */
  readonly modelDir?: string;
  /** The first restart waits this long after a failure; each failure in a row doubles it, up to 30 s. */
  readonly restartDelayMs?: number;
  /**
   * Chunks sent and not yet decoded beyond which new chunks are dropped (counted): a recogniser behind
   * never grows memory past this (default MAX_BACKLOG_CHUNKS).
   */
  readonly maxBacklogChunks?: number;
  /** The thread's module; tests swap in one that fails. */
  readonly workerUrl?: URL;
}

export interface RecogniserThreadEvents extends Record<string, unknown> {
  /** A partial or final, its times on the fed stream's timeline (ms since the first sample fed). */
  result: RecognitionResult;
  /** The thread loaded its model and takes audio (after each start and restart). */
  ready: Record<string, never>;
  /** The thread failed or died; it is restarted after a delay. */
  failure: { readonly code: RecogniserErrorCode | 'EXITED'; readonly message: string };
}

/** What the thread has done, read at scrape time. */
export interface RecogniserThreadStats {
  failures: number;
  restarts: number;
  droppedChunks: number;
  /** CPU the recogniser thread spent decoding, and the audio it decoded. */
  cpuMs: number;
  audioMs: number;
}

const MAX_RESTART_DELAY_MS = 30_000;
/**
 * 10 s of 100 ms chunks (19 KB each: under 2 MB per captioned Space). A thread loading its model, or
 * slowed by a busy machine, catches up at several times real time; at 2 s (the first bound) a model
 * loading on a loaded machine dropped a sentence's first words.
 */
const MAX_BACKLOG_CHUNKS = 100;
/** The stage's rate: 48 kHz. */
const PCM_SAMPLES_PER_MS = 48;

/**
 * A recogniser on a worker thread of its own: PCM goes in with `feed` (never blocking the caller),
 * results come out as events on the stream's timeline. A thread that fails, throws or exits is logged,
 * counted and started again; chunks it lost are lost, the timeline goes on.
 */
export class RecogniserThread {
  readonly events: TypedEmitter<RecogniserThreadEvents>;
  readonly stats: RecogniserThreadStats = { failures: 0, restarts: 0, droppedChunks: 0, cpuMs: 0, audioMs: 0 };
  readonly #o: RecogniserThreadOptions;
  #worker: Worker | undefined;
  #restartTimer: TimerHandle | undefined;
  #delayMs: number;
  #backlog = 0;
  #ready = false;
  /** Audio offered since the start (fed or dropped), ms: the stream's timeline. */
  #offered = 0;
  /** Audio the current thread has been sent, ms: its own timeline. */
  #sent = 0;
  /** Where the thread's timeline meets the stream's: [thread ms, stream ms], one per gap. */
  #anchors: [number, number][] = [];
  /** Samples were offered and not sent since the last anchor (or the thread is new). */
  #gap = true;
  /** Audio the current thread has decoded, ms of its own timeline; and the furthest heard on the stream's. */
  #decoded = 0;
  #heardMs = 0;
  #closed = false;
  /** Flushes sent to the current thread and not answered yet, oldest first (a thread answers in order). */
  #flushes: (() => void)[] = [];

  constructor(options: RecogniserThreadOptions) {
    this.#o = options;
    this.events = new TypedEmitter(options.onListenerError);
    this.#delayMs = options.restartDelayMs ?? 1000;
    this.#start();
  }

  /** Sends a chunk of 48 kHz mono float PCM; its buffer is transferred (the caller must not reuse it). */
  feed(pcm: Float32Array<ArrayBuffer>): void {
    const at = this.#offered;
    this.#offered += pcm.length / PCM_SAMPLES_PER_MS;
    const worker = this.#worker;
    if (worker === undefined || this.#backlog >= (this.#o.maxBacklogChunks ?? MAX_BACKLOG_CHUNKS)) {
      if (worker !== undefined) this.stats.droppedChunks++;
      this.#gap = true;
      return;
    }
    if (this.#gap) this.#anchors.push([this.#sent, at]);
    this.#gap = false;
    this.#sent += pcm.length / PCM_SAMPLES_PER_MS;
    this.#backlog++;
    worker.postMessage({ type: 'pcm', pcm }, [pcm.buffer]);
  }

  /**
   * Ends the utterance in progress: its final comes as an event, before the promise resolves. It
   * resolves at once when the thread is down, and when the thread fails or closes before answering.
   */
  flush(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return Promise.resolve();
    worker.postMessage({ type: 'flush' });
    return new Promise((resolve) => this.#flushes.push(resolve));
  }

  /** Ends the thread as a crash would (for drills and tests): it is counted and restarted. */
  kill(): void {
    void this.#worker?.terminate();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#restartTimer !== undefined) this.#o.clock.clearTimeout(this.#restartTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
    this.#settleFlushes();
  }

  #settleFlushes(): void {
    const waiting = this.#flushes;
    this.#flushes = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves once the thread has its model loaded (at once if it has now). */
  whenReady(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.events.on('ready', () => {
        off();
        resolve();
      });
    });
  }

  #start(): void {
    this.#ready = false;
    const setup: WorkerSetup = { modelDir: this.#o.modelDir };
    const worker = new Worker(this.#o.workerUrl ?? new URL('./worker.ts', import.meta.url), { workerData: setup });
    this.#worker = worker;
    this.#backlog = 0;
    this.#sent = 0;
    this.#decoded = 0;
    this.#anchors = [];
    this.#gap = true;
    worker.on('message', (message: WorkerOut) => {
      if (this.#worker !== worker) return;
      if (message.type === 'ready') {
        this.#delayMs = this.#o.restartDelayMs ?? 1000;
        this.#ready = true;
        this.events.emit('ready', {});
      } else if (message.type === 'failed') this.#failed(worker, message.code, message.message);
      else {
        if (message.audioMs > 0) this.#backlog = Math.max(0, this.#backlog - 1);
        this.stats.cpuMs += message.cpuMs;
        this.stats.audioMs += message.audioMs;
        this.#decoded += message.audioMs;
        this.#heardMs = Math.max(this.#heardMs, this.#toStream(this.#decoded));
        for (const result of message.results) this.events.emit('result', this.#onStream(result));
        if (message.audioMs === 0) this.#flushes.shift()?.();
      }
    });
    worker.on('error', (error: Error) => this.#failed(worker, 'WORKER_FAILED', error.message));
    worker.on('exit', (code) => this.#failed(worker, 'EXITED', `the recogniser thread exited (${code})`));
  }

  #failed(worker: Worker, code: RecogniserErrorCode | 'EXITED', message: string): void {
    if (this.#worker !== worker || this.#closed) return;
    this.#worker = undefined;
    void worker.terminate();
    this.#settleFlushes();
    this.stats.failures++;
    this.#o.log.error({ code, delayMs: this.#delayMs }, `captions recogniser failed: ${message}`);
    this.events.emit('failure', { code, message });
    this.#restartTimer = this.#o.clock.setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#closed) return;
      this.stats.restarts++;
      this.#start();
    }, this.#delayMs);
    this.#delayMs = Math.min(MAX_RESTART_DELAY_MS, this.#delayMs * 2);
  }

  /**
   * How far into the stream the recogniser has heard (ms on the stream's timeline): results for audio
   * before it have come out. It stands still while the thread is down.
   */
  get heardMs(): number {
    return this.#heardMs;
  }

  /** A time on the thread's timeline moved onto the stream's. */
  #toStream(ms: number): number {
    let anchor: [number, number] = [0, 0];
    for (const a of this.#anchors) if (a[0] <= ms) anchor = a;
    return Math.round(ms - anchor[0] + anchor[1]);
  }

  /** A result's times moved from the thread's timeline onto the stream's. */
  #onStream(result: RecognitionResult): RecognitionResult {
    const map = (ms: number): number => this.#toStream(ms);
    if (result.kind === 'partial') return { ...result, startMs: map(result.startMs) };
    return {
      ...result,
      startMs: map(result.startMs),
      endMs: map(result.endMs),
      words: result.words.map((w) => ({ ...w, startMs: map(w.startMs), endMs: map(w.endMs) })),
    };
  }
}
