/**
 * Live captions in real time (a recogniser thread fed flite speech at about 2x real time): how soon a
 * line shows and how close it is. Timing is only meaningful on a quiet machine, so `npm test` runs this
 * file alone, after the main suite (files named *.drill.ts); the socket-free rules of `Captions` are in
 * captions.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Captions } from '../../src/captions/captions.ts';
import { normaliseWords, wordErrorRate } from '../../src/captions/wer.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { rethrow } from '../helpers/events.ts';
import { optionalSuite } from '../helpers/skip.ts';
import { FakeRoom } from './fake-room.ts';
import { eventually } from '../helpers/eventually.ts';
import { captionsSkip, SENTENCES, speak, spokenScript } from './speech.ts';

const log = pino({ level: 'silent' });

optionalSuite('live captions of a program', { skip: captionsSkip('live captions of a program'), timeout: 120_000 }, () => {
  test('flite sentences fed as 20 ms program frames: lines within 2 s of each sentence, WER < 10%', async () => {
    const sentences = SENTENCES.slice(0, 2);
    const { pcm, startsMs } = spokenScript(sentences);
    const captions = new Captions({
      enabled: true,
      defaultOn: true,
      maxSpaces: 1,
      modelDir: '/usr/share/pocketsphinx/model/en-us',
      clock: systemClock,
      log,
      onListenerError: rethrow,
    });
    const room = new FakeRoom('sp_live');
    // The program started 10 s before captions: lines are on the program's timeline.
    const firstSequence = 500;
    captions.attach(room);
    // The thread loads its model (~0.5 s) before it takes audio: fed from then on, as the stage would be.
    await captions.thread('sp_live')!.whenReady();
    const seen: { atMs: number; text: string }[] = [];
    try {
      for (let n = 0; n * 960 < pcm.length; n++) {
        for (const listener of room.listeners) listener(pcm.slice(n * 960, (n + 1) * 960), firstSequence + n);
        // About 2x real time: the recogniser thread keeps up, the test is short.
        if (n % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 50));
        const partial = captions.view('sp_live').lines.at(-1);
        if (partial !== undefined) seen.push({ atMs: n * 20, text: partial.text });
      }
      // The last sentence's final comes once the recogniser hears the silence after it.
      const finals = await eventually(
        'a final line per sentence',
        () => {
          const now = captions.lines('sp_live').filter((l) => l.final);
          return now.length >= sentences.length ? now : undefined;
        },
        { timeoutMs: 5000, intervalMs: 50 },
      );
      const wer = wordErrorRate(sentences.join(' '), finals.map((l) => l.text).join(' '));
      assert.ok(wer < 0.1, `WER ${wer}`);
      sentences.forEach((sentence, i) => {
        const firstTwo = normaliseWords(sentence).slice(0, 2).join(' ');
        const shown = seen.find((s) => s.atMs > startsMs[i]! && s.text.startsWith(firstTwo));
        assert.ok(shown, `"${firstTwo}" shown`);
        assert.ok(shown.atMs - startsMs[i]! <= 2000, `"${firstTwo}" shown ${shown.atMs - startsMs[i]!} ms after it was said`);
        assert.ok(
          Math.abs(finals[i]!.startMs - (firstSequence * 20 + startsMs[i]!)) < 400,
          `line ${i + 1} at ${finals[i]!.startMs} on the program timeline`,
        );
      });
      assert.equal(captions.view('sp_live').automatic, true);
    } finally {
      captions.close();
    }
  });

  test("the transcript: final lines kept across the host's toggles, the last utterance flushed when the program ends", async () => {
    const [first, second] = SENTENCES.slice(0, 2).map((text) => speak(text).pcm) as [Float32Array, Float32Array];
    const captions = new Captions({
      enabled: true,
      defaultOn: false,
      maxSpaces: 1,
      modelDir: '/usr/share/pocketsphinx/model/en-us',
      clock: systemClock,
      log,
      onListenerError: rethrow,
    });
    const room = new FakeRoom('sp_transcript');
    captions.attach(room);
    let sequence = 0;
    const feed = async (pcm: Float32Array) => {
      for (let n = 0; n * 960 < pcm.length; n++, sequence++) {
        for (const listener of room.listeners) listener(pcm.slice(n * 960, (n + 1) * 960), sequence);
        if (n % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    try {
      captions.set('sp_transcript', true);
      await captions.thread('sp_transcript')!.whenReady();
      await feed(first);
      await feed(new Float32Array(48 * 1500));
      await wait(1500);
      captions.set('sp_transcript', false);
      await feed(new Float32Array(48 * 1000)); // not captioned meanwhile
      captions.set('sp_transcript', true);
      await captions.thread('sp_transcript')!.whenReady();
      await feed(second); // the program ends right after it: no silence to end the utterance
      const done = new Promise<{ spaceId: string; lines: readonly { text: string }[] }>((resolve) =>
        captions.events.on('transcript', resolve),
      );
      await captions.end('sp_transcript');
      const transcript = await done;
      const text = transcript.lines.map((l) => l.text).join(' ');
      const wer = wordErrorRate(SENTENCES.slice(0, 2).join(' '), text);
      assert.ok(wer < 0.1, `WER ${wer}: ${text}`);
      assert.equal(transcript.spaceId, 'sp_transcript');
      assert.equal(captions.transcript('sp_transcript'), undefined, 'it leaves memory');
      assert.equal(captions.activeSpaces, 0);
    } finally {
      captions.close();
    }
  });
});
