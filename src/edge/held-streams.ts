import { AmphiError } from '../errors.ts';

/** How many `live.mp4` streams may be held at once (config `edge.maxStreamsPerSubject`, `edge.maxStreamsPerAddress`). */
export interface StreamLimits {
  /** Per token subject (an account, or one anonymous listener), over all Spaces: a player needs one. */
  readonly maxStreamsPerSubject: number;
  /** Per client address: a household or an office shares one, a NAT many more. */
  readonly maxStreamsPerAddress: number;
}

/** The config defaults, for edges built without them (tests). */
export const defaultStreamLimits: StreamLimits = { maxStreamsPerSubject: 3, maxStreamsPerAddress: 200 };

/**
 * Held streams counted per token subject and per client address. A held stream costs the edge a
 * socket and a write per part for as long as the Space lasts, so one token (they travel in URLs and
 * leak) or one address must not hold hundreds. Entries are removed when their count reaches zero.
 */
export class HeldStreams {
  readonly #limits: StreamLimits;
  readonly #bySubject = new Map<string, number>();
  readonly #byAddress = new Map<string, number>();
  /** Streams refused, by the limit that refused them (for metrics). */
  readonly refused = { subject: 0, address: 0 };

  constructor(limits: StreamLimits) {
    this.#limits = limits;
  }

  /**
   * Takes a slot for one stream, or throws TOO_MANY_STREAMS. Returns its release: call it once the
   * stream ends (more calls do nothing). No address (an in-process caller) counts per subject only.
   */
  take(subject: string, address: string | undefined): () => void {
    if ((this.#bySubject.get(subject) ?? 0) >= this.#limits.maxStreamsPerSubject) {
      this.refused.subject++;
      throw new AmphiError('TOO_MANY_STREAMS', { details: { limit: 'subject' } });
    }
    if (address !== undefined && (this.#byAddress.get(address) ?? 0) >= this.#limits.maxStreamsPerAddress) {
      this.refused.address++;
      throw new AmphiError('TOO_MANY_STREAMS', { details: { limit: 'address' } });
    }
    add(this.#bySubject, subject, 1);
    if (address !== undefined) add(this.#byAddress, address, 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      add(this.#bySubject, subject, -1);
      if (address !== undefined) add(this.#byAddress, address, -1);
    };
  }

  /** Whether this subject holds a stream now. */
  holds(subject: string): boolean {
    return this.#bySubject.has(subject);
  }

  /** Subjects and addresses with a stream now (both maps shrink back to empty). */
  get size(): { readonly subjects: number; readonly addresses: number } {
    return { subjects: this.#bySubject.size, addresses: this.#byAddress.size };
  }
}

function add(counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
