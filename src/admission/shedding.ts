/**
 * Under overload, the lowest priority goes first. The order is data, highest first: stage and host
 * control, then audio for admitted listeners, then new joins, then room state, then reactions and
 * counts. Stage and audio are never shed: an admitted listener's audio is the last thing to go, and
 * the join service never touches it (an edge sheds nothing it already serves).
 *
 * What each overload level sheds is a table in the config (`admission.shedding.levels`, row 1 =
 * level 1; levels past the table use its last row). The defaults:
 *
 * | level | reactions kept  | room-state interval | joins                                 | audio, stage |
 * | ----- | --------------- | ------------------- | ------------------------------------- | ------------ |
 * | 0     | all             | x1                  | admitted while capacity allows        | never shed   |
 * | 1     | 1 in 4          | x2                  | admitted while capacity allows        | never shed   |
 * | 2     | 1 in 16         | x4                  | waiting room, whatever the capacity   | never shed   |
 * | 3     | 1 in 100        | x10                 | waiting room, whatever the capacity   | never shed   |
 *
 * A table is refused unless each row is at least as strict as the one before and never sheds a kind
 * while keeping a lower-priority one.
 */
export const workPriorities = ['stage', 'audio', 'joins', 'roomState', 'reactions'] as const;

export type WorkKind = (typeof workPriorities)[number];

export interface ShedLevel {
  /** New joins get a waiting-room ticket even when capacity would admit them. */
  readonly joinsToWaitingRoom: boolean;
  /** Room-state updates go out at most once per (normal interval x this). */
  readonly roomStateIntervalMultiplier: number;
  /** Keep one reaction in this many (1 = all). */
  readonly reactionsKeepOneIn: number;
}

export interface SheddingPolicy {
  readonly levels: readonly ShedLevel[];
}

const noShedding: ShedLevel = { joinsToWaitingRoom: false, roomStateIntervalMultiplier: 1, reactionsKeepOneIn: 1 };

export class Shedder {
  readonly #levels: readonly ShedLevel[];
  readonly #levelOf: () => number;
  #reactionsSeen = 0;

  /** `level` is read on every call, e.g. `() => capacity.level`. */
  constructor(policy: SheddingPolicy, level: () => number) {
    checkSheddingPolicy(policy);
    this.#levels = policy.levels;
    this.#levelOf = level;
  }

  get level(): number {
    return Math.max(0, Math.floor(this.#levelOf()));
  }

  /** The row in force: level 0 sheds nothing; past the table, its last row. */
  get current(): ShedLevel {
    const level = this.level;
    if (level === 0) return noShedding;
    return this.#levels[Math.min(level, this.#levels.length) - 1]!;
  }

  /** Whether this kind of work is being shed (slowed, sampled or queued) at the current level. */
  shouldShed(kind: WorkKind): boolean {
    return shedKinds(this.current).has(kind);
  }

  roomStateIntervalMs(normalMs: number): number {
    return normalMs * this.current.roomStateIntervalMultiplier;
  }

  get reactionSampleEvery(): number {
    return this.current.reactionsKeepOneIn;
  }

  /** Call once per incoming reaction: true for the one in `reactionSampleEvery` that is kept. */
  keepReaction(): boolean {
    const every = this.reactionSampleEvery;
    this.#reactionsSeen = (this.#reactionsSeen + 1) % every;
    return this.#reactionsSeen === 0;
  }
}

/** The kinds a row sheds. */
export function shedKinds(row: ShedLevel): ReadonlySet<WorkKind> {
  const kinds = new Set<WorkKind>();
  if (row.joinsToWaitingRoom) kinds.add('joins');
  if (row.roomStateIntervalMultiplier > 1) kinds.add('roomState');
  if (row.reactionsKeepOneIn > 1) kinds.add('reactions');
  return kinds;
}

/** Throws, naming the row, when the table breaks the priority order or eases off as the level rises. */
export function checkSheddingPolicy(policy: SheddingPolicy): void {
  if (policy.levels.length === 0) throw new Error('admission.shedding.levels needs at least one row (level 1)');
  let previous = noShedding;
  policy.levels.forEach((row, i) => {
    const where = `admission.shedding.levels[${i}] (level ${i + 1})`;
    if (!(row.roomStateIntervalMultiplier >= 1)) throw new Error(`${where}: roomStateIntervalMultiplier must be >= 1`);
    if (!Number.isInteger(row.reactionsKeepOneIn) || row.reactionsKeepOneIn < 1) {
      throw new Error(`${where}: reactionsKeepOneIn must be a whole number >= 1`);
    }
    if (
      (previous.joinsToWaitingRoom && !row.joinsToWaitingRoom) ||
      row.roomStateIntervalMultiplier < previous.roomStateIntervalMultiplier ||
      row.reactionsKeepOneIn < previous.reactionsKeepOneIn
    ) {
      throw new Error(`${where} sheds less than the level below it; each level must be at least as strict`);
    }
    const shed = shedKinds(row);
    workPriorities.forEach((kind, k) => {
      const lower = workPriorities.slice(k + 1).find((l) => !shed.has(l));
      if (shed.has(kind) && lower !== undefined) {
        throw new Error(`${where} sheds ${kind} but keeps ${lower}, which has lower priority; shed lower priorities first`);
      }
    });
    previous = row;
  });
}
