/** Runs `fn` once; later calls get the same promise (the composition roots' idempotent close). */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
