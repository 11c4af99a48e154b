import { Decoder, Encoder } from '@evan/opus';
import { FRAME_SAMPLES, int16ToMono, monoToInt16Into, SAMPLE_RATE, type Frame } from './audio.ts';

/**
 * Opus through `@evan/opus` (libopus; a prebuilt N-API binary for linux-x64, WebAssembly elsewhere).
 * Speakers may send mono or stereo; the stage decodes everything to mono 48 kHz frames.
 */
export class OpusDecoderMono {
  /**
   * A mono decoder: libopus downmixes a stereo stream itself (the mean of its channels, as the stage
   * did after a stereo decode), and decodes about a fifth faster than to stereo (42 vs 53 us a frame).
   */
  readonly #decoder = new Decoder({ channels: 1, sample_rate: SAMPLE_RATE });

  /** One Opus packet to one mono frame; undefined for a packet that is not 20 ms or does not decode. */
  decode(packet: Uint8Array): Frame | undefined {
    try {
      const pcm = this.#decoder.decode(packet);
      if (pcm.byteLength !== FRAME_SAMPLES * 2) return undefined;
      return int16ToMono(new Int16Array(pcm.buffer, pcm.byteOffset, FRAME_SAMPLES), 1);
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
  /** The PCM handed to libopus, reused: it copies it before `encode` returns. */
  #pcm: Int16Array | undefined;

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

  /** The packet is a view into the library's output buffer, valid until the next `encode` of any encoder: send or copy it at once. */
  encode(frame: Frame): Uint8Array {
    const size = frame.length * this.#channels;
    if (this.#pcm?.length !== size) this.#pcm = new Int16Array(size);
    return this.#encoder.encode(monoToInt16Into(frame, this.#channels, this.#pcm));
  }

  /** Samples of lookahead: the Opus pre-skip a player drops at the start. */
  get lookahead(): number {
    // `lookahead` at run time; the package's types misspell it `lookhead` (which reads undefined).
    return (this.#encoder as unknown as { readonly lookahead: number }).lookahead;
  }
}
