import type { Config } from '../config/schema.ts';
import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { ListenerFailures } from '../lib/typed-emitter.ts';
import type { NotifyStore } from '../storage/notify-store.ts';
import type { Store } from '../storage/store.ts';
import { Accounts } from './accounts.ts';
import { ListenerAnalytics } from './analytics.ts';
import { Clips } from './clips.ts';
import { Community } from './community.ts';
import { Moderation } from './moderation.ts';
import { Credentials } from './credentials.ts';
import { ControlBus } from './events.ts';
import { RateLimiter, type Limiter, type RateLimitPolicy } from '../lib/token-bucket.ts';
import { Reactions, type ReactionTally } from './reactions.ts';
import { SnapshotCache } from './snapshots.ts';
import { Spaces } from './spaces.ts';
import { smtpSender } from './notify/email.ts';
import { Notifier } from './notify/notifier.ts';
import { VapidKeyring } from './notify/push.ts';
import { Notifications, VERIFY_MAILS } from './notify/service.ts';

/** How often expired sessions are deleted from storage. */
const SESSION_SWEEP_MS = 3_600_000;

/** The control plane's services, wired from its interfaces (store, clock, signer, logger). */
export interface ControlPlane {
  readonly bus: ControlBus;
  readonly accounts: Accounts;
  readonly spaces: Spaces;
  readonly credentials: Credentials;
  readonly reactions: Reactions;
  readonly clips: Clips;
  /** Handover, settings, unban, host-level blocks, the audience, the audit log and analytics of a Space. */
  readonly moderation: Moderation;
  /** Profiles, follows, reports and operators' decisions. */
  readonly community: Community;
  /** Counts joins, the line, replays and reactions for the hosts' analytics (written every 5 s). */
  readonly analytics: ListenerAnalytics;
  /** E-mail addresses and webhooks (where the store keeps them); the notifier sends what they are for. */
  readonly notifications: Notifications | undefined;
  readonly notifier: Notifier | undefined;
  /** Stops the plane's timers (the session sweep, the notifier) and writes the last analytics counts. Idempotent. */
  close(): Promise<void>;
}

export interface ControlDeps {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly clock: Clock;
  readonly signer: TokenSigner;
  readonly log: Logger;
  /** Where listeners and speakers are sent; read per use, since port 0 is known only after listen. */
  readonly urls: {
    readonly edge: () => string;
    /** The web app's public base URL, for links in e-mails and webhooks (default: server.publicUrl, else the edge's). */
    readonly web?: () => string;
    readonly stage: (spaceId: string) => string | Promise<string>;
    /** Cluster mode: an edge chosen by load for each join, with fallbacks; undefined (none reports) = `edge`. */
    readonly edges?: () => { readonly url: string; readonly fallbacks: readonly string[] } | undefined;
  };
  /** Whether a Space has a recording (live or finished): an ended Space with one can be joined as a replay. */
  readonly recordings?: (spaceId: string) => { live: boolean; durationMs: number } | undefined;
  /** Where listeners that throw are reported (logged and counted). */
  readonly failures: ListenerFailures;
  /** Checks, before a Space goes live, that its media can be recorded (the origin's storage). */
  readonly prepareMedia?: ((spaceId: string) => void) | undefined;
  /**
   * State every node shares (cluster mode: Redis): rate limits by name and reaction counts. Default:
   * this process's own.
   */
  readonly shared?: SharedControlState | undefined;
  /** Where e-mail addresses, webhooks and the outbox are kept; without it nothing is sent. */
  readonly notifyStore?: NotifyStore | undefined;
}

/** Rate limiters and reaction counts shared by every control node (cluster mode). */
export interface SharedControlState {
  limiter(name: string, policy: RateLimitPolicy): Limiter;
  readonly reactions: ReactionTally;
}

export function createControlPlane(deps: ControlDeps): ControlPlane {
  const { config, store, clock, signer, log, urls, recordings, failures, prepareMedia } = deps;
  const bus = new ControlBus(failures.for('control.bus'));
  const snapshots = new SnapshotCache(store, clock, config.spaces.snapshotTtlMs);
  // A change made on another node (the bus bridge delivers it) drops this node's cached view too.
  bus.on('space.changed', ({ spaceId }) => snapshots.invalidate(spaceId));
  const spaces = new Spaces({ store, clock, bus, snapshots, limits: config.spaces, log, prepareMedia });
  const accounts = new Accounts({
    store,
    clock,
    sessionTtlSeconds: config.auth.sessionTtlSeconds,
    passwordHashCostLog2: config.auth.passwordHashCostLog2,
  });
  const credentials = new Credentials({
    spaces,
    signer,
    clock,
    listenerTokenTtlSeconds: config.tokens.listenerTokenTtlSeconds,
    stageTokenTtlSeconds: config.tokens.stageTokenTtlSeconds,
    edgeFor: () => urls.edges?.() ?? { url: urls.edge(), fallbacks: [] },
    hasRecording: (spaceId) => recordings?.(spaceId) !== undefined,
    stageBaseUrl: urls.stage,
  });
  const reactionLimit = config.rateLimits.reactionsPerAccount;
  const reactions = new Reactions(
    spaces,
    deps.shared?.limiter('reactions', reactionLimit) ?? new RateLimiter(reactionLimit, clock),
    deps.shared?.reactions,
  );
  bus.on('space.ended', ({ spaceId }) => reactions.forget(spaceId));
  const clipLimit = config.rateLimits.clipsPerAccount;
  const clips = new Clips({
    store,
    spaces,
    credentials,
    clock,
    log,
    limiter: deps.shared?.limiter('clips', clipLimit) ?? new RateLimiter(clipLimit, clock),
  });
  const reportLimit = config.rateLimits.reportsPerAccount;
  const community = new Community({
    spaces,
    log,
    reportLimiter: deps.shared?.limiter('reports', reportLimit) ?? new RateLimiter(reportLimit, clock),
    avatarMaxBytes: config.spaces.avatarMaxBytes,
    forgetSessions: () => accounts.forgetSessions(),
  });
  const analytics = new ListenerAnalytics(store, clock, log.child({ part: 'analytics' }));
  const notify = notifications(deps, spaces, bus);
  const stopSweeping = every(
    clock,
    SESSION_SWEEP_MS,
    async () => {
      const removed = await accounts.deleteExpiredSessions();
      if (removed > 0) log.info({ removed }, 'expired sessions deleted');
    },
    (error) => log.warn({ err: error }, 'session sweep failed'),
  );
  return {
    bus,
    accounts,
    spaces,
    credentials,
    reactions,
    clips,
    moderation: new Moderation(spaces),
    community,
    analytics,
    notifications: notify?.notifications,
    notifier: notify?.notifier,
    async close() {
      stopSweeping();
      notify?.close();
      await analytics.stop();
    },
  };
}

/** The notifications service and the notifier, fed by the bus, where the store keeps their tables. */
function notifications(deps: ControlDeps, spaces: Spaces, bus: ControlBus) {
  const { config, clock, signer, log, urls, notifyStore: store } = deps;
  if (store === undefined) return undefined;
  const email = config.notify.smtpUrl === null ? undefined : smtpSender(config.notify.smtpUrl, config.notify.emailFrom);
  const vapid = new VapidKeyring(store, () => clock.now());
  const notifier = new Notifier({
    store,
    vapid,
    snapshot: (id) => spaces.snapshot(id),
    account: (id) => deps.store.getAccount(id),
    clock,
    signer,
    config: config.notify,
    baseUrl: () => urls.web?.() ?? config.server.publicUrl ?? urls.edge(),
    email,
    log: log.child({ part: 'notifier' }),
  });
  const enqueue = (spaceId: string, event: 'space.live' | 'space.ended') =>
    void notifier
      .spaceEvent(spaceId, event)
      .catch((error: unknown) => log.warn({ err: error, spaceId }, 'enqueue failed; the sweep retries'));
  bus.on('space.started', ({ spaceId }) => enqueue(spaceId, 'space.live'));
  bus.on('space.ended', ({ spaceId }) => enqueue(spaceId, 'space.ended'));
  return {
    notifications: new Notifications({
      store,
      clock,
      signer,
      config: config.notify,
      vapid,
      verifyMails: deps.shared?.limiter('verify-mails', VERIFY_MAILS) ?? new RateLimiter(VERIFY_MAILS, clock),
    }),
    notifier,
    close() {
      void notifier.stop();
      email?.close();
    },
  };
}
