import { AmphiError } from '../errors.ts';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { TypedEmitter, type OnListenerError } from '../lib/typed-emitter.ts';
import type { ProgramPcmListener } from '../stage/room.ts';
import { PocketsphinxEngine } from './pocketsphinx.ts';
import type { Availability, CaptionWord } from './recogniser.ts';
import { RecogniserThread, type RecogniserThreadStats } from './recogniser-thread.ts';

/** What captions need of a stage room: its program before encoding. */
export interface CaptionSource {
  readonly spaceId: string;
  onProgramPcm(listener: ProgramPcmListener): () => void;
}

/** One caption line on the program's timeline (ms since the program started, as its PTS / 48). */
export interface CaptionLine {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
  /** A final line will not change; a partial one is replaced as the speaker goes on. */
  readonly final: boolean;
  /** A final line's words, timed on the same timeline. */
  readonly words?: readonly CaptionWord[];
}

/** What the subtitle rendition needs of a captioned Space (see `Captions.subtitles`). */
export interface SubtitleLines {
  /** Final lines, oldest first. */
  readonly cues: readonly CaptionLine[];
  /** Program time (ms) up to which lines are final: audio before it will get no new final line. */
  readonly settledMs: number;
}

/** What listeners see of a Space's captions (the room state's `captions`). */
export interface CaptionsView {
  /** Machine-made: listeners are told so. */
  readonly automatic: true;
  readonly on: boolean;
  /** The last final lines and the partial one, oldest first. */
  readonly lines: readonly CaptionLine[];
}

export interface CaptionsOptions {
  readonly enabled: boolean;
  readonly defaultOn: boolean;
  readonly maxSpaces: number;
  readonly modelDir: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onListenerError: OnListenerError;
  /** Whether recognisers can run here; default: pocketsphinx with `modelDir`. */
  readonly availability?: () => Availability;
}

/** 100 ms chunks (5 program frames) go to the recogniser thread: one message per 100 ms per Space. */
const CHUNK_SAMPLES = 4800;
/** Final lines a Space keeps for the subtitle playlist's window and the room state. */
const KEPT_LINES = 200;
/** How long after a voice starts its first partial may come (ms): audio that recent is not settled. */
const PARTIAL_LAG_MS = 600;
/** Final lines in the room state (with the partial one). */
const ROOM_STATE_LINES = 2;
/**
 * Final lines a Space's transcript keeps (a line is a few seconds of speech: about 10 hours of talk).
 * Past it the oldest go: memory per Space stays bounded (a few MB with their words).
 */
export const TRANSCRIPT_MAX_LINES = 10_000;
/** Spaces whose transcript is held while their room is away (suspended, not ended); the oldest goes first. */
const HELD_TRANSCRIPTS = 64;
/** How long the end of a program waits for the recogniser's last final line. */
const FLUSH_TIMEOUT_MS = 3000;

/** A Space's transcript as its program ended: every final line (program timeline), oldest first. */
export interface TranscriptDone {
  readonly spaceId: string;
  readonly lines: readonly CaptionLine[];
}

export interface CaptionsEvents extends Record<string, unknown> {
  /** A captioned Space's program ended for good (`end(spaceId)`): its transcript, once. */
  transcript: TranscriptDone;
  /** The transcript was written beside the recording (emitted by the role that writes it; the search index follows). */
  'transcript.saved': { readonly spaceId: string; readonly lines: readonly { startMs: number; endMs: number; text: string }[] };
}

class SpaceCaptions {
  readonly thread: RecogniserThread;
  readonly finals: CaptionLine[] = [];
  partial: CaptionLine | undefined;
  readonly #stop: () => void;
  #chunk = new Float32Array(CHUNK_SAMPLES);
  #filled = 0;
  /** The program time of the first sample fed, ms. */
  #offsetMs: number | undefined;

  constructor(room: CaptionSource, options: CaptionsOptions, onFinal: (line: CaptionLine) => void) {
    this.thread = new RecogniserThread({
      clock: options.clock,
      log: options.log.child({ spaceId: room.spaceId }),
      onListenerError: options.onListenerError,
      modelDir: options.modelDir,
    });
    this.thread.events.on('result', (result) => {
      const offset = this.#offsetMs ?? 0;
      if (result.kind === 'partial') {
        this.partial = {
          startMs: offset + result.startMs,
          endMs: offset + this.thread.stats.audioMs,
          text: result.text,
          final: false,
        };
        return;
      }
      this.partial = undefined;
      const words = result.words.map((w) => ({ word: w.word, startMs: offset + w.startMs, endMs: offset + w.endMs }));
      const line = { startMs: offset + result.startMs, endMs: offset + result.endMs, text: result.text, final: true, words };
      this.finals.push(line);
      onFinal(line);
      if (this.finals.length > KEPT_LINES) this.finals.splice(0, this.finals.length - KEPT_LINES);
    });
    this.#stop = room.onProgramPcm((frame, sequence) => this.#push(frame, sequence));
  }

  /** Runs in the stage's tick: a copy into the chunk, and a message every fifth frame. */
  #push(frame: Float32Array, sequence: number): void {
    this.#offsetMs ??= sequence * 20;
    this.#chunk.set(frame, this.#filled);
    this.#filled += frame.length;
    if (this.#filled + frame.length > CHUNK_SAMPLES) {
      this.thread.feed(this.#filled === CHUNK_SAMPLES ? this.#chunk : this.#chunk.slice(0, this.#filled));
      this.#chunk = new Float32Array(CHUNK_SAMPLES);
      this.#filled = 0;
    }
  }

  /**
   * Where lines are final up to: the start of the utterance in progress, else as far as the recogniser
   * heard less `PARTIAL_LAG_MS` (a voice is heard a little before its first partial says so).
   */
  settledMs(): number {
    return this.partial?.startMs ?? (this.#offsetMs ?? 0) + this.thread.heardMs - PARTIAL_LAG_MS;
  }

  /** Sends what is left of the chunk and ends the utterance in progress; resolves once its final came (or not). */
  async flush(): Promise<void> {
    if (this.#filled > 0) this.thread.feed(this.#chunk.slice(0, this.#filled));
    this.#filled = 0;
    await this.thread.flush();
  }

  lines(): CaptionLine[] {
    return this.partial === undefined ? [...this.finals] : [...this.finals, this.partial];
  }

  close(): void {
    this.#stop();
    this.thread.close();
  }
}

/**
 * Live captions on a media node: which Spaces are captioned (the host's toggle, or `defaultOn`), at
 * most `maxSpaces` at once (the next gets none: the stage is never slowed), each on its own recogniser
 * thread fed from the stage room's program. Lines are kept on the program's timeline for the room
 * state and the subtitle playlist.
 */
export class Captions {
  readonly #o: CaptionsOptions;
  readonly #rooms = new Map<string, CaptionSource>();
  /** The host's choice per live Space made on this node since its room opened (absent: `defaultOn` or `restore`). */
  readonly #wanted = new Map<string, boolean>();
  readonly #active = new Map<string, SpaceCaptions>();
  /** Every final line of each Space captioned at some point while its program runs (across the host's toggles). */
  readonly #transcripts = new Map<string, CaptionLine[]>();
  readonly events: TypedEmitter<CaptionsEvents>;
  /** Threads of Spaces no longer captioned, summed (the metrics only grow). */
  readonly #closedStats: RecogniserThreadStats = { failures: 0, restarts: 0, droppedChunks: 0, cpuMs: 0, audioMs: 0 };
  #availability: Availability | undefined;
  /** Spaces that wanted captions and got none because `maxSpaces` were captioned. */
  refused = 0;

  constructor(options: CaptionsOptions) {
    this.#o = options;
    this.events = new TypedEmitter(options.onListenerError);
  }

  /** Whether recognisers can run here (checked once). */
  available(): Availability {
    this.#availability ??= this.#o.availability?.() ?? new PocketsphinxEngine({ modelDir: this.#o.modelDir }).available();
    if (!this.#availability.ok) this.#o.log.warn({ err: this.#availability.error }, 'live captions unavailable');
    return this.#availability;
  }

  /** A stage room opened: captioned now if `defaultOn` (and there is room). */
  attach(room: CaptionSource): void {
    this.#rooms.set(room.spaceId, room);
    if (this.#o.enabled && this.#o.defaultOn && this.available().ok) this.#start(room);
  }

  /**
   * The room closed without ending the Space (the node stops, or the Space moves): captions stop, the
   * transcript so far is held (bounded) for the room that may reopen here.
   */
  detach(spaceId: string): void {
    this.#rooms.delete(spaceId);
    this.#wanted.delete(spaceId);
    this.#stop(spaceId);
    const held = this.#transcripts.get(spaceId);
    if (held === undefined) return;
    this.#transcripts.delete(spaceId); // re-inserted last: the Map's order is oldest first
    this.#transcripts.set(spaceId, held);
    while (this.#transcripts.size > HELD_TRANSCRIPTS + this.#o.maxSpaces)
      this.#transcripts.delete(this.#transcripts.keys().next().value!);
  }

  /**
   * The Space's program ended for good: the recogniser's last utterance is flushed (waited for up to
   * `FLUSH_TIMEOUT_MS`), captions stop and, where the Space was captioned at some point, its transcript
   * is emitted (`transcript`) and leaves memory.
   */
  async end(spaceId: string): Promise<void> {
    const space = this.#active.get(spaceId);
    if (space !== undefined) {
      let timer: TimerHandle | undefined;
      const timeout = new Promise<void>((resolve) => (timer = this.#o.clock.setTimeout(resolve, FLUSH_TIMEOUT_MS)));
      await Promise.race([space.flush(), timeout]);
      if (timer !== undefined) this.#o.clock.clearTimeout(timer);
    }
    this.#rooms.delete(spaceId);
    this.#wanted.delete(spaceId);
    this.#stop(spaceId);
    const lines = this.#transcripts.get(spaceId);
    this.#transcripts.delete(spaceId);
    if (lines !== undefined) this.events.emit('transcript', { spaceId, lines });
  }

  /** A Space's transcript so far (final lines, program timeline); undefined when it was never captioned. */
  transcript(spaceId: string): readonly CaptionLine[] | undefined {
    return this.#transcripts.get(spaceId);
  }

  /**
   * The host's toggle. Throws `CAPTIONS_UNAVAILABLE` (off by config, or no engine here),
   * `SPACE_NOT_LIVE` (no room on this node) or `CAPTIONS_BUSY` (`maxSpaces` captioned already).
   */
  set(spaceId: string, on: boolean): CaptionsView {
    if (!this.#o.enabled || !this.available().ok) throw new AmphiError('CAPTIONS_UNAVAILABLE');
    const room = this.#rooms.get(spaceId);
    if (room === undefined) throw new AmphiError('SPACE_NOT_LIVE');
    if (on && !this.#active.has(spaceId) && !this.#start(room))
      throw new AmphiError('CAPTIONS_BUSY', { headers: { 'retry-after': '30' } });
    if (!on) this.#stop(spaceId);
    this.#wanted.set(spaceId, on);
    return this.view(spaceId);
  }

  /**
   * The host's choice kept from before the room opened here (a restart, another node taking the Space
   * over), applied unless the host chose again on this node since. Never throws: a Space refused for
   * `maxSpaces` is logged and counted (`refused`), as under `defaultOn`.
   */
  restore(spaceId: string, on: boolean): void {
    const room = this.#rooms.get(spaceId);
    if (room === undefined || this.#wanted.has(spaceId) || !this.#o.enabled) return;
    if (!on) this.#stop(spaceId);
    else if (this.available().ok) this.#start(room);
  }

  /** For the room state: null where the Space is not captioned. */
  view(spaceId: string): CaptionsView {
    const lines = this.#active.get(spaceId)?.lines() ?? [];
    // Without their words: the room state is sent to every listener on every change.
    const finals = lines
      .filter((l) => l.final)
      .slice(-ROOM_STATE_LINES)
      .map(({ startMs, endMs, text, final }) => ({ startMs, endMs, text, final }));
    const partial = lines.find((l) => !l.final);
    return { automatic: true, on: this.#active.has(spaceId), lines: partial === undefined ? finals : [...finals, partial] };
  }

  /** Every kept line (finals, then the partial one) for the subtitle playlist; [] when not captioned. */
  lines(spaceId: string): CaptionLine[] {
    return this.#active.get(spaceId)?.lines() ?? [];
  }

  /** A captioned Space's final lines for the subtitle rendition; undefined when it is not captioned. */
  subtitles(spaceId: string): SubtitleLines | undefined {
    const space = this.#active.get(spaceId);
    return space === undefined ? undefined : { cues: space.finals, settledMs: space.settledMs() };
  }

  /** The recogniser thread of a captioned Space (drills and tests kill it). */
  thread(spaceId: string): RecogniserThread | undefined {
    return this.#active.get(spaceId)?.thread;
  }

  get activeSpaces(): number {
    return this.#active.size;
  }

  /** Every thread's counts, open and closed. */
  stats(): RecogniserThreadStats {
    const total = { ...this.#closedStats };
    for (const space of this.#active.values()) add(total, space.thread.stats);
    return total;
  }

  close(): void {
    for (const spaceId of [...this.#active.keys()]) this.#stop(spaceId);
    this.#rooms.clear();
  }

  #start(room: CaptionSource): boolean {
    if (this.#active.has(room.spaceId)) return true;
    if (this.#active.size >= this.#o.maxSpaces) {
      this.refused++;
      this.#o.log.warn(
        { spaceId: room.spaceId, maxSpaces: this.#o.maxSpaces },
        'captions refused: captions.maxSpaces Spaces are captioned',
      );
      return false;
    }
    let kept = this.#transcripts.get(room.spaceId);
    if (kept === undefined) this.#transcripts.set(room.spaceId, (kept = []));
    const transcript = kept;
    const onFinal = (line: CaptionLine) => {
      transcript.push(line);
      if (transcript.length > TRANSCRIPT_MAX_LINES) transcript.splice(0, transcript.length - TRANSCRIPT_MAX_LINES);
    };
    this.#active.set(room.spaceId, new SpaceCaptions(room, this.#o, onFinal));
    this.#o.log.info({ spaceId: room.spaceId }, 'captions on');
    return true;
  }

  #stop(spaceId: string): void {
    const space = this.#active.get(spaceId);
    if (space === undefined) return;
    this.#active.delete(spaceId);
    space.close();
    add(this.#closedStats, space.thread.stats);
    this.#o.log.info({ spaceId }, 'captions off');
  }
}

function add(into: RecogniserThreadStats, from: RecogniserThreadStats): void {
  into.failures += from.failures;
  into.restarts += from.restarts;
  into.droppedChunks += from.droppedChunks;
  into.cpuMs += from.cpuMs;
  into.audioMs += from.audioMs;
}
