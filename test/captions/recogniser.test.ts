import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Downsampler48to16 } from '../../src/captions/downsample.ts';
import { PocketsphinxEngine } from '../../src/captions/pocketsphinx.ts';
import { RecogniserError, type FinalUtterance, type RecognitionResult } from '../../src/captions/recogniser.ts';
import { normaliseWords, wordErrorRate } from '../../src/captions/wer.ts';
import { optionalSuite } from '../helpers/skip.ts';
import { captionsSkip, SENTENCES, spokenScript } from './speech.ts';

test('a missing model or library is a typed error from available(), never a crash', () => {
  const noModel = new PocketsphinxEngine({ modelDir: '/nonexistent/model' }).available();
  assert.equal(noModel.ok, false);
  assert.equal(!noModel.ok && noModel.error.code, 'MODEL_MISSING');
  const noLibrary = new PocketsphinxEngine({ library: 'libpocketsphinx-missing.so.9' }).available();
  assert.equal(!noLibrary.ok && noLibrary.error.code, 'LIBRARY_MISSING');
  assert.throws(
    () => new PocketsphinxEngine({ library: 'libpocketsphinx-missing.so.9' }).create(),
    (e: unknown) => e instanceof RecogniserError && e.code === 'LIBRARY_MISSING',
  );
});

optionalSuite('pocketsphinx on flite speech', { skip: captionsSkip('pocketsphinx on flite speech'), timeout: 120_000 }, () => {
  test('100 ms chunks: WER under 10%, the first words in a partial within 2 s, word times inside their sentence', () => {
    const { pcm, startsMs } = spokenScript(SENTENCES);
    const recogniser = new PocketsphinxEngine().create();
    const downsampler = new Downsampler48to16();
    const heard: { atMs: number; result: RecognitionResult }[] = [];
    try {
      for (let at = 0; at < pcm.length; at += 4800) {
        const results = recogniser.feed(downsampler.push(pcm.subarray(at, at + 4800)));
        const atMs = Math.min(pcm.length, at + 4800) / 48;
        for (const result of results) heard.push({ atMs, result });
      }
      for (const result of recogniser.flush()) heard.push({ atMs: pcm.length / 48, result });
    } finally {
      recogniser.close();
    }
    const finals = heard.map((h) => h.result).filter((r): r is FinalUtterance => r.kind === 'final');
    const transcript = finals.map((f) => f.text).join(' ');
    const wer = wordErrorRate(SENTENCES.join(' '), transcript);
    console.log(`flite WER ${(wer * 100).toFixed(1)}% (${finals.length} finals): ${transcript}`);
    assert.ok(wer < 0.1, `WER ${wer} ≥ 10%: ${transcript}`);
    assert.equal(finals.length, SENTENCES.length, 'one final per sentence (the pauses end utterances)');
    SENTENCES.forEach((sentence, i) => {
      const firstTwo = normaliseWords(sentence).slice(0, 2).join(' ');
      const partial = heard.find(
        (h) => h.atMs > startsMs[i]! && h.result.kind === 'partial' && h.result.text.startsWith(firstTwo),
      );
      assert.ok(partial, `a partial starting "${firstTwo}"`);
      const latency = partial.atMs - startsMs[i]!;
      console.log(`sentence ${i + 1}: "${firstTwo}" in a partial ${latency.toFixed(0)} ms after the voice started`);
      assert.ok(latency <= 2000, `"${firstTwo}" heard ${latency} ms after the sentence started`);
      const words = finals[i]!.words;
      assert.ok(
        words[0]!.startMs >= startsMs[i]! - 300 && words[0]!.startMs <= startsMs[i]! + 500,
        `first word at ${words[0]!.startMs}, voice at ${startsMs[i]}`,
      );
      assert.ok(
        words.every((w, k) => w.endMs > w.startMs && (k === 0 || w.startMs >= words[k - 1]!.startMs)),
        'word times in order',
      );
    });
  });
});
