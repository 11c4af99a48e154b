import type { RecognitionResult, RecogniserErrorCode } from './recogniser.ts';

/** What the recogniser thread is started with. */
export interface WorkerSetup {
  readonly modelDir: string | undefined;
}

/** `pcm`: 48 kHz mono float (the stage's frames); the thread downsamples it for the recogniser. */
export type WorkerIn = { readonly type: 'pcm'; readonly pcm: Float32Array } | { readonly type: 'flush' };

export type WorkerOut =
  | { readonly type: 'ready' }
  | { readonly type: 'results'; readonly results: RecognitionResult[]; readonly cpuMs: number; readonly audioMs: number }
  | { readonly type: 'failed'; readonly code: RecogniserErrorCode; readonly message: string };
