/**
 * The recogniser's thread: one per captioned Space, so decoding (5–9 ms of CPU per 100 ms chunk)
 * never runs on the event loop that ticks the stage every 20 ms. Messages in: `pcm` (48 kHz mono float,
 * transferred; downsampled here), `flush`; out: `ready`, `results` (one per chunk, with the CPU it took), `failed`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Downsampler48to16 } from './downsample.ts';
import { PocketsphinxEngine } from './pocketsphinx.ts';
import { RecogniserError, type Recogniser } from './recogniser.ts';
import type { WorkerIn, WorkerOut, WorkerSetup } from './worker-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('captions/worker.ts runs as a worker thread');
const setup = workerData as WorkerSetup;

function post(message: WorkerOut): void {
  port!.postMessage(message);
}

function fail(error: unknown): void {
  const e = error instanceof RecogniserError ? error : new RecogniserError('DECODE_FAILED', String(error), { cause: error });
  post({ type: 'failed', code: e.code, message: e.message });
}

const downsampler = new Downsampler48to16();
let recogniser: Recogniser | undefined;
try {
  recogniser = new PocketsphinxEngine({ modelDir: setup.modelDir }).create();
  post({ type: 'ready' });
} catch (error) {
  fail(error);
}

port.on('message', (message: WorkerIn) => {
  if (recogniser === undefined) return;
  const started = process.threadCpuUsage();
  try {
    const results = message.type === 'pcm' ? recogniser.feed(downsampler.push(message.pcm)) : recogniser.flush();
    const used = process.threadCpuUsage(started);
    post({
      type: 'results',
      results,
      cpuMs: (used.user + used.system) / 1000,
      audioMs: message.type === 'pcm' ? message.pcm.length / 48 : 0,
    });
  } catch (error) {
    recogniser = undefined;
    fail(error);
  }
});
