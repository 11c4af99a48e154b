import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { RecogniserThread, type RecogniserThreadEvents } from '../../src/captions/recogniser-thread.ts';
import type { FinalUtterance } from '../../src/captions/recogniser.ts';
import { wordErrorRate } from '../../src/captions/wer.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { optionalSuite } from '../helpers/skip.ts';
import { captionsSkip, SENTENCES, spokenScript } from './speech.ts';

const log = pino({ level: 'silent' });
const rethrow = (_event: string, error: unknown) => {
  throw error;
};

function nextEvent<K extends keyof RecogniserThreadEvents>(
  thread: RecogniserThread,
  event: K,
  timeoutMs = 20_000,
): Promise<RecogniserThreadEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(event)} in ${timeoutMs} ms`)), timeoutMs);
    const off = thread.events.on(event, (payload) => {
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** 100 ms chunks of 48 kHz audio, each its own buffer (they are transferred). */
function feedChunks(thread: RecogniserThread, pcm: Float32Array, fromMs: number, toMs: number): void {
  for (let at = fromMs * 48; at < Math.min(pcm.length, toMs * 48); at += 4800)
    thread.feed(pcm.slice(at, Math.min(at + 4800, toMs * 48)));
}

test('a thread whose model is missing reports a typed failure, is counted and restarted', async () => {
  const thread = new RecogniserThread({
    clock: systemClock,
    log,
    onListenerError: rethrow,
    modelDir: '/nonexistent/model',
    restartDelayMs: 20,
  });
  try {
    const failure = await nextEvent(thread, 'failure');
    assert.ok(failure.code === 'MODEL_MISSING' || failure.code === 'LIBRARY_MISSING', failure.code);
    await nextEvent(thread, 'failure');
    assert.ok(thread.stats.failures >= 2);
    assert.ok(thread.stats.restarts >= 1, 'started again after the delay');
  } finally {
    thread.close();
  }
});

optionalSuite(
  'the recogniser on its own thread',
  { skip: captionsSkip('the recogniser on its own thread'), timeout: 120_000 },
  () => {
    test('killed mid-show: counted, restarted, and captions resume on the same timeline', async () => {
      const { pcm, startsMs } = spokenScript(SENTENCES.slice(0, 3));
      const thread = new RecogniserThread({
        clock: systemClock,
        log,
        onListenerError: rethrow,
        restartDelayMs: 50,
        maxBacklogChunks: 1000,
      });
      const finals: FinalUtterance[] = [];
      thread.events.on('result', (r) => {
        if (r.kind === 'final') finals.push(r);
      });
      try {
        // The first sentence and the pause after it.
        feedChunks(thread, pcm, 0, startsMs[1]! - 500);
        void thread.flush();
        while (finals.length < 1) await nextEvent(thread, 'result');
        // A crash; what is offered while the thread is down is lost, the timeline goes on.
        const failed = nextEvent(thread, 'failure');
        thread.kill();
        assert.equal((await failed).code, 'EXITED');
        feedChunks(thread, pcm, startsMs[1]! - 500, startsMs[1]! - 300);
        await new Promise((resolve) => setTimeout(resolve, 100));
        feedChunks(thread, pcm, startsMs[1]! - 300, pcm.length / 48);
        void thread.flush();
        while (finals.length < 3) await nextEvent(thread, 'result');
        const wer = wordErrorRate(SENTENCES.slice(0, 3).join(' '), finals.map((f) => f.text).join(' '));
        // Not the accuracy test (recogniser.test.ts is): a new decoder's cepstral mean starts again from
        // the model's prior, so a sentence right after the restart can lose a word or two.
        assert.ok(wer < 0.2, `WER ${wer}: ${finals.map((f) => `${f.startMs}: ${f.text}`).join(' | ')}`);
        assert.equal(thread.stats.failures, 1);
        assert.equal(thread.stats.restarts, 1);
        finals.forEach((f, i) =>
          assert.ok(
            Math.abs(f.words[0]!.startMs - startsMs[i]!) < 400,
            `sentence ${i + 1} at ${f.words[0]!.startMs}, spoken at ${startsMs[i]}`,
          ),
        );
        assert.ok(thread.stats.cpuMs > 0 && thread.stats.audioMs > 0);
        console.log(
          `recogniser thread: ${((thread.stats.cpuMs / thread.stats.audioMs) * 1000).toFixed(0)} CPU-ms per audio-second`,
        );
      } finally {
        thread.close();
      }
    });
  },
);
