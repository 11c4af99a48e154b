/**
 * The order a Space's objects reach the bucket in (`BucketMediaStorage`): one line per Space, worked
 * through front to back, the front job in flight while `inFlight`. A segment is always ahead of any
 * manifest that lists it.
 */
export interface Job {
  readonly name: string;
  /** `purge`: every object of the Space (a recording deleted for retention). */
  readonly op: 'put' | 'delete' | 'purge';
  readonly queuedAt: number;
  /** Only if the bucket has no such object (what a restart finds on disk: another node may own it now). */
  readonly ifAbsent?: true;
  /** A manifest as it was when queued (it lists only segments queued before it); else read from disk. */
  readonly data?: Uint8Array;
}

/**
 * A newer write of a waiting object replaces it at the back of the line (never the one in flight: it
 * is uploaded from what is on disk then, and this one follows).
 */
export function lineUp(queue: Job[], job: Job, inFlight: boolean): void {
  const from = inFlight ? 1 : 0;
  const waiting = queue.findIndex((j, i) => i >= from && j.name === job.name && j.op === job.op);
  if (waiting !== -1) queue.splice(waiting, 1);
  queue.push(job);
}

/**
 * A manifest goes behind the segments written before it, as it was then (`job.data`). Were each newer
 * one to replace the waiting one at the back of the line, behind the next segment, uploads slower
 * than the recording (a loaded bucket) would never let the bucket's manifest move, and a node taking
 * the Space over would find none and start the recording over. So the waiting one nearest the front
 * keeps its place; a newer one replaces those behind it (at most two wait: memory stays flat), or
 * brings it up to date when nothing was queued behind it.
 */
export function lineUpManifest(queue: Job[], job: Job, inFlight: boolean): void {
  const from = inFlight ? 1 : 0;
  const waiting = queue.flatMap((j, i) => (i >= from && j.name === job.name && j.op === 'put' ? [i] : []));
  for (const i of waiting.slice(1).reverse()) queue.splice(i, 1);
  if (waiting.length > 0 && waiting[0] === queue.length - 1) queue[waiting[0]] = { ...queue[waiting[0]]!, data: job.data! };
  else queue.push(job);
}
