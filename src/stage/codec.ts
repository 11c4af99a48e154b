import { Decoder, Encoder } from '@evan/opus';
import { FRAME_SAMPLES, int16ToMono, monoToInt16, SAMPLE_RATE, type Frame } from './audio.ts';

/**
 * Opus through `@evan/opus` (libopus; a prebuilt N-API binary for linux-x64, WebAssembly elsewhere).
 * Speakers may send mono or stereo; the stage decodes everything to mono 48 kHz frames.
 */
export class OpusDecoderMono {
  readonly #decoder = new Decoder({ channels: 2, sample_rate: SAMPLE_RATE });

  /** One Opus packet to one mono frame; undefined for a packet that is not 20 ms or does not decode. */
  decode(packet: Uint8Array): Frame | undefined {
    try {
      const pcm = this.#decoder.decode(packet);
      const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);
      if (samples.length !== FRAME_SAMPLES * 2) return undefined;
      return int16ToMono(samples, 2);
    } catch {
      return undefined;
    }
  }
}

export interface EncoderOptions {
  readonly bitrateBps: number;
  readonly channels?: 1 | 2;
  /** libopus complexity 0-10: CPU for quality. */
  readonly complexity?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
  readonly application?: 'voip' | 'audio' | 'restricted_lowdelay';
}

/** Mono frames to Opus packets (20 ms, VBR, voice-tuned). */
export class OpusEncoderMono {
  readonly #encoder: Encoder;
  readonly #channels: 1 | 2;

  constructor(options: EncoderOptions) {
    this.#channels = options.channels ?? 1;
    this.#encoder = new Encoder({
      channels: this.#channels,
      sample_rate: SAMPLE_RATE,
      application: options.application ?? 'voip',
    });
    this.#encoder.bitrate = options.bitrateBps;
    this.#encoder.complexity = options.complexity ?? 5;
  }

  encode(frame: Frame): Uint8Array {
    return this.#encoder.encode(monoToInt16(frame, this.#channels));
  }

  /** Samples of lookahead: the Opus pre-skip a player drops at the start. */
  get lookahead(): number {
    // `lookahead` at run time; the package's types misspell it `lookhead` (which reads undefined).
    return (this.#encoder as unknown as { readonly lookahead: number }).lookahead;
  }
}
