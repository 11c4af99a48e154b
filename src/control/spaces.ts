import { AmphiError } from '../errors.ts';
import type { Account, SpaceQuery, SpaceRecord } from '../storage/store.ts';
import { newId } from '../lib/ids.ts';
import { SpaceQuotas } from './quotas.ts';
import type { SpaceSnapshot } from './snapshots.ts';
import { normalTags, SpaceCore, type Change, type SpacesOptions } from './space-core.ts';
import {
  memberOf,
  countRole,
  requireLive,
  requireModerator,
  requireNotEnded,
  requireOnStage,
  requireOutranks,
  requireRole,
  requireScheduled,
  requireFutureStart,
  type Ctx,
} from './space-rules.ts';
import { requireVisibleText } from './text.ts';

export type { SpacesOptions } from './space-core.ts';

/**
 * The lifecycle of Spaces (scheduled → live → ended) and everything about who is on stage. Each
 * mutation of one Space runs under that Space's lock, checks in a fixed order (who you are, does
 * the Space exist, may you, does the state allow it), writes, then tells the bus (`SpaceCore.mutate`).
 */
export class Spaces extends SpaceCore {
  readonly #quotas: SpaceQuotas;

  constructor(options: SpacesOptions) {
    super(options);
    this.#quotas = new SpaceQuotas(options.clock, options.limits);
  }

  async create(
    actor: Account,
    input: {
      title: string;
      scheduledStart?: number | undefined;
      allowAnonymous?: boolean | undefined;
      tags?: readonly string[] | undefined;
    },
  ): Promise<SpaceSnapshot> {
    const now = this.o.clock.now();
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
      tags: normalTags(input.tags ?? []),
      cohostsMayEnd: false,
      version: 1,
    };
    await this.o.store.createSpace(space);
    // Following a host is a standing "remind me" for each Space they schedule.
    await this.o.store.community().remindFollowers(space.id, actor.id, now);
    this.o.log.info({ spaceId: space.id, hostId: actor.id }, 'space scheduled');
    return this.snapshot(space.id);
  }

  async list(query: SpaceQuery): Promise<SpaceSnapshot[]> {
    const records = await this.o.store.listSpaces(query);
    return Promise.all(records.map((r) => this.snapshot(r.id)));
  }

  start(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    const step = async ({ space, store }: Ctx): Promise<Change | false> => {
      requireRole(space, actor, 'host');
      if (space.state === 'ended') throw new AmphiError('SPACE_ENDED');
      if (space.state === 'live') return false; // idempotent: a host retrying "go live" is not an error
      await this.#quotas.requireLivePlace(store, actor.id);
      this.o.prepareMedia?.(spaceId);
      this.o.log.info({ spaceId }, 'space live');
      return {
        patch: { state: 'live', startedAt: this.o.clock.now() },
        after: () => this.o.bus.emit('space.started', { spaceId }),
      };
    };
    return this.mutate(spaceId, actor, step, { action: 'start' });
  }

  /** The host ends the Space; so may a co-host when the host allows it (`cohostsMayEnd`). */
  end(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.#end(actor, spaceId, 'by the host', (ctx) => {
      if (ctx.space.cohostsMayEnd && ctx.me?.role === 'cohost') return;
      requireRole(ctx.space, actor, 'host');
    });
  }

  /** An operator ends the Space (a report's decision): no role in it needed. */
  endByOperator(admin: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.#end(admin, spaceId, 'by an operator', () => undefined);
  }

  /** Ends a Space nobody hosts any more (the abandonment watch), on its host's behalf. */
  async endAbandoned(spaceId: string): Promise<SpaceSnapshot> {
    const { space: s, hostHandle: handle } = await this.snapshot(spaceId);
    const host = { id: s.hostId, handle, createdAt: s.createdAt };
    return this.#end(host, spaceId, 'abandoned: no host on stage', () => undefined);
  }

  #end(actor: Account, spaceId: string, why: string, may: (ctx: Ctx) => void): Promise<SpaceSnapshot> {
    const step = (ctx: Ctx): Change | false => {
      may(ctx);
      if (ctx.space.state === 'ended') return false; // idempotent
      this.o.log.info({ spaceId, why }, 'space ended');
      return {
        patch: { state: 'ended', endedAt: this.o.clock.now() },
        after: () => this.o.bus.emit('space.ended', { spaceId }),
      };
    };
    return this.mutate(spaceId, actor, step, { action: 'end', detail: why });
  }

  setPinnedLink(actor: Account, spaceId: string, link: string | null): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      (ctx) => {
        requireModerator(ctx);
        requireNotEnded(ctx.space);
        if (link !== null) requireVisibleText('body/url', link);
        return { patch: { pinnedLink: link } };
      },
      { action: link === null ? 'unpin' : 'pin', detail: link ?? undefined },
    );
  }

  /** Whether listeners may join without an account; a host or co-host under a raid locks it. */
  setAllowAnonymous(actor: Account, spaceId: string, allow: boolean): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      (ctx) => {
        requireModerator(ctx);
        requireNotEnded(ctx.space);
        if (ctx.space.allowAnonymous === allow) return false;
        this.o.log.info({ spaceId, allowAnonymous: allow, by: actor.id }, 'anonymous listening changed');
        return { patch: { allowAnonymous: allow } };
      },
      { action: allow ? 'allow_anonymous' : 'refuse_anonymous' },
    );
  }

  /** A revised start (host only, before going live): the doors show it; calendars move the event (SEQUENCE). */
  reschedule(actor: Account, spaceId: string, scheduledStart: number): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      ({ space }) => {
        requireRole(space, actor, 'host');
        requireScheduled(space);
        requireFutureStart(scheduledStart, this.o.clock.now());
        if (space.scheduledStart === scheduledStart) return false;
        this.o.log.info({ spaceId, scheduledStart, was: space.scheduledStart }, 'space rescheduled');
        return { patch: { scheduledStart } };
      },
      { action: 'reschedule', detail: new Date(scheduledStart).toISOString() },
    );
  }

  requestToSpeak(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.mutate(spaceId, actor, async ({ space, me, store }) => {
      requireLive(space);
      if (me !== undefined) throw new AmphiError('ALREADY_ON_STAGE');
      const added = await store.addRelation('speak_requests', spaceId, actor.id, this.o.clock.now());
      if (!added) throw new AmphiError('REQUEST_ALREADY_PENDING');
      return {};
    });
  }

  cancelRequest(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.mutate(spaceId, actor, async ({ store }) => {
      if (!(await store.removeRelation('speak_requests', spaceId, actor.id))) throw new AmphiError('REQUEST_NOT_FOUND');
      return {};
    });
  }

  async listRequests(actor: Account, spaceId: string): Promise<{ accountId: string; handle: string; createdAt: number }[]> {
    const ctx = await this.context(spaceId, actor);
    requireModerator(ctx);
    return this.o.store.listRequests(spaceId);
  }

  answerRequest(actor: Account, spaceId: string, targetId: string, accept: boolean): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      async (ctx) => {
        requireModerator(ctx);
        requireNotEnded(ctx.space);
        if (!(await ctx.store.hasRelation('speak_requests', spaceId, targetId))) throw new AmphiError('REQUEST_NOT_FOUND');
        if (accept) await this.addSpeaker(ctx.store, ctx.snap, targetId);
        await ctx.store.removeRelation('speak_requests', spaceId, targetId);
        return accept ? this.roleEvent(spaceId, targetId, 'speaker') : {};
      },
      { action: accept ? 'accept_request' : 'decline_request', target: targetId },
    );
  }

  invite(actor: Account, spaceId: string, targetId: string): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      async (ctx): Promise<Change> => {
        requireModerator(ctx);
        requireNotEnded(ctx.space);
        if ((await ctx.store.getAccount(targetId)) === undefined) throw new AmphiError('ACCOUNT_NOT_FOUND');
        if (ctx.snap.banned.has(targetId)) throw new AmphiError('TARGET_REMOVED');
        if (memberOf(ctx.snap, targetId) !== undefined) throw new AmphiError('ALREADY_ON_STAGE');
        await ctx.store.addInvitation(spaceId, targetId, actor.id, this.o.clock.now());
        return { quiet: true }; // invitations are private: nothing a listener sees has changed
      },
      { action: 'invite', target: targetId },
    );
  }

  answerInvitation(actor: Account, spaceId: string, accept: boolean): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      async ({ snap, space, me, store }) => {
        requireNotEnded(space);
        if (!(await store.hasInvitation(spaceId, actor.id))) throw new AmphiError('INVITATION_NOT_FOUND');
        if (accept && me === undefined) {
          await this.addSpeaker(store, snap, actor.id);
          await store.removeRelation('speak_requests', spaceId, actor.id);
        }
        await store.removeInvitation(spaceId, actor.id);
        return accept && me === undefined ? this.roleEvent(spaceId, actor.id, 'speaker') : {};
      },
      { action: accept ? 'accept_invitation' : 'decline_invitation' },
    );
  }

  setMuted(actor: Account, spaceId: string, targetId: string, muted: boolean): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      async (ctx) => {
        const self = targetId === actor.id;
        if (!muted && !self) throw new AmphiError('CANNOT_UNMUTE_OTHERS');
        if (!self) requireModerator(ctx);
        requireNotEnded(ctx.space);
        const target = requireOnStage(ctx.snap, targetId);
        if (!self) requireOutranks(ctx, target);
        const byHost = muted && (!self || target.mutedByHost);
        if (target.muted === muted && target.mutedByHost === byHost) return false;
        await ctx.store.updateMember(spaceId, targetId, { muted, mutedByHost: byHost });
        return { after: () => this.o.bus.emit('member.muted', { spaceId, accountId: targetId, muted, byHost }) };
      },
      { action: muted ? 'mute' : 'unmute', target: targetId },
    );
  }

  /** Moves a speaker or co-host to the audience; a speaker may also leave the stage themselves. */
  moveToAudience(actor: Account, spaceId: string, targetId: string): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      async (ctx) => {
        const self = targetId === actor.id;
        if (!self) requireModerator(ctx);
        requireNotEnded(ctx.space);
        const target = requireOnStage(ctx.snap, targetId);
        if (target.role === 'host') throw new AmphiError('TARGET_IS_HOST');
        if (!self) requireOutranks(ctx, target);
        await ctx.store.removeMember(spaceId, targetId);
        return this.roleEvent(spaceId, targetId, 'listener');
      },
      { action: 'move_to_audience', target: targetId },
    );
  }

  /**
   * Removes a user from the Space for good: off the stage, no token, no rejoin. The target is an
   * account, or an anonymous listener by the `an_...` subject its token carries: that subject gets
   * no token again, but a new anonymous identity can join unless `allowAnonymous` is false.
   */
  remove(actor: Account, spaceId: string, targetId: string): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      async (ctx) => {
        requireModerator(ctx);
        if (targetId === ctx.space.hostId) throw new AmphiError('TARGET_IS_HOST');
        const anonymous = targetId.startsWith('an_');
        if (!anonymous && (await ctx.store.getAccount(targetId)) === undefined) throw new AmphiError('ACCOUNT_NOT_FOUND');
        const target = memberOf(ctx.snap, targetId);
        if (target !== undefined) requireOutranks(ctx, target);
        await ctx.store.ban(spaceId, targetId, actor.id, this.o.clock.now());
        this.o.log.info({ spaceId, accountId: targetId, by: actor.id }, 'user removed from space');
        return { after: () => this.o.bus.emit('member.removed', { spaceId, accountId: targetId }) };
      },
      { action: 'remove', target: targetId },
    );
  }

  setCohost(actor: Account, spaceId: string, targetId: string, cohost: boolean): Promise<SpaceSnapshot> {
    return this.mutate(
      spaceId,
      actor,
      async ({ snap, space, store }) => {
        requireRole(space, actor, 'host');
        requireNotEnded(space);
        const target = requireOnStage(snap, targetId);
        if (target.role === 'host') throw new AmphiError('TARGET_IS_HOST');
        if (cohost) {
          if (target.role === 'cohost') return false;
          if (countRole(snap, 'cohost') >= this.o.limits.maxCohosts) throw new AmphiError('COHOSTS_FULL');
        } else {
          if (target.role !== 'cohost') throw new AmphiError('NOT_A_COHOST');
          if (countRole(snap, 'speaker') >= this.o.limits.maxSpeakers) throw new AmphiError('STAGE_FULL');
        }
        const role = cohost ? 'cohost' : 'speaker';
        await store.updateMember(spaceId, targetId, { role });
        return this.roleEvent(spaceId, targetId, role);
      },
      { action: cohost ? 'make_cohost' : 'unmake_cohost', target: targetId },
    );
  }

  setReminder(actor: Account, spaceId: string, on: boolean): Promise<SpaceSnapshot> {
    return this.mutate(spaceId, actor, async ({ space, store }) => {
      requireScheduled(space);
      const changed = on
        ? await store.addRelation('reminders', spaceId, actor.id, this.o.clock.now())
        : await store.removeRelation('reminders', spaceId, actor.id);
      return changed ? {} : false;
    });
  }

  /** The host deletes the replay: the Space stays, its recording goes (`recording.deleted`: the media nodes purge it). */
  deleteReplay(actor: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.#deleteReplay(actor, spaceId, 'by the host', ({ space }) => requireRole(space, actor, 'host'));
  }

  /** An operator removes the replay (a report's decision). */
  deleteReplayByOperator(admin: Account, spaceId: string): Promise<SpaceSnapshot> {
    return this.#deleteReplay(admin, spaceId, 'by an operator', () => undefined);
  }

  #deleteReplay(actor: Account, spaceId: string, why: string, may: (ctx: Ctx) => void): Promise<SpaceSnapshot> {
    const step = async (ctx: Ctx): Promise<Change | false> => {
      may(ctx);
      if (ctx.space.state !== 'ended') throw new AmphiError('RECORDING_NOT_AVAILABLE');
      if (ctx.space.replayDeletedAt !== null) return false; // idempotent
      await ctx.store.community().saveTranscript(spaceId, []); // its transcript's lines go with it
      this.o.log.info({ spaceId, why }, 'replay deleted');
      const after = () => this.o.bus.emit('recording.deleted', { spaceId });
      return { patch: { replayDeletedAt: this.o.clock.now() }, after };
    };
    return this.mutate(spaceId, actor, step, { action: 'delete_replay', detail: why });
  }
}
