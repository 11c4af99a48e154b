/**
 * What captions need of a speech recogniser, whatever the engine: 16 kHz mono int16 PCM in, partial
 * hypotheses and final utterances with word timings out. Times are in ms of audio fed since the
 * recogniser was made (not wall-clock): the caller maps them onto its own timeline.
 */

/** The rate every recogniser takes. */
export const RECOGNISER_SAMPLE_RATE = 16_000;

export interface CaptionWord {
  readonly word: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** What the engine believes is being said now; replaced by the next partial or the final. */
export interface PartialHypothesis {
  readonly kind: 'partial';
  readonly text: string;
  /** When the utterance started being heard, in audio ms. */
  readonly startMs: number;
}

/** A finished utterance (the speaker paused): its text will not change again. */
export interface FinalUtterance {
  readonly kind: 'final';
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly words: readonly CaptionWord[];
}

export type RecognitionResult = PartialHypothesis | FinalUtterance;

/** One stream of speech. `feed` and `flush` are synchronous and CPU-bound: run them off the event loop. */
export interface Recogniser {
  /** Decodes a chunk (any length, 100 ms is a good size) and returns what changed because of it. */
  feed(pcm: Int16Array): RecognitionResult[];
  /** Ends the utterance in progress (if any) and returns its final. */
  flush(): RecognitionResult[];
  /** Frees the engine's memory. Idempotent; the recogniser is unusable after it. */
  close(): void;
}

/** Why an engine cannot recognise here. */
export type RecogniserErrorCode = 'LIBRARY_MISSING' | 'MODEL_MISSING' | 'INIT_FAILED' | 'DECODE_FAILED' | 'WORKER_FAILED';

export class RecogniserError extends Error {
  readonly code: RecogniserErrorCode;
  constructor(code: RecogniserErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecogniserError';
    this.code = code;
  }
}

export type Availability = { readonly ok: true } | { readonly ok: false; readonly error: RecogniserError };

/** An engine that makes recognisers: pocketsphinx today, another one swapped in behind the same shape. */
export interface RecogniserEngine {
  readonly name: string;
  /** Whether `create` can work here (library and model present); never throws. */
  available(): Availability;
  /** Throws a `RecogniserError` when it cannot. */
  create(): Recogniser;
}
