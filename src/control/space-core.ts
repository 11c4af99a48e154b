import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Account, MemberRecord, SpacePatch, StageRole, Store } from '../storage/store.ts';
import type { ControlBus } from './events.ts';
import { sortableId } from '../lib/ids.ts';
import type { QuotaLimits } from './quotas.ts';
import { loadSnapshot, type SnapshotCache, type SpaceSnapshot } from './snapshots.ts';
import { contextOf, countRole, memberOf, relationOf, standingOf, type Ctx, type MyRelation } from './space-rules.ts';

export interface SpacesOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: ControlBus;
  readonly snapshots: SnapshotCache;
  /** The quotas, and how many co-hosts and speakers a stage holds. */
  readonly limits: QuotaLimits & { readonly maxCohosts: number; readonly maxSpeakers: number };
  readonly log: Logger;
  /** Checks that the Space's media can be recorded before it goes live; throws a catalogued error if not. */
  readonly prepareMedia?: ((spaceId: string) => void) | undefined;
}

/** What one mutation changed: Space columns to write, and what to announce once written. */
export interface Change {
  readonly patch?: SpacePatch;
  readonly after?: () => void;
  /** Nothing a listener sees changed (no version bump, no `space.changed`), but the act is audited. */
  readonly quiet?: true;
}

/** How a mutation is written to the Space's audit log when it changes something: the act and its target. */
export interface AuditAs {
  readonly action: string;
  readonly target?: string | undefined;
  readonly detail?: string | undefined;
}

/**
 * What every act on a Space shares: the snapshot, the one way to mutate (under the Space's lock, with
 * its audit entry), and the reads of an actor's standing. The acts themselves are in `spaces.ts`
 * (lifecycle and stage) and `moderation.ts` (handover, settings, unban, blocks).
 */
export class SpaceCore {
  protected readonly o: SpacesOptions;
  /** Mutations of each Space in flight on this node, settled or not (see `snapshot`). */
  readonly #mutating = new Map<string, Promise<unknown>>();

  constructor(options: SpacesOptions) {
    this.o = options;
  }

  get store(): Store {
    return this.o.store;
  }

  get bus(): ControlBus {
    return this.o.bus;
  }

  now(): number {
    return this.o.clock.now();
  }

  /** A change made outside `mutate` (a host-level block): every node drops its view of the Space. */
  changed(spaceId: string): void {
    this.o.snapshots.invalidate(spaceId);
    this.o.bus.emit('space.changed', { spaceId });
  }

  /**
   * The Space's snapshot. A read that arrives while this node is mutating the Space waits for that
   * mutation, so nothing this node answers (a credential above all) predates a change it is making.
   */
  async snapshot(spaceId: string): Promise<SpaceSnapshot> {
    const pending = this.#mutating.get(spaceId);
    if (pending !== undefined) await pending;
    return this.o.snapshots.get(spaceId);
  }

  /**
   * Whether an account may be on this Space's stage right now, and its mute state; throws the
   * refusal (removed, ended, not a speaker, not live yet). One rule for credentials and the stage.
   */
  async stageStanding(spaceId: string, accountId: string): Promise<MemberRecord> {
    return standingOf(await this.snapshot(spaceId), accountId);
  }

  async relation(actor: Account, spaceId: string): Promise<MyRelation> {
    return relationOf(await this.snapshot(spaceId), actor.id, this.o.store);
  }

  /**
   * Loads the context for an actor in a Space, refusing removed users. Used by reads and by the
   * credential issuers as well as by mutations.
   */
  async context(spaceId: string, actor: Account): Promise<Ctx> {
    return contextOf(await this.snapshot(spaceId), actor, this.o.store);
  }

  /**
   * Runs one mutation as one database transaction that holds the Space's row lock: a fresh snapshot
   * read inside it, the step's checks and writes, the version bump and the audit entry; so two nodes
   * (or two requests) never both pass a check that only one may pass (the last seat). The step
   * returns false when nothing changed, or what changed: Space columns to patch and an event to emit
   * once committed. Public for the modules that add acts on a Space (`moderation.ts`).
   */
  async mutate(
    spaceId: string,
    actor: Account,
    step: (ctx: Ctx) => Promise<Change | false> | Change | false,
    audit?: AuditAs,
  ): Promise<SpaceSnapshot> {
    const transaction = this.o.store.inSpaceTransaction(spaceId, async (tx) => {
      const snap = await loadSnapshot(tx, spaceId);
      if (snap === undefined) throw new AmphiError('SPACE_NOT_FOUND');
      const changed = await step(contextOf(snap, actor, tx));
      if (changed !== false && changed.quiet !== true) await tx.updateSpace(spaceId, changed.patch ?? {});
      if (changed !== false && audit !== undefined) await this.#audit(tx, spaceId, actor, audit);
      return changed;
    });
    const settled = Promise.allSettled([this.#mutating.get(spaceId), transaction]);
    this.#mutating.set(spaceId, settled);
    let change: Change | false;
    try {
      change = await transaction;
    } finally {
      // Committed or not, the cached view is dropped before anything else awaits, so no credential is
      // issued from a snapshot that predates the writes (e.g. a stage token after a ban).
      this.o.snapshots.invalidate(spaceId);
      if (this.#mutating.get(spaceId) === settled) this.#mutating.delete(spaceId);
    }
    if (change !== false) {
      change.after?.();
      if (change.quiet !== true) this.o.bus.emit('space.changed', { spaceId });
    }
    return this.snapshot(spaceId);
  }

  #audit(store: Store, spaceId: string, actor: Account, a: AuditAs): Promise<void> {
    const entry = { spaceId, actorId: actor.id, action: a.action, targetId: a.target ?? null, detail: a.detail ?? null };
    const now = this.o.clock.now();
    return store.community().addAudit({ id: sortableId('au', now), ...entry, at: now });
  }

  protected async addSpeaker(store: Store, snap: SpaceSnapshot, accountId: string): Promise<void> {
    if (memberOf(snap, accountId) !== undefined) throw new AmphiError('ALREADY_ON_STAGE');
    if (countRole(snap, 'speaker') >= this.o.limits.maxSpeakers) throw new AmphiError('STAGE_FULL');
    await store.addMember({
      spaceId: snap.space.id,
      accountId,
      role: 'speaker',
      muted: false,
      mutedByHost: false,
      joinedAt: this.o.clock.now(),
    });
  }

  protected roleEvent(spaceId: string, accountId: string, role: StageRole | 'listener'): Change {
    return {
      after: () => {
        this.o.log.info({ spaceId, accountId, role }, 'stage role changed');
        this.o.bus.emit('member.role', { spaceId, accountId, role });
      },
    };
  }
}

/** Topics as stored: lower-case, without a leading '#', each once, in the order given. */
export function normalTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().replace(/^#/, '').toLowerCase()).filter(Boolean))];
}
