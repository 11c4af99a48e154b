import { writeFileSync } from 'node:fs';

/** A 16-bit PCM WAV of a sine tone, every channel in phase. */
export function toneWav(frequencyHz: number, seconds: number, { rate = 48_000, channels = 1, amplitude = 0.5 } = {}): Buffer {
  const frames = rate * seconds;
  const frameBytes = 2 * channels;
  const buf = Buffer.alloc(44 + frames * frameBytes);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + frames * frameBytes, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * frameBytes, 28);
  buf.writeUInt16LE(frameBytes, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(frames * frameBytes, 40);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequencyHz * i) / rate));
    for (let c = 0; c < channels; c++) buf.writeInt16LE(v, 44 + i * frameBytes + c * 2);
  }
  return buf;
}

/** Writes a mono 16-bit 48 kHz WAV of a sine tone: the fake microphone Chromium reads. */
export function writeToneWav(path: string, frequencyHz: number, seconds: number, amplitude = 0.5): void {
  writeFileSync(path, toneWav(frequencyHz, seconds, { amplitude }));
}
