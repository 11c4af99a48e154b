/**
 * What notifications keep in the database (migration 5): how to reach an account by e-mail, a host's
 * webhooks, and the outbox of deliveries. Enqueueing is idempotent by key, so any node may enqueue
 * the same go-live and one row stands; claiming is a conditional UPDATE, so one node sends each row.
 */
export type Channel = 'email' | 'webhook' | 'push';

/** What a delivery announces. */
/** What a Space owes its reminded listeners and its host's webhooks: soon (before the start), live, ended. */
export type SpaceEvent = 'space.soon' | 'space.live' | 'space.ended';
export type DeliveryEvent = SpaceEvent | 'email.verify';

export interface ContactRecord {
  readonly accountId: string;
  readonly email: string;
  /** When the address was proven (the link in the verification e-mail was followed); null until then. */
  readonly verifiedAt: number | null;
  /** Whether reminders go to this address (the unsubscribe link turns it off). */
  readonly remindersByEmail: boolean;
}

export interface WebhookRecord {
  readonly id: string;
  readonly accountId: string;
  readonly url: string;
  /** The signing secret (Standard Webhooks `whsec_…`); shown to the host once, when made. */
  readonly secret: string;
  readonly createdAt: number;
}

/** A browser's Web Push subscription (what `PushSubscription.toJSON()` gives), kept per account. */
export interface PushSubscriptionRecord {
  readonly endpoint: string;
  readonly accountId: string;
  /** The browser's P-256 public key (base64url) and auth secret (base64url), for RFC 8291 encryption. */
  readonly p256dh: string;
  readonly auth: string;
  readonly createdAt: number;
}

export interface DeliveryRecord {
  readonly key: string;
  readonly channel: Channel;
  /** An e-mail address, a webhook's id or a push subscription's endpoint. */
  readonly target: string;
  readonly accountId: string;
  readonly spaceId: string | null;
  readonly event: DeliveryEvent;
  /** Attempts so far, this one included once claimed. */
  readonly attempts: number;
  readonly createdAt: number;
}

export type NewDelivery = Omit<DeliveryRecord, 'attempts' | 'createdAt'>;

export interface DeliveryCounts {
  readonly pending: number;
  readonly sent: number;
  readonly failed: number;
}

export interface NotifyStore {
  /** Sets (or replaces) an account's address; a new address starts unverified. */
  setContact(accountId: string, email: string, nowMs: number): Promise<ContactRecord>;
  getContact(accountId: string): Promise<ContactRecord | undefined>;
  /** Marks the address verified if it is still the account's address; false otherwise. */
  verifyContact(accountId: string, email: string, nowMs: number): Promise<boolean>;
  /** Turns reminders by e-mail on or off for this address (if it is still the account's); false otherwise. */
  setRemindersByEmail(accountId: string, email: string, on: boolean, nowMs: number): Promise<boolean>;
  removeContact(accountId: string): Promise<boolean>;

  addWebhook(webhook: WebhookRecord): Promise<void>;
  listWebhooks(accountId: string): Promise<WebhookRecord[]>;
  getWebhook(id: string): Promise<WebhookRecord | undefined>;
  removeWebhook(accountId: string, id: string): Promise<boolean>;

  /** Adds (or moves to this account) a browser's push subscription. */
  addPushSubscription(subscription: PushSubscriptionRecord): Promise<void>;
  getPushSubscription(endpoint: string): Promise<PushSubscriptionRecord | undefined>;
  listPushSubscriptions(accountId: string): Promise<PushSubscriptionRecord[]>;
  /** Removes it (of this account, or whoever's when `accountId` is undefined: the push service said it is gone). */
  removePushSubscription(endpoint: string, accountId?: string): Promise<boolean>;
  /** A key the server keeps (the VAPID key pair): the stored one, or `make()`'s, stored by whichever node came first. */
  serverKey(name: string, make: () => string, nowMs: number): Promise<string>;

  /** Adds a delivery unless one with its key exists; true when added. */
  enqueue(delivery: NewDelivery, nowMs: number): Promise<boolean>;
  /**
   * The deliveries a Space's `event` owes, added unless already there: on `space.soon` and
   * `space.live`, one e-mail per reminder whose account has a verified address that takes reminders
   * and one push per subscription of a reminded account; on every event, one call per webhook of the
   * host. Returns how many were added.
   */
  enqueueForSpace(spaceId: string, event: SpaceEvent, nowMs: number): Promise<number>;
  /** Spaces whose `event` happened at or after `sinceMs` (the sweep that covers a crash between commit and enqueue). */
  spacesWith(event: 'space.live' | 'space.ended', sinceMs: number): Promise<string[]>;
  /** Scheduled Spaces whose start is after `nowMs` and at or before `untilMs` (the "starting soon" sweep). */
  spacesStartingBy(nowMs: number, untilMs: number): Promise<string[]>;
  /**
   * Claims up to `limit` due pending deliveries until `nowMs + leaseMs` (counting the attempt): no other
   * claim returns them meanwhile. A claim that lapses (its node died mid-send) is due again.
   */
  claimDue(nowMs: number, leaseMs: number, limit: number): Promise<DeliveryRecord[]>;
  markSent(key: string, nowMs: number): Promise<void>;
  /** Not sent this time: try again at `nextAtMs`. */
  markRetry(key: string, nextAtMs: number, error: string): Promise<void>;
  /** Given up: never tried again. */
  markFailed(key: string, error: string): Promise<void>;
  getDelivery(key: string): Promise<(DeliveryRecord & { state: string; lastError: string | null }) | undefined>;
  countDeliveries(): Promise<DeliveryCounts>;
}
