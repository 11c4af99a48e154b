import type { CapacityPolicy } from '../../src/admission/capacity.ts';

/** The capacity policy the admission tests start from: 1,000 listeners, 10 joins/s, three overload levels. */
export const capacityPolicy: CapacityPolicy = {
  maxListeners: 1000,
  joinsPerSecond: 10,
  joinBurst: 5,
  overload: {
    eventLoopDelayLevelsMs: [100, 200, 400],
    cpuShareLevels: [0.8, 0.9, 0.97],
    queueDepthLevels: [100, 500, 1000],
    levelHoldMs: 5000,
    decreaseFactor: 0.5,
    decreaseIntervalMs: 1000,
    recoveryPerSecond: 0.1,
    minCapacityFactor: 0.1,
  },
};
