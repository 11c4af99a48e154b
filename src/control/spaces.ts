import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Account, MemberRecord, SpacePatch, SpaceQuery, SpaceRecord, StageRole, Store } from '../storage/store.ts';
import type { ControlBus } from './events.ts';
import { newId } from '../lib/ids.ts';
import { SpaceQuotas, type QuotaLimits } from './quotas.ts';
import { loadSnapshot, type SnapshotCache, type SpaceSnapshot } from './snapshots.ts';
import {
  contextOf,
  countRole,
  memberOf,
  requireLive,
  requireModerator,
  requireNotEnded,
  requireOnStage,
  requireOutranks,
  requireRole,
  requireScheduled,
  requireFutureStart,
  relationOf,
  standingOf,
  type Ctx,
  type MyRelation,
} from './space-rules.ts';
import { requireVisibleText } from './text.ts';

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
interface Change {
  readonly patch?: SpacePatch;
  readonly after?: () => void;
}

/**
 * The lifecycle of Spaces (scheduled → live → ended) and everything about who is on stage. Each
 * mutation of one Space runs under that Space's lock, checks in a fixed order (who you are, does
 * the Space exist, may you, does the state allow it), writes, then tells the bus.
 */
export class Spaces {
  readonly #o: SpacesOptions;
  readonly #quotas: SpaceQuotas;
  /** Mutations of each Space in flight on this node, settled or not (see `snapshot`). */
  readonly #mutating = new Map<string, Promise<unknown>>();

  constructor(options: SpacesOptions) {
    this.#o = options;
    this.#quotas = new SpaceQuotas(options.clock, options.limits);
  }

  /**
   * The Space's snapshot. A read that arrives while this node is mutating the Space waits for that
   * mutation, so nothing this node answers (a credential above all) predates a change it is making.
   */
  async snapshot(spaceId: string): Promise<SpaceSnapshot> {
    const pending = this.#mutating.get(spaceId);
    if (pending !== undefined) await pending;
    return this.#o.snapshots.get(spaceId);
  }

  async create(
    actor: Account,
    input: { title: string; scheduledStart?: number | undefined; allowAnonymous?: boolean | undefined },
  ): Promise<SpaceSnapshot> {
    const now = this.#o.clock.now();
    if (input.scheduledStart !== undefined) requireFutureStart(input.scheduledStart, now);
    const title = input.title.trim();
    requireVisibleText('body/title', title);
    this.#quotas.takeCreation(actor.id); // last: a refused request costs no token
    const space: SpaceRecord = {
      id: newId('sp'),
      hostId: actor.id,
      title,
      state: 'scheduled',
      allowAnonymous: input.allowAnonymous ?? true,
      scheduledStart: input.scheduledStart ?? null,
      startedAt: null,
      endedAt: null,
      createdAt: now,
      pinnedLink: null,
      replayDeletedAt: null,
      version: 1,
    };
    await this.#o.store.createSpace(space);
    this.#o.log.info({ spaceId: space.id, hostId: actor.id }, 'space scheduled');
    return this.snapshot(space.id);
  }

  async list(query: SpaceQuery): Promise<SpaceSnapshot[]> {
    const records = await this.#o.store.listSpaces(query);
    return Promise.all(records.map((r) => this.snapshot(r.id)));
  }

  start(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    const step = async ({ space, store }: Ctx): Promise<Change | false> => {
      requireRole(space, actor, 'host');
      if (space.state === 'ended') throw new AmphiError('SPACE_ENDED');
      if (space.state === 'live') return false; // idempotent: a host retrying "go live" is not an error
      await this.#quotas.requireLivePlace(store, actor.id);
      this.#o.prepareMedia?.(spaceId);
      this.#o.log.info({ spaceId }, 'space live');
      return {
        patch: { state: 'live', startedAt: this.#o.clock.now() },
        after: () => this.#o.bus.emit('space.started', { spaceId }),
      };
    };
    return this.#mutate(spaceId, actor, step);
  }

  end(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.#end(actor, spaceId, 'by the host');
  }

  /** Ends a Space nobody hosts any more (the abandonment watch), on its host's behalf. */
  async endAbandoned(spaceId: string): Promise<SpaceSnapshot> {
    const { space: s, hostHandle: handle } = await this.snapshot(spaceId);
    return this.#end({ id: s.hostId, handle, createdAt: s.createdAt }, spaceId, 'abandoned: no host on stage');
  }

  #end(actor: Account, spaceId: string, why: string): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, ({ space }) => {
      requireRole(space, actor, 'host');
      if (space.state === 'ended') return false; // idempotent
      this.#o.log.info({ spaceId, why }, 'space ended');
      return {
        patch: { state: 'ended', endedAt: this.#o.clock.now() },
        after: () => this.#o.bus.emit('space.ended', { spaceId }),
      };
    });
  }

  setPinnedLink(actor: Account, spaceId: string, link: string | null): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, (ctx) => {
      requireModerator(ctx);
      requireNotEnded(ctx.space);
      if (link !== null) requireVisibleText('body/url', link);
      return { patch: { pinnedLink: link } };
    });
  }

  /** Whether listeners may join without an account; a host or co-host under a raid locks it. */
  setAllowAnonymous(actor: Account, spaceId: string, allow: boolean): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, (ctx) => {
      requireModerator(ctx);
      requireNotEnded(ctx.space);
      if (ctx.space.allowAnonymous === allow) return false;
      this.#o.log.info({ spaceId, allowAnonymous: allow, by: actor.id }, 'anonymous listening changed');
      return { patch: { allowAnonymous: allow } };
    });
  }

  /** A revised start (host only, before going live): the doors show it; calendars move the event (SEQUENCE). */
  reschedule(actor: Account, spaceId: string, scheduledStart: number): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, ({ space }) => {
      requireRole(space, actor, 'host');
      requireScheduled(space);
      requireFutureStart(scheduledStart, this.#o.clock.now());
      if (space.scheduledStart === scheduledStart) return false;
      this.#o.log.info({ spaceId, scheduledStart, was: space.scheduledStart }, 'space rescheduled');
      return { patch: { scheduledStart } };
    });
  }

  requestToSpeak(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async ({ space, me, store }) => {
      requireLive(space);
      if (me !== undefined) throw new AmphiError('ALREADY_ON_STAGE');
      const added = await store.addRelation('speak_requests', spaceId, actor.id, this.#o.clock.now());
      if (!added) throw new AmphiError('REQUEST_ALREADY_PENDING');
      return {};
    });
  }

  cancelRequest(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async ({ store }) => {
      if (!(await store.removeRelation('speak_requests', spaceId, actor.id))) throw new AmphiError('REQUEST_NOT_FOUND');
      return {};
    });
  }

  async listRequests(actor: Account, spaceId: string): Promise<{ accountId: string; handle: string; createdAt: number }[]> {
    const ctx = await this.context(spaceId, actor);
    requireModerator(ctx);
    return this.#o.store.listRequests(spaceId);
  }

  answerRequest(actor: Account, spaceId: string, targetId: string, accept: boolean): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async (ctx) => {
      requireModerator(ctx);
      requireNotEnded(ctx.space);
      if (!(await ctx.store.hasRelation('speak_requests', spaceId, targetId))) throw new AmphiError('REQUEST_NOT_FOUND');
      if (accept) await this.#addSpeaker(ctx.store, ctx.snap, targetId);
      await ctx.store.removeRelation('speak_requests', spaceId, targetId);
      return accept ? this.#roleEvent(spaceId, targetId, 'speaker') : {};
    });
  }

  invite(actor: Account, spaceId: string, targetId: string): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async (ctx): Promise<false> => {
      requireModerator(ctx);
      requireNotEnded(ctx.space);
      if ((await ctx.store.getAccount(targetId)) === undefined) throw new AmphiError('ACCOUNT_NOT_FOUND');
      if (ctx.snap.banned.has(targetId)) throw new AmphiError('TARGET_REMOVED');
      if (memberOf(ctx.snap, targetId) !== undefined) throw new AmphiError('ALREADY_ON_STAGE');
      await ctx.store.addInvitation(spaceId, targetId, actor.id, this.#o.clock.now());
      return false; // invitations are private: nothing a listener sees has changed
    });
  }

  answerInvitation(actor: Account, spaceId: string, accept: boolean): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async ({ snap, space, me, store }) => {
      requireNotEnded(space);
      if (!(await store.hasInvitation(spaceId, actor.id))) throw new AmphiError('INVITATION_NOT_FOUND');
      if (accept && me === undefined) {
        await this.#addSpeaker(store, snap, actor.id);
        await store.removeRelation('speak_requests', spaceId, actor.id);
      }
      await store.removeInvitation(spaceId, actor.id);
      return accept && me === undefined ? this.#roleEvent(spaceId, actor.id, 'speaker') : {};
    });
  }

  setMuted(actor: Account, spaceId: string, targetId: string, muted: boolean): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async (ctx) => {
      const self = targetId === actor.id;
      if (!muted && !self) throw new AmphiError('CANNOT_UNMUTE_OTHERS');
      if (!self) requireModerator(ctx);
      requireNotEnded(ctx.space);
      const target = requireOnStage(ctx.snap, targetId);
      if (!self) requireOutranks(ctx, target);
      const byHost = muted && (!self || target.mutedByHost);
      if (target.muted === muted && target.mutedByHost === byHost) return false;
      await ctx.store.updateMember(spaceId, targetId, { muted, mutedByHost: byHost });
      return { after: () => this.#o.bus.emit('member.muted', { spaceId, accountId: targetId, muted, byHost }) };
    });
  }

  /** Moves a speaker or co-host to the audience; a speaker may also leave the stage themselves. */
  moveToAudience(actor: Account, spaceId: string, targetId: string): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async (ctx) => {
      const self = targetId === actor.id;
      if (!self) requireModerator(ctx);
      requireNotEnded(ctx.space);
      const target = requireOnStage(ctx.snap, targetId);
      if (target.role === 'host') throw new AmphiError('TARGET_IS_HOST');
      if (!self) requireOutranks(ctx, target);
      await ctx.store.removeMember(spaceId, targetId);
      return this.#roleEvent(spaceId, targetId, 'listener');
    });
  }

  /**
   * Removes a user from the Space for good: off the stage, no token, no rejoin. The target is an
   * account, or an anonymous listener by the `an_...` subject its token carries: that subject gets
   * no token again, but a new anonymous identity can join unless `allowAnonymous` is false.
   */
  remove(actor: Account, spaceId: string, targetId: string): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async (ctx) => {
      requireModerator(ctx);
      if (targetId === ctx.space.hostId) throw new AmphiError('TARGET_IS_HOST');
      const anonymous = targetId.startsWith('an_');
      if (!anonymous && (await ctx.store.getAccount(targetId)) === undefined) throw new AmphiError('ACCOUNT_NOT_FOUND');
      const target = memberOf(ctx.snap, targetId);
      if (target !== undefined) requireOutranks(ctx, target);
      await ctx.store.ban(spaceId, targetId, actor.id, this.#o.clock.now());
      this.#o.log.info({ spaceId, accountId: targetId, by: actor.id }, 'user removed from space');
      return { after: () => this.#o.bus.emit('member.removed', { spaceId, accountId: targetId }) };
    });
  }

  setCohost(actor: Account, spaceId: string, targetId: string, cohost: boolean): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async ({ snap, space, store }) => {
      requireRole(space, actor, 'host');
      requireNotEnded(space);
      const target = requireOnStage(snap, targetId);
      if (target.role === 'host') throw new AmphiError('TARGET_IS_HOST');
      if (cohost) {
        if (target.role === 'cohost') return false;
        if (countRole(snap, 'cohost') >= this.#o.limits.maxCohosts) throw new AmphiError('COHOSTS_FULL');
      } else {
        if (target.role !== 'cohost') throw new AmphiError('NOT_A_COHOST');
        if (countRole(snap, 'speaker') >= this.#o.limits.maxSpeakers) throw new AmphiError('STAGE_FULL');
      }
      const role = cohost ? 'cohost' : 'speaker';
      await store.updateMember(spaceId, targetId, { role });
      return this.#roleEvent(spaceId, targetId, role);
    });
  }

  setReminder(actor: Account, spaceId: string, on: boolean): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, async ({ space, store }) => {
      requireScheduled(space);
      const changed = on
        ? await store.addRelation('reminders', spaceId, actor.id, this.#o.clock.now())
        : await store.removeRelation('reminders', spaceId, actor.id);
      return changed ? {} : false;
    });
  }

  /** The host deletes the replay: the Space stays, its recording goes (`recording.deleted`: the media nodes purge it). */
  deleteReplay(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.#mutate(spaceId, actor, ({ space }) => {
      requireRole(space, actor, 'host');
      if (space.state !== 'ended') throw new AmphiError('RECORDING_NOT_AVAILABLE');
      if (space.replayDeletedAt !== null) return false; // idempotent
      this.#o.log.info({ spaceId }, 'replay deleted by the host');
      const after = () => this.#o.bus.emit('recording.deleted', { spaceId });
      return { patch: { replayDeletedAt: this.#o.clock.now() }, after };
    });
  }

  /**
   * Whether an account may be on this Space's stage right now, and its mute state; throws the
   * refusal (removed, ended, not a speaker, not live yet). One rule for credentials and the stage.
   */
  async stageStanding(spaceId: string, accountId: string): Promise<MemberRecord> {
    return standingOf(await this.snapshot(spaceId), accountId);
  }

  async relation(actor: Account, spaceId: string): Promise<MyRelation> {
    return relationOf(await this.snapshot(spaceId), actor.id, this.#o.store);
  }

  /**
   * Loads the context for an actor in a Space, refusing removed users. Used by reads and by the
   * credential issuers as well as by mutations.
   */
  async context(spaceId: string, actor: Account): Promise<Ctx> {
    return contextOf(await this.snapshot(spaceId), actor, this.#o.store);
  }

  /**
   * Runs one mutation as one database transaction that holds the Space's row lock: a fresh snapshot
   * read inside it, the step's checks and writes, the version bump; so two nodes (or two requests)
   * never both pass a check that only one may pass (the last seat). The step returns false when
   * nothing changed, or what changed: Space columns to patch and an event to emit once committed.
   */
  async #mutate(
    spaceId: string,
    actor: Account,
    step: (ctx: Ctx) => Promise<Change | false> | Change | false,
  ): Promise<SpaceSnapshot> {
    const transaction = this.#o.store.inSpaceTransaction(spaceId, async (tx) => {
      const snap = await loadSnapshot(tx, spaceId);
      if (snap === undefined) throw new AmphiError('SPACE_NOT_FOUND');
      const changed = await step(contextOf(snap, actor, tx));
      if (changed !== false) await tx.updateSpace(spaceId, changed.patch ?? {});
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
      this.#o.snapshots.invalidate(spaceId);
      if (this.#mutating.get(spaceId) === settled) this.#mutating.delete(spaceId);
    }
    if (change !== false) {
      change.after?.();
      this.#o.bus.emit('space.changed', { spaceId });
    }
    return this.snapshot(spaceId);
  }

  async #addSpeaker(store: Store, snap: SpaceSnapshot, accountId: string): Promise<void> {
    if (memberOf(snap, accountId) !== undefined) throw new AmphiError('ALREADY_ON_STAGE');
    if (countRole(snap, 'speaker') >= this.#o.limits.maxSpeakers) throw new AmphiError('STAGE_FULL');
    await store.addMember({
      spaceId: snap.space.id,
      accountId,
      role: 'speaker',
      muted: false,
      mutedByHost: false,
      joinedAt: this.#o.clock.now(),
    });
  }

  #roleEvent(spaceId: string, accountId: string, role: StageRole | 'listener'): Change {
    return {
      after: () => {
        this.#o.log.info({ spaceId, accountId, role }, 'stage role changed');
        this.#o.bus.emit('member.role', { spaceId, accountId, role });
      },
    };
  }
}
