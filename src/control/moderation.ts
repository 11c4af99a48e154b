import { AmphiError } from '../errors.ts';
import { sortableId } from '../lib/ids.ts';
import type { AudienceMember, AuditView, MinuteStats, Page } from '../storage/community-store.ts';
import type { Account } from '../storage/store.ts';
import type { SpaceSnapshot } from './snapshots.ts';
import { normalTags, type Change } from './space-core.ts';
import { memberOf, requireModerator, requireNotEnded, requireRole, type Ctx } from './space-rules.ts';
import type { Spaces } from './spaces.ts';

/** A Space's settings only its host changes. */
export interface SpaceSettings {
  readonly tags?: readonly string[] | undefined;
  readonly cohostsMayEnd?: boolean | undefined;
}

/** The host's analytics of one Space: totals and the per-minute curve. */
export interface SpaceAnalytics {
  readonly peakListeners: number;
  readonly uniqueListeners: { readonly accounts: number; readonly anonymous: number };
  readonly joins: number;
  readonly waitingRoom: {
    readonly waited: number;
    readonly admitted: number;
    readonly left: number;
    readonly longestWaitMs: number;
  };
  readonly replayPlays: number;
  readonly reactions: number;
  readonly minutes: readonly MinuteStats[];
}

/**
 * What hosts and co-hosts do beyond the stage: hand the Space over, its settings, lift a removal, block
 * someone from all of a host's Spaces, see who listened, who did what (the audit log) and how it went
 * (analytics). Every change goes through `Spaces.mutate`, so it is locked, versioned and audited alike.
 */
export class Moderation {
  readonly #spaces: Spaces;

  constructor(spaces: Spaces) {
    this.#spaces = spaces;
  }

  /** The host makes a co-host the host; the old host stays on stage as a co-host. */
  handover(actor: Account, spaceId: string, targetId: string): Promise<SpaceSnapshot> {
    const step = async ({ space, snap, store }: Ctx): Promise<Change> => {
      requireRole(space, actor, 'host');
      requireNotEnded(space);
      if (memberOf(snap, targetId)?.role !== 'cohost') throw new AmphiError('NOT_A_COHOST_TARGET');
      await store.updateMember(spaceId, targetId, { role: 'host' });
      await store.updateMember(spaceId, actor.id, { role: 'cohost' });
      return {
        patch: { hostId: targetId },
        after: () => {
          this.#spaces.bus.emit('member.role', { spaceId, accountId: targetId, role: 'host' });
          this.#spaces.bus.emit('member.role', { spaceId, accountId: actor.id, role: 'cohost' });
        },
      };
    };
    return this.#spaces.mutate(spaceId, actor, step, { action: 'handover', target: targetId });
  }

  /** The host's settings: topics, and whether co-hosts may end the Space. */
  configure(actor: Account, spaceId: string, settings: SpaceSettings): Promise<SpaceSnapshot> {
    return this.#spaces.mutate(
      spaceId,
      actor,
      ({ space }) => {
        requireRole(space, actor, 'host');
        const patch = {
          ...(settings.tags === undefined ? {} : { tags: normalTags(settings.tags) }),
          ...(settings.cohostsMayEnd === undefined ? {} : { cohostsMayEnd: settings.cohostsMayEnd }),
        };
        return Object.keys(patch).length === 0 ? false : { patch };
      },
      { action: 'settings', detail: JSON.stringify(settings) },
    );
  }

  /** Lifts a removal from this Space: the subject may listen (and be invited) again. */
  unban(actor: Account, spaceId: string, subject: string): Promise<SpaceSnapshot> {
    return this.#spaces.mutate(
      spaceId,
      actor,
      async (ctx) => {
        requireModerator(ctx);
        if (!(await ctx.store.community().unban(spaceId, subject))) throw new AmphiError('BAN_NOT_FOUND');
        return { after: () => this.#spaces.bus.emit('member.unbanned', { spaceId, accountId: subject }) };
      },
      { action: 'unban', target: subject },
    );
  }

  /**
   * Blocks an account from every Space the actor hosts, now and later: removed from those not ended
   * (off stage, tokens refused at the edges), refused by the rest as they are made.
   */
  async block(actor: Account, accountId: string): Promise<void> {
    if (accountId === actor.id) throw new AmphiError('CANNOT_BLOCK_SELF');
    const store = this.#spaces.store;
    if ((await store.getAccount(accountId)) === undefined) throw new AmphiError('ACCOUNT_NOT_FOUND');
    const added = await store.community().block(actor.id, accountId, this.#spaces.now());
    await this.#auditAccount(actor, added ? 'block' : undefined, accountId);
    for (const spaceId of await this.#activeSpaces(actor.id)) {
      await store.removeMember(spaceId, accountId);
      await store.removeRelation('speak_requests', spaceId, accountId);
      await store.removeInvitation(spaceId, accountId);
      this.#spaces.changed(spaceId);
      this.#spaces.bus.emit('member.removed', { spaceId, accountId });
    }
  }

  async unblock(actor: Account, accountId: string): Promise<void> {
    const store = this.#spaces.store;
    if (!(await store.community().unblock(actor.id, accountId))) throw new AmphiError('BLOCK_NOT_FOUND');
    await this.#auditAccount(actor, 'unblock', accountId);
    for (const spaceId of await this.#activeSpaces(actor.id)) {
      this.#spaces.changed(spaceId);
      // Still refused where a removal of its own stands.
      if (!(await store.isBanned(spaceId, accountId))) this.#spaces.bus.emit('member.unbanned', { spaceId, accountId });
    }
  }

  listBlocks(actor: Account): Promise<{ accountId: string; handle: string; createdAt: number }[]> {
    return this.#spaces.store.community().listBlocks(actor.id);
  }

  /** Who listened (signed-in listeners by name, anonymous ones as a count), for the host and co-hosts. */
  async audience(
    actor: Account,
    spaceId: string,
    query: Page & { q?: string | undefined },
  ): Promise<{ members: AudienceMember[]; counts: { accounts: number; anonymous: number }; banned: string[] }> {
    requireModerator(await this.#spaces.context(spaceId, actor));
    const community = this.#spaces.store.community();
    const [members, counts, snap] = await Promise.all([
      community.listAudience(spaceId, query),
      community.countAudience(spaceId),
      this.#spaces.snapshot(spaceId),
    ]);
    return { members, counts, banned: [...snap.banned] };
  }

  /** The Space's audit log, newest first, for the host and co-hosts. */
  async audit(actor: Account, spaceId: string, page: Page): Promise<AuditView[]> {
    requireModerator(await this.#spaces.context(spaceId, actor));
    return this.#spaces.store.community().listAudit({ ...page, spaceId });
  }

  async analytics(actor: Account, spaceId: string): Promise<SpaceAnalytics> {
    requireModerator(await this.#spaces.context(spaceId, actor));
    const community = this.#spaces.store.community();
    const [minutes, unique] = await Promise.all([community.listStats(spaceId), community.countAudience(spaceId)]);
    const sum = (k: keyof MinuteStats) => minutes.reduce((n, m) => n + Number(m[k]), 0);
    const max = (k: keyof MinuteStats) => minutes.reduce((n, m) => Math.max(n, Number(m[k])), 0);
    const waited = sum('queued');
    const admitted = sum('fromLine');
    return {
      peakListeners: max('peakListeners'),
      uniqueListeners: unique,
      joins: sum('joins'),
      waitingRoom: { waited, admitted, left: Math.max(0, waited - admitted), longestWaitMs: max('maxWaitMs') },
      replayPlays: sum('replayPlays'),
      reactions: sum('reactions'),
      minutes,
    };
  }

  async #activeSpaces(hostId: string): Promise<string[]> {
    const store = this.#spaces.store;
    const [live, scheduled] = await Promise.all([
      store.listSpaces({ hostId, state: 'live', limit: 1000, offset: 0 }),
      store.listSpaces({ hostId, state: 'scheduled', limit: 1000, offset: 0 }),
    ]);
    return [...live, ...scheduled].map((s) => s.id);
  }

  async #auditAccount(actor: Account, action: string | undefined, targetId: string): Promise<void> {
    if (action === undefined) return;
    await this.#spaces.store.community().addAudit({
      id: sortableId('au', this.#spaces.now()),
      spaceId: null,
      actorId: actor.id,
      action,
      targetId,
      detail: null,
      at: this.#spaces.now(),
    });
  }
}
