import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { FRAME_SAMPLES, SAMPLE_RATE, toneFrame, type Frame } from '../stage/audio.ts';

/** What `amphi publish` sends: 20 ms mono 48 kHz frames, pulled one at a time; undefined at the end. */
export interface AudioSource {
  readonly describe: string;
  next(): Frame | undefined;
}

/** A sine tone, for ever (the caller's --duration ends it). */
export function toneSource(frequencyHz: number, amplitude = 0.3): AudioSource {
  let at = 0;
  return {
    describe: `a ${frequencyHz} Hz tone`,
    next() {
      const frame = toneFrame(frequencyHz, amplitude, at);
      at += FRAME_SAMPLES;
      return frame;
    },
  };
}

/** Frames cut from one decoded signal (mono 48 kHz); the last is padded with silence. */
export function signalSource(signal: Float32Array, describe: string): AudioSource {
  let at = 0;
  return {
    describe,
    next() {
      if (at >= signal.length) return undefined;
      const frame = new Float32Array(FRAME_SAMPLES);
      frame.set(signal.subarray(at, at + FRAME_SAMPLES));
      at += FRAME_SAMPLES;
      return frame;
    },
  };
}

/** Thrown for an input `amphi publish` cannot read, with a one-line reason. */
export class SourceError extends Error {}

/**
 * A file's audio: WAV (PCM 16-bit, any rate and channel count) natively; anything else through
 * `ffmpeg` when it is on the PATH.
 */
export async function fileSource(path: string): Promise<AudioSource> {
  const bytes = await readFile(path).catch((error: unknown) => {
    throw new SourceError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  });
  const isWav = bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WAVE';
  const signal = isWav ? decodeWav(bytes, path) : await decodeWithFfmpeg(path);
  return signalSource(signal, `${path} (${(signal.length / SAMPLE_RATE).toFixed(1)} s)`);
}

/** PCM16 WAV to mono 48 kHz: channels averaged, then resampled linearly. */
export function decodeWav(bytes: Buffer, name = 'the file'): Float32Array {
  let at = 12;
  let format: { channels: number; rate: number; bits: number; tag: number } | undefined;
  while (at + 8 <= bytes.length) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ' && size >= 16) {
      format = {
        tag: bytes.readUInt16LE(body),
        channels: bytes.readUInt16LE(body + 2),
        rate: bytes.readUInt32LE(body + 4),
        bits: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (format === undefined) throw new SourceError(`${name}: WAV data before its fmt chunk`);
      // 1 = PCM; 0xfffe = WAVE_FORMAT_EXTENSIBLE (its sub-format is PCM for 16-bit files in practice).
      if ((format.tag !== 1 && format.tag !== 0xfffe) || format.bits !== 16 || format.channels < 1 || format.rate < 1) {
        throw new SourceError(
          `${name}: only 16-bit PCM WAV is read natively (this one: format ${format.tag}, ${format.bits} bits); install ffmpeg for other formats`,
        );
      }
      const end = Math.min(bytes.length, body + size);
      const frames = Math.floor((end - body) / (2 * format.channels));
      const mono = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < format.channels; c++) sum += bytes.readInt16LE(body + 2 * (i * format.channels + c));
        mono[i] = sum / format.channels / 32768;
      }
      return resample(mono, format.rate, SAMPLE_RATE);
    }
    at = body + size + (size % 2); // chunks are padded to an even length
  }
  throw new SourceError(`${name}: no audio data in this WAV file`);
}

/** Linear interpolation: enough for speech and test tones (a proper resampler is ffmpeg's job). */
export function resample(signal: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return signal;
  const out = new Float32Array(Math.floor((signal.length * toRate) / fromRate));
  const step = fromRate / toRate;
  for (let i = 0; i < out.length; i++) {
    const x = i * step;
    const k = Math.floor(x);
    const a = signal[k] ?? 0;
    const b = signal[k + 1] ?? a;
    out[i] = a + (b - a) * (x - k);
  }
  return out;
}

/** Any format ffmpeg reads, decoded to mono 48 kHz; a clear error when ffmpeg is missing or fails. */
async function decodeWithFfmpeg(path: string): Promise<Float32Array> {
  const child = spawn('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-f', 's16le', '-ac', '1', '-ar', '48000', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new SourceError(`${path} is not a WAV file, and ffmpeg (which would decode it) is not on the PATH`)
          : error,
      ),
    );
    child.on('close', resolve);
  });
  if (code !== 0) throw new SourceError(`ffmpeg could not decode ${path}: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`);
  const bytes = Buffer.concat(chunks);
  const samples = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2));
  return Float32Array.from(samples, (s) => s / 32768);
}
