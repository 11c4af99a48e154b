import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { SpaceSnapshot } from './snapshots.ts';
import type { Spaces } from './spaces.ts';

export interface AbandonmentOptions {
  readonly spaces: Spaces;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long a live Space may go with neither its host nor a co-host connected on stage. */
  readonly afterMs: number;
  /** Accounts connected on the Space's stage now (the stage plane). */
  readonly onStage: (spaceId: string) => readonly string[];
}

/** How often live Spaces are looked at. */
const SWEEP_MS = 5000;
const PAGE = 200;

/**
 * Ends live Spaces that nobody hosts any more: a host whose browser closed, a room reopened after a
 * crash that no host came back to. Once neither the host nor a co-host is connected on stage, the
 * Space gets `afterMs` (listeners see when it will end, in the room state); a host or co-host who
 * comes back cancels it.
 */
export class AbandonmentWatch {
  readonly #o: AbandonmentOptions;
  /** Live Spaces without a host on stage, and since when. */
  readonly #unattended = new Map<string, number>();
  #stop: (() => void) | undefined;

  constructor(options: AbandonmentOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stop ??= every(
      this.#o.clock,
      SWEEP_MS,
      () => this.sweep(),
      (error) => this.#o.log.warn({ err: error }, 'abandonment sweep failed'),
    );
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  /** When the Space will end by itself unless a host or co-host returns (ms since the epoch), if it will. */
  endsAt(spaceId: string): number | undefined {
    const since = this.#unattended.get(spaceId);
    return since === undefined ? undefined : since + this.#o.afterMs;
  }

  /** One look at every live Space (the timer calls it; tests call it on the manual clock). */
  async sweep(): Promise<void> {
    const now = this.#o.clock.now();
    const live = new Map<string, SpaceSnapshot>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.#o.spaces.list({ state: 'live', limit: PAGE, offset });
      for (const snap of page) live.set(snap.space.id, snap);
      if (page.length < PAGE) break;
    }
    for (const spaceId of this.#unattended.keys()) if (!live.has(spaceId)) this.#unattended.delete(spaceId);
    for (const [spaceId, snap] of live) {
      const hosts = new Set([snap.space.hostId, ...snap.members.filter((m) => m.role === 'cohost').map((m) => m.accountId)]);
      if (this.#o.onStage(spaceId).some((id) => hosts.has(id))) {
        if (this.#unattended.delete(spaceId)) this.#o.log.info({ spaceId }, 'a host is back on stage');
        continue;
      }
      const since = this.#unattended.get(spaceId);
      if (since === undefined) {
        this.#unattended.set(spaceId, now);
        this.#o.log.info(
          { spaceId, endsAt: new Date(now + this.#o.afterMs).toISOString() },
          'no host on stage: the Space ends unless one returns',
        );
      } else if (now - since >= this.#o.afterMs) {
        this.#unattended.delete(spaceId);
        await this.#o.spaces.endAbandoned(spaceId);
      }
    }
  }
}
