import type { Config } from '../../config/schema.ts';
import { every, type Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import type { TokenSigner } from '../../lib/signed-token.ts';
import type { DeliveryCounts, DeliveryRecord, NotifyStore, SpaceEvent } from '../../storage/notify-store.ts';
import type { Account } from '../../storage/store.ts';
import { spacePageUrl } from '../calendar.ts';
import type { SpaceSnapshot } from '../snapshots.ts';
import { reminderEmail, utcMinute, verificationEmail, type EmailSender } from './email.ts';
import { emailLinkToken } from './links.ts';
import { sendPush, type VapidKeyring } from './push.ts';
import { callWebhook } from './webhook.ts';

export interface NotifierOptions {
  readonly store: NotifyStore;
  readonly snapshot: (spaceId: string) => Promise<SpaceSnapshot>;
  readonly account: (accountId: string) => Promise<Account | undefined>;
  readonly clock: Clock;
  readonly signer: TokenSigner;
  readonly config: Config['notify'];
  /** The public base URL the links in messages point at (no trailing slash). */
  readonly baseUrl: () => string;
  readonly vapid: VapidKeyring;
  /** Absent when no SMTP server is configured. */
  readonly email: EmailSender | undefined;
  readonly log: Logger;
}

/** How long a claimed delivery is this node's to send; past it, another node may (this one died mid-send). */
const CLAIM_MS = 120_000; // twice the longest webhook timeout allowed (notify.webhookTimeoutMs ≤ 60 s)
/**
 * Deliveries claimed at once, and sent at once: a round lasts about one send (a webhook's timeout at
 * worst), far inside the claim, and a million reminders go out at BATCH per round-trip, not one by one.
 */
const BATCH = 50;
/** How far back the sweep looks for Spaces whose go-live or end may not have been enqueued (a crash after COMMIT). */
const SWEEP_BACK_MS = 3_600_000;
const SWEEP_EVERY_MS = 30_000;
const MAX_BACKOFF_MS = 3_600_000;

type Outcome = { ok: true } | { ok: false; error: string; permanent: boolean };

/**
 * Sends what the outbox holds: reminders by e-mail when a Space goes live, verification e-mails, and
 * hosts' webhooks. Every control node runs one; each delivery is claimed by one node at a time
 * (`NotifyStore.claimDue`), sent, and marked sent, retried with exponential backoff, or given up after
 * `maxAttempts`. The bus's go-live and end enqueue at once; a sweep every 30 s enqueues what a crash
 * between COMMIT and the bus could have missed (enqueueing is idempotent by key). A node that dies
 * mid-send leaves its claim to lapse and another sends again, with the same Message-ID / webhook-id:
 * the one window in which a person can get a message twice.
 */
export class Notifier {
  readonly #o: NotifierOptions;
  #stop: (() => void) | undefined;
  #lastSweepMs = Number.NEGATIVE_INFINITY;
  #running: Promise<void> | undefined;

  constructor(options: NotifierOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stop ??= every(
      this.#o.clock,
      this.#o.config.pollMs,
      () => this.tick(),
      (e) => this.#o.log.warn({ err: e }, 'notifier round failed'),
    );
  }

  async stop(): Promise<void> {
    this.#stop?.();
    this.#stop = undefined;
    await this.#running;
  }

  /** How many deliveries are pending, sent and given up (metrics, tests). */
  counts(): Promise<DeliveryCounts> {
    return this.#o.store.countDeliveries();
  }

  /** A Space went live or ended on this node (or starts soon): enqueue what it owes now (the sweep would, later). */
  async spaceEvent(spaceId: string, event: SpaceEvent): Promise<void> {
    const added = await this.#o.store.enqueueForSpace(spaceId, event, this.#o.clock.now());
    if (added > 0) this.#o.log.info({ spaceId, event, added }, 'notifications enqueued');
  }

  /** One round: the sweep when due, then every due delivery claimed and sent. Rounds run one after another. */
  tick(): Promise<void> {
    const next = (this.#running ?? Promise.resolve()).then(() => this.#round());
    // The chain the next round waits for: settles either way, and forgets itself once it is the last.
    const settled: Promise<void> = next
      .catch(() => undefined)
      .then(() => {
        if (this.#running === settled) this.#running = undefined;
      });
    this.#running = settled;
    return next;
  }

  async #round(): Promise<void> {
    const now = this.#o.clock.now();
    if (now - this.#lastSweepMs >= SWEEP_EVERY_MS) {
      this.#lastSweepMs = now;
      for (const event of ['space.live', 'space.ended'] as const) {
        for (const spaceId of await this.#o.store.spacesWith(event, now - SWEEP_BACK_MS)) await this.spaceEvent(spaceId, event);
      }
      const before = this.#o.config.remindBeforeMinutes * 60_000;
      if (before > 0) {
        for (const spaceId of await this.#o.store.spacesStartingBy(now, now + before))
          await this.spaceEvent(spaceId, 'space.soon');
      }
    }
    for (;;) {
      const due = await this.#o.store.claimDue(this.#o.clock.now(), CLAIM_MS, BATCH);
      await Promise.all(due.map(async (d) => this.#settle(d, await this.#deliver(d).catch((e: unknown) => failure(e)))));
      if (due.length < BATCH) return;
    }
  }

  async #settle(d: DeliveryRecord, outcome: Outcome): Promise<void> {
    const store = this.#o.store;
    const now = this.#o.clock.now();
    if (outcome.ok) {
      await store.markSent(d.key, now);
      this.#o.log.info({ key: d.key, attempts: d.attempts }, 'notification sent');
    } else if (outcome.permanent || d.attempts >= this.#o.config.maxAttempts) {
      await store.markFailed(d.key, outcome.error);
      this.#o.log.warn({ key: d.key, attempts: d.attempts, error: outcome.error }, 'notification given up');
    } else {
      const backoff = Math.min(MAX_BACKOFF_MS, this.#o.config.retryBaseMs * 2 ** (d.attempts - 1));
      await store.markRetry(d.key, now + backoff, outcome.error);
    }
  }

  #deliver(d: DeliveryRecord): Promise<Outcome> {
    if (d.channel === 'webhook') return this.#webhook(d);
    if (d.channel === 'push') return this.#push(d);
    return d.event === 'email.verify' ? this.#verification(d) : this.#reminder(d);
  }

  async #reminder(d: DeliveryRecord): Promise<Outcome> {
    const email = this.#o.email;
    if (email === undefined) return { ok: false, error: 'no SMTP server configured', permanent: true };
    const snap = await this.#o.snapshot(d.spaceId ?? '');
    if (snap.space.state !== stateFor(d.event)) return tooLate(snap);
    if (forAnotherStart(d, snap)) return moved();
    const contact = await this.#o.store.getContact(d.accountId);
    if (contact?.email !== d.target || !contact.remindersByEmail || contact.verifiedAt === null) {
      return { ok: false, error: 'the address no longer takes reminders', permanent: true };
    }
    const base = this.#o.baseUrl();
    const token = emailLinkToken(this.#o.signer, 'eu', d.accountId, d.target, this.#o.clock.now());
    await email.send(
      reminderEmail({
        to: d.target,
        startsAt: d.event === 'space.soon' ? snap.space.scheduledStart : null,
        title: snap.space.title,
        hostHandle: snap.hostHandle,
        spaceUrl: spacePageUrl(snap, base),
        unsubscribeUrl: `${base}/api/email/unsubscribe?token=${encodeURIComponent(token)}`,
        messageId: messageId(d.key, base),
      }),
    );
    return { ok: true };
  }

  async #push(d: DeliveryRecord): Promise<Outcome> {
    const subscription = await this.#o.store.getPushSubscription(d.target);
    if (subscription?.accountId !== d.accountId) return { ok: false, error: 'the browser unsubscribed', permanent: true };
    const snap = await this.#o.snapshot(d.spaceId ?? '');
    if (snap.space.state !== stateFor(d.event)) return tooLate(snap);
    if (forAnotherStart(d, snap)) return moved();
    const startsAt = d.event === 'space.soon' ? snap.space.scheduledStart : null;
    const outcome = await sendPush({
      subscription,
      message: {
        title: startsAt === null ? `Live now: ${snap.space.title}` : `Starting soon: ${snap.space.title}`,
        body:
          startsAt === null ? `@${snap.hostHandle} is live on Amphi` : `@${snap.hostHandle} goes live at ${utcMinute(startsAt)}`,
        url: spacePageUrl(snap, this.#o.baseUrl()),
      },
      vapid: { ...(await this.#o.vapid.keys()), subject: this.#o.config.vapidSubject },
      topicOf: d.key,
      ttlSeconds: 3600,
      timeoutMs: this.#o.config.webhookTimeoutMs,
      allowPrivate: this.#o.config.allowPrivateAddresses,
    });
    if (outcome.gone === true) await this.#o.store.removePushSubscription(subscription.endpoint);
    return outcome;
  }

  async #verification(d: DeliveryRecord): Promise<Outcome> {
    const email = this.#o.email;
    if (email === undefined) return { ok: false, error: 'no SMTP server configured', permanent: true };
    const [contact, account] = await Promise.all([this.#o.store.getContact(d.accountId), this.#o.account(d.accountId)]);
    if (contact?.email !== d.target || account === undefined)
      return { ok: false, error: 'the address was changed', permanent: true };
    const base = this.#o.baseUrl();
    const token = emailLinkToken(this.#o.signer, 'ev', d.accountId, d.target, this.#o.clock.now());
    await email.send(
      verificationEmail({
        to: d.target,
        handle: account.handle,
        verifyUrl: `${base}/api/email/verify?token=${encodeURIComponent(token)}`,
        messageId: messageId(d.key, base),
      }),
    );
    return { ok: true };
  }

  async #webhook(d: DeliveryRecord): Promise<Outcome> {
    const hook = await this.#o.store.getWebhook(d.target);
    if (hook === undefined) return { ok: false, error: 'the webhook was removed', permanent: true };
    const snap = await this.#o.snapshot(d.spaceId ?? '');
    if (forAnotherStart(d, snap)) return moved();
    const s = snap.space;
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const body = JSON.stringify({
      type: d.event,
      timestamp: new Date(d.createdAt).toISOString(),
      data: {
        id: s.id,
        title: s.title,
        state: s.state,
        host: { handle: snap.hostHandle },
        url: spacePageUrl(snap, this.#o.baseUrl()),
        scheduledStart: iso(s.scheduledStart),
        startedAt: iso(s.startedAt),
        endedAt: iso(s.endedAt),
        reminderCount: snap.reminderCount,
      },
    });
    return callWebhook({
      url: hook.url,
      secret: hook.secret,
      id: d.key,
      timestampS: Math.floor(this.#o.clock.now() / 1000),
      body,
      timeoutMs: this.#o.config.webhookTimeoutMs,
      allowPrivate: this.#o.config.allowPrivateAddresses,
    });
  }
}

/** The state a Space must still be in for a reminder of `event` to make sense ("soon" once live is late). */
function stateFor(event: DeliveryRecord['event']): 'scheduled' | 'live' {
  return event === 'space.soon' ? 'scheduled' : 'live';
}

/** A "soon" reminder for a start the host has since moved (its key names the start it was for). */
function forAnotherStart(d: DeliveryRecord, snap: SpaceSnapshot): boolean {
  return d.event === 'space.soon' && !d.key.startsWith(`soon@${snap.space.scheduledStart}:`);
}

/**
 * A reminder of a Space no longer in the state it announced would mislead (an ended show, a "soon"
 * once live: the live reminder goes instead): given up.
 */
function tooLate(snap: SpaceSnapshot): Outcome {
  return { ok: false, error: `the Space is ${snap.space.state}: too late to remind`, permanent: true };
}

/** The start moved: the reminder for the new one is its own delivery. */
function moved(): Outcome {
  return { ok: false, error: 'the start was moved: a reminder for the new one replaces this', permanent: true };
}

function failure(error: unknown): Outcome {
  return { ok: false, error: error instanceof Error ? error.message : String(error), permanent: false };
}

/** A Message-ID from the delivery's key: the same message on every retry. */
function messageId(key: string, base: string): string {
  const host = new URL(base).hostname || 'amphi.invalid';
  return `<${Buffer.from(key).toString('base64url')}@${host}>`;
}
