import { existsSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import {
  RECOGNISER_SAMPLE_RATE,
  RecogniserError,
  type Availability,
  type CaptionWord,
  type RecognitionResult,
  type Recogniser,
  type RecogniserEngine,
} from './recogniser.ts';

/** Debian's `pocketsphinx-en-us`: the acoustic model, the language model and the dictionary. */
export const DEBIAN_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/** A decoder frame is 10 ms (pocketsphinx's default `-frate 100`). */
const FRAME_MS = 10;
/** An utterance is cut here even if the speaker never pauses, so its final (and word times) arrive. */
const MAX_UTTERANCE_SAMPLES = 20 * RECOGNISER_SAMPLE_RATE;

export interface PocketsphinxOptions {
  /** Holds `en-us/` (the acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  readonly modelDir?: string;
  /** The shared libraries, by soname (Debian's `libpocketsphinx3` and `libsphinxbase3`). */
  readonly library?: string;
  readonly baseLibrary?: string;
  /** More pocketsphinx arguments (`['-beam', '1e-40']`), after the model's. */
  readonly extraArgs?: readonly string[];
}

/** The C functions used, bound once per thread. */
interface Api {
  psArgs: () => unknown;
  parse: (config: unknown, defn: unknown, argc: number, argv: string[], strict: number) => unknown;
  configFree: (config: unknown) => number;
  init: (config: unknown) => unknown;
  free: (ps: unknown) => number;
  startUtt: (ps: unknown) => number;
  processRaw: (ps: unknown, data: Int16Array, samples: number, noSearch: number, fullUtt: number) => number;
  endUtt: (ps: unknown) => number;
  getHyp: (ps: unknown, score: null) => string | null;
  inSpeech: (ps: unknown) => number;
  segIter: (ps: unknown) => unknown;
  segNext: (seg: unknown) => unknown;
  segWord: (seg: unknown) => string;
  segFrames: (seg: unknown, start: number[], end: number[]) => void;
}

/** Bound once per thread and pair of libraries: the functions, or why they could not be. */
const bound = new Map<string, Api | RecogniserError>();

function bind(library: string, baseLibrary: string): Api {
  const key = `${library} ${baseLibrary}`;
  const known = bound.get(key);
  if (known instanceof RecogniserError) throw known;
  if (known !== undefined) return known;
  try {
    const base = koffi.load(baseLibrary);
    const ps = koffi.load(library);
    const api = {
      psArgs: ps.func('void *ps_args(void)'),
      parse: base.func('void *cmd_ln_parse_r(void *inout, void *defn, int argc, const char **argv, int strict)'),
      configFree: base.func('int cmd_ln_free_r(void *config)'),
      init: ps.func('void *ps_init(void *config)'),
      free: ps.func('int ps_free(void *ps)'),
      startUtt: ps.func('int ps_start_utt(void *ps)'),
      processRaw: ps.func('int ps_process_raw(void *ps, const int16_t *data, size_t n, int no_search, int full_utt)'),
      endUtt: ps.func('int ps_end_utt(void *ps)'),
      getHyp: ps.func('const char *ps_get_hyp(void *ps, int32_t *score)'),
      inSpeech: ps.func('uint8_t ps_get_in_speech(void *ps)'),
      segIter: ps.func('void *ps_seg_iter(void *ps)'),
      segNext: ps.func('void *ps_seg_next(void *seg)'),
      segWord: ps.func('const char *ps_seg_word(void *seg)'),
      segFrames: ps.func('void ps_seg_frames(void *seg, _Out_ int *sf, _Out_ int *ef)'),
    } as Api;
    bound.set(key, api);
    return api;
  } catch (error) {
    const failure = new RecogniserError(
      'LIBRARY_MISSING',
      `pocketsphinx cannot be loaded (${library}, ${baseLibrary}): install libpocketsphinx3`,
      {
        cause: error,
      },
    );
    bound.set(key, failure);
    throw failure;
  }
}

/** Words pocketsphinx reports that were not said: silence, fillers, sentence marks. */
function isSpoken(word: string): boolean {
  return !(word.startsWith('<') || word.startsWith('[') || word.startsWith('+'));
}

/** `word(2)` is the dictionary's second pronunciation of `word`. */
function baseWord(word: string): string {
  return word.replace(/\(\d+\)$/, '');
}

/**
 * CMU pocketsphinx 0.8 (Debian's `libpocketsphinx3` with `pocketsphinx-en-us`), called through koffi.
 * One decoder per recogniser; an utterance ends when the engine's voice activity detector hears the
 * speaker stop (`ps_get_in_speech` falls), and the next one starts at once.
 */
export class PocketsphinxEngine implements RecogniserEngine {
  readonly name = 'pocketsphinx';
  readonly #modelDir: string;
  readonly #library: string;
  readonly #baseLibrary: string;
  readonly #extraArgs: readonly string[];

  constructor(options: PocketsphinxOptions = {}) {
    this.#modelDir = options.modelDir ?? DEBIAN_MODEL_DIR;
    this.#library = options.library ?? 'libpocketsphinx.so.3';
    this.#baseLibrary = options.baseLibrary ?? 'libsphinxbase.so.3';
    this.#extraArgs = options.extraArgs ?? [];
  }

  available(): Availability {
    try {
      bind(this.#library, this.#baseLibrary);
      this.#paths();
      return { ok: true };
    } catch (error) {
      return {
        ok: false,
        error: error instanceof RecogniserError ? error : new RecogniserError('INIT_FAILED', String(error), { cause: error }),
      };
    }
  }

  create(): Recogniser {
    const c = bind(this.#library, this.#baseLibrary);
    const { hmm, lm, dict } = this.#paths();
    const argv = [
      '-hmm',
      hmm,
      '-lm',
      lm,
      '-dict',
      dict,
      '-samprate',
      String(RECOGNISER_SAMPLE_RATE),
      '-logfn',
      '/dev/null',
      ...this.#extraArgs,
    ];
    const config = c.parse(null, c.psArgs(), argv.length, argv, 1);
    if (config === null) throw new RecogniserError('INIT_FAILED', `pocketsphinx refused its configuration (${argv.join(' ')})`);
    const decoder = c.init(config);
    // ps_init keeps its own reference to the configuration.
    c.configFree(config);
    if (decoder === null) throw new RecogniserError('INIT_FAILED', `pocketsphinx could not load the model in ${this.#modelDir}`);
    return new PocketsphinxRecogniser(c, decoder);
  }

  #paths(): { hmm: string; lm: string; dict: string } {
    const paths = {
      hmm: join(this.#modelDir, 'en-us'),
      lm: join(this.#modelDir, 'en-us.lm.bin'),
      dict: join(this.#modelDir, 'cmudict-en-us.dict'),
    };
    for (const path of Object.values(paths))
      if (!existsSync(path))
        throw new RecogniserError('MODEL_MISSING', `the pocketsphinx model is missing (${path}): install pocketsphinx-en-us`);
    return paths;
  }
}

class PocketsphinxRecogniser implements Recogniser {
  readonly #c: Api;
  #ps: unknown;
  /** Samples fed since the recogniser was made. */
  #fed = 0;
  /** Where the current utterance started (samples fed when ps_start_utt ran): long ones are cut. */
  #uttStart = 0;
  /** When the detector first heard speech in the current utterance, or -1. */
  #speechAt = -1;
  #lastPartial = '';

  constructor(c: Api, ps: unknown) {
    this.#c = c;
    this.#ps = ps;
    this.#check(c.startUtt(ps), 'ps_start_utt');
  }

  feed(pcm: Int16Array): RecognitionResult[] {
    const ps = this.#live();
    this.#check(this.#c.processRaw(ps, pcm, pcm.length, 0, 0), 'ps_process_raw');
    this.#fed += pcm.length;
    const inSpeech = this.#c.inSpeech(ps) !== 0;
    if (inSpeech && this.#speechAt < 0) this.#speechAt = this.#fed - pcm.length;
    if (this.#speechAt >= 0 && (!inSpeech || this.#fed - this.#uttStart >= MAX_UTTERANCE_SAMPLES)) return this.#endUtterance();
    if (!inSpeech) return [];
    const text = this.#hyp();
    if (text === '' || text === this.#lastPartial) return [];
    this.#lastPartial = text;
    return [{ kind: 'partial', text, startMs: toMs(this.#speechAt) }];
  }

  flush(): RecognitionResult[] {
    this.#live();
    return this.#speechAt >= 0 ? this.#endUtterance() : [];
  }

  close(): void {
    if (this.#ps === undefined) return;
    const ps = this.#ps;
    this.#ps = undefined;
    this.#c.endUtt(ps);
    this.#c.free(ps);
  }

  #endUtterance(): RecognitionResult[] {
    const ps = this.#live();
    this.#check(this.#c.endUtt(ps), 'ps_end_utt');
    const text = this.#hyp();
    const words = this.#words();
    const startMs = words[0]?.startMs ?? toMs(this.#speechAt);
    const endMs = words.at(-1)?.endMs ?? toMs(this.#fed);
    this.#speechAt = -1;
    this.#lastPartial = '';
    this.#uttStart = this.#fed;
    this.#check(this.#c.startUtt(ps), 'ps_start_utt');
    return text === '' ? [] : [{ kind: 'final', text, startMs, endMs, words }];
  }

  #hyp(): string {
    const hyp = this.#c.getHyp(this.#live(), null) ?? '';
    return hyp.split(/\s+/).filter(isSpoken).map(baseWord).join(' ');
  }

  /** The best path's words with their frames (10 ms, counted from the decoder's first sample, across utterances). */
  #words(): CaptionWord[] {
    const words: CaptionWord[] = [];
    const start = [0];
    const end = [0];
    // ps_seg_next frees the iterator when it returns NULL: walking to the end frees it.
    for (let seg = this.#c.segIter(this.#live()); seg !== null; seg = this.#c.segNext(seg)) {
      const word = this.#c.segWord(seg);
      if (!isSpoken(word)) continue;
      this.#c.segFrames(seg, start, end);
      words.push({ word: baseWord(word), startMs: start[0]! * FRAME_MS, endMs: (end[0]! + 1) * FRAME_MS });
    }
    return words;
  }

  #live(): unknown {
    if (this.#ps === undefined) throw new RecogniserError('DECODE_FAILED', 'the recogniser is closed');
    return this.#ps;
  }

  #check(rc: number, call: string): void {
    if (rc < 0) throw new RecogniserError('DECODE_FAILED', `pocketsphinx ${call} failed (${rc})`);
  }
}

function toMs(samples: number): number {
  return Math.round((samples * 1000) / RECOGNISER_SAMPLE_RATE);
}
