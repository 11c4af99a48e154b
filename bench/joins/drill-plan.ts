/** The flash-crowd drill's options and the numbers derived from them. */
export interface JoinsBenchOptions {
  readonly capacity: number;
  readonly seconds: number;
  readonly listeners: number;
  readonly drainSeconds: number;
  readonly linePoll: 'cdn' | 'direct';
  readonly json: boolean;
}

/** The drill's numbers, derived from its options. */
export interface DrillPlan {
  /** Join attempts per second: 10x capacity. */
  readonly rate: number;
  readonly listenerRampS: number;
  /** How long the admitted listeners listen: their ramp, the crowd and its expected drain. */
  readonly listenS: number;
  readonly crowdBoundS: number;
}

export function drillPlan(o: JoinsBenchOptions): DrillPlan {
  const rate = 10 * o.capacity;
  // Tickets pile up at rate - C a second and drain at C: the crowd's expected length with its drain.
  const expectedS = o.seconds * (rate / o.capacity) + 3;
  const crowdBoundS = o.seconds + o.drainSeconds;
  const listenerRampS = o.listeners / 500;
  const listenS = Math.ceil(listenerRampS + 3 + Math.min(expectedS, crowdBoundS) + 2);
  return { rate, listenerRampS, listenS, crowdBoundS };
}
