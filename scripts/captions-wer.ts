// The recogniser's accuracy and cost, printed: WER over Debian's pocketsphinx-testdata LibriVox clips
// (real read speech, with reference transcripts) and over flite-spoken sentences, and the CPU per audio
// second when fed the live way (100 ms chunks). Usage: npx node scripts/captions-wer.ts [testdata dir]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Downsampler48to16 } from '../src/captions/downsample.ts';
import { PocketsphinxEngine } from '../src/captions/pocketsphinx.ts';
import { wordEditDistance, normaliseWords } from '../src/captions/wer.ts';
import { decodeWav } from '../src/publish/audio-source.ts';

const dir = process.argv[2] ?? '/usr/share/pocketsphinx/test/data/librivox';
const FLITE = [
  'The quick brown fox jumps over the lazy dog.',
  'Please call me back when you have finished reading the report.',
  'We will meet again next week to talk about the new project.',
  'The weather today is sunny with a light breeze from the west.',
  'Our guest tonight has written three books about the history of music.',
  'Thank you all for listening, and see you at the same time tomorrow.',
];

interface Clip {
  readonly name: string;
  readonly pcm: Float32Array;
  readonly reference: string;
}

function librivox(): Clip[] {
  const transcription = join(dir, 'transcription');
  if (!existsSync(transcription)) {
    console.log(`no LibriVox clips in ${dir}: install pocketsphinx-testdata`);
    return [];
  }
  return readFileSync(transcription, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const match = /^(.*)\((\S+)\)\s*$/.exec(line);
      if (match === null) throw new Error(`unexpected transcription line: ${line}`);
      const name = match[2]!;
      return { name, pcm: decodeWav(readFileSync(join(dir, `${name}.wav`))), reference: match[1]!.replace(/<\/?s>/g, '') };
    });
}

function flite(): Clip[] {
  const tmp = mkdtempSync(join(tmpdir(), 'amphi-captions-wer-'));
  try {
    return FLITE.map((text, i) => {
      const file = join(tmp, `${i}.wav`);
      if (spawnSync('flite', ['-voice', 'slt', '-t', text, '-o', file]).status !== 0)
        throw new Error('flite failed: install flite');
      return { name: `flite ${i + 1}`, pcm: decodeWav(readFileSync(file)), reference: text };
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const engine = new PocketsphinxEngine({ extraArgs: process.env.PS_ARGS?.split(' ').filter((a) => a !== '') ?? [] });
const availability = engine.available();
if (!availability.ok) {
  console.error(availability.error.message);
  process.exit(1);
}

/** Each clip through its own recogniser in 100 ms chunks (as live), one second of silence after it. */
function measure(label: string, clips: readonly Clip[]): void {
  if (clips.length === 0) return;
  let edits = 0;
  let words = 0;
  let cpuMs = 0;
  let audioMs = 0;
  let worstChunkMs = 0;
  for (const clip of clips) {
    const recogniser = engine.create();
    const downsampler = new Downsampler48to16();
    const pcm = new Float32Array(clip.pcm.length + 48_000);
    pcm.set(clip.pcm);
    const finals: string[] = [];
    for (let at = 0; at <= pcm.length; at += 4800) {
      const started = process.cpuUsage();
      const results = at < pcm.length ? recogniser.feed(downsampler.push(pcm.subarray(at, at + 4800))) : recogniser.flush();
      const used = process.cpuUsage(started);
      const ms = (used.user + used.system) / 1000;
      cpuMs += ms;
      worstChunkMs = Math.max(worstChunkMs, ms);
      for (const r of results) if (r.kind === 'final') finals.push(r.text);
    }
    recogniser.close();
    audioMs += pcm.length / 48;
    const ref = normaliseWords(clip.reference);
    const hyp = normaliseWords(finals.join(' '));
    const distance = wordEditDistance(ref, hyp);
    edits += distance;
    words += ref.length;
    console.log(`  ${clip.name}: ${distance}/${ref.length} errors\n    ref: ${ref.join(' ')}\n    hyp: ${hyp.join(' ')}`);
  }
  console.log(
    `${label}: WER ${((edits / words) * 100).toFixed(1)}% over ${words} words in ${clips.length} clips; ` +
      `${((cpuMs / audioMs) * 1000).toFixed(0)} CPU-ms per audio-second (${(cpuMs / (audioMs / 100)).toFixed(1)} ms per 100 ms chunk, worst ${worstChunkMs.toFixed(1)} ms)`,
  );
}

/** The clips one after another through one recogniser, as a live Space would feed it. */
function continuous(label: string, clips: readonly Clip[]): void {
  if (clips.length === 0) return;
  const recogniser = engine.create();
  const downsampler = new Downsampler48to16();
  const finals: string[] = [];
  for (const clip of clips) {
    const pcm = new Float32Array(clip.pcm.length + 48_000);
    pcm.set(clip.pcm);
    for (let at = 0; at < pcm.length; at += 4800)
      for (const r of recogniser.feed(downsampler.push(pcm.subarray(at, at + 4800)))) if (r.kind === 'final') finals.push(r.text);
  }
  for (const r of recogniser.flush()) if (r.kind === 'final') finals.push(r.text);
  recogniser.close();
  const ref = normaliseWords(clips.map((c) => c.reference).join(' '));
  console.log(
    `${label}, one stream: WER ${((wordEditDistance(ref, normaliseWords(finals.join(' '))) / ref.length) * 100).toFixed(1)}%`,
  );
}

const books = librivox();
const spoken = flite();
measure('LibriVox (pocketsphinx-testdata), a recogniser per clip', books);
continuous('LibriVox (pocketsphinx-testdata)', books);
measure('flite voice slt, a recogniser per sentence', spoken);
continuous('flite voice slt', spoken);
