// Makes assets/demo-voice.opus-frames, the built-in demo speaker's clip: a 48 kHz mono WAV (made
// with `espeak-ng -w voice.wav "..." && sox voice.wav -r 48000 -c 1 -b 16 voice48.wav`) encoded as
// 20 ms Opus frames, each stored as a 2-byte big-endian length and the packet, plus 1 s of silence.
//   node scripts/demo-clip.ts voice48.wav
import { readFileSync, writeFileSync } from 'node:fs';
import { FRAME_SAMPLES } from '../src/stage/audio.ts';
import { OpusEncoderMono } from '../src/stage/codec.ts';

const wav = readFileSync(process.argv[2] ?? 'voice48.wav');
const dataAt = wav.indexOf('data') + 8;
const pcm = new Int16Array(wav.buffer, wav.byteOffset + dataAt, (wav.length - dataAt) >> 1);
const encoder = new OpusEncoderMono({ bitrateBps: 32_000, application: 'voip', complexity: 10 });
const out: Buffer[] = [];
const frames = Math.ceil(pcm.length / FRAME_SAMPLES) + 50;
for (let f = 0; f < frames; f++) {
  const frame = new Float32Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = (pcm[f * FRAME_SAMPLES + i] ?? 0) / 32768;
  const packet = encoder.encode(frame);
  const header = Buffer.alloc(2);
  header.writeUInt16BE(packet.length);
  out.push(header, Buffer.from(packet));
}
writeFileSync(new URL('../assets/demo-voice.opus-frames', import.meta.url), Buffer.concat(out));
console.log(`${frames} frames`);
