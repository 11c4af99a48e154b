import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_MODEL_DIR, PocketsphinxEngine } from '../../src/captions/pocketsphinx.ts';
import { decodeWav } from '../../src/publish/audio-source.ts';
import { hasCommands, skipUnless } from '../helpers/skip.ts';

/** Clear synthetic read speech (flite's slt voice): pocketsphinx's WER on it is about 2%. */
export const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Please call me back when you have finished reading the report.',
  'We will meet again next week to talk about the new project.',
  'The weather today is sunny with a light breeze from the west.',
];

/** The captions suites need flite and pocketsphinx with its model; CI installs them and sets AMPHI_TEST_CAPTIONS=1. */
export function captionsSkip(suite: string): false | string {
  return skipUnless({
    available: hasCommands('flite') && existsSync(DEBIAN_MODEL_DIR) && new PocketsphinxEngine().available().ok,
    env: 'AMPHI_TEST_CAPTIONS',
    suite,
    install: 'flite pocketsphinx-en-us (Debian)',
  });
}

/** A sentence spoken by flite (voice slt), as 48 kHz mono float, and where the voice starts in it. */
export function speak(text: string): { readonly pcm: Float32Array; readonly voiceAtMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'amphi-flite-'));
  try {
    const file = join(dir, 'sentence.wav');
    const run = spawnSync('flite', ['-voice', 'slt', '-t', text, '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (run.status !== 0) throw new Error(`flite failed: ${run.stderr.toString()}`);
    const pcm = decodeWav(readFileSync(file), file);
    const first = pcm.findIndex((s) => Math.abs(s) > 0.015);
    return { pcm, voiceAtMs: Math.max(0, first) / 48 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sentences with a pause of `gapMs` before each and after the last, and where each voice starts (ms). */
export function spokenScript(
  sentences: readonly string[],
  gapMs = 1000,
): { readonly pcm: Float32Array; readonly startsMs: number[] } {
  const gap = new Float32Array(gapMs * 48);
  const parts: Float32Array[] = [];
  const startsMs: number[] = [];
  let at = 0;
  for (const text of sentences) {
    const { pcm, voiceAtMs } = speak(text);
    parts.push(gap, pcm);
    startsMs.push(at + gapMs + voiceAtMs);
    at += gapMs + pcm.length / 48;
  }
  parts.push(gap);
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  return { pcm: all, startsMs };
}
