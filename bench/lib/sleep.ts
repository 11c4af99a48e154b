/** Waits `ms` of wall time. Benches pace real load on real sockets, so they sleep; tests of logic never do. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
