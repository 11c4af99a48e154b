import { isIP } from 'node:net';
import type { Config } from '../../config/schema.ts';
import { AmphiError, rateLimited } from '../../errors.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import type { TokenSigner } from '../../lib/signed-token.ts';
import type { Limiter, RateLimitPolicy } from '../../lib/token-bucket.ts';
import type { NotifyStore } from '../../storage/notify-store.ts';
import type { Account } from '../../storage/store.ts';
import { readEmailLink } from './links.ts';
import type { VapidKeyring } from './push.ts';
import { isPrivateAddress, newWebhookSecret } from './webhook.ts';

/** Webhooks one account may have. */
export const MAX_WEBHOOKS = 5;

/**
 * Verification e-mails one account may cause: 5, then one every 12 minutes. Without it, changing the
 * address back and forth would make the server mail anyone, as often as someone liked.
 */
export const VERIFY_MAILS: RateLimitPolicy = { capacity: 5, refillPerSecond: 1 / 720 };

export interface EmailView {
  readonly email: string;
  readonly verified: boolean;
  readonly remindersByEmail: boolean;
}

export interface WebhookView {
  readonly id: string;
  readonly url: string;
  readonly createdAt: number;
}

/**
 * What an account sets for notifications: its e-mail address (verified by a link before anything else
 * is sent to it), reminders by e-mail on or off (the unsubscribe link), and, for hosts, webhooks.
 */
export class Notifications {
  readonly #store: NotifyStore;
  readonly #clock: Clock;
  readonly #signer: TokenSigner;
  readonly #config: Config['notify'];

  readonly #vapid: VapidKeyring;
  readonly #verifyMails: Limiter;

  constructor(o: {
    store: NotifyStore;
    clock: Clock;
    signer: TokenSigner;
    config: Config['notify'];
    vapid: VapidKeyring;
    /** Verification e-mails per account (`VERIFY_MAILS`); shared by every node in cluster mode. */
    verifyMails: Limiter;
  }) {
    this.#store = o.store;
    this.#vapid = o.vapid;
    this.#verifyMails = o.verifyMails;
    this.#clock = o.clock;
    this.#signer = o.signer;
    this.#config = o.config;
  }

  /** Sets the address and sends it a verification link; reminders go to it once it is verified. */
  async setEmail(account: Account, email: string): Promise<EmailView> {
    if (this.#config.smtpUrl === null) throw new AmphiError('EMAIL_NOT_CONFIGURED');
    const now = this.#clock.now();
    const current = await this.#store.getContact(account.id);
    if (current?.email === email) return view(current); // unchanged: no second verification e-mail
    const taken = await this.#verifyMails.take(account.id);
    if (!taken.ok) throw rateLimited(taken.retryAfterMs);
    const contact = await this.#store.setContact(account.id, email, now);
    await this.#store.enqueue(
      {
        key: `verify:${account.id}:${email}:${now}`,
        channel: 'email',
        target: email,
        accountId: account.id,
        spaceId: null,
        event: 'email.verify',
      },
      now,
    );
    return view(contact);
  }

  async email(account: Account): Promise<EmailView | null> {
    const contact = await this.#store.getContact(account.id);
    return contact === undefined ? null : view(contact);
  }

  async removeEmail(account: Account): Promise<void> {
    await this.#store.removeContact(account.id);
  }

  /** Follows a verification link. */
  async verify(token: string): Promise<void> {
    const link = this.#read(token, 'ev');
    if (!(await this.#store.verifyContact(link.accountId, link.email, this.#clock.now()))) {
      throw new AmphiError('EMAIL_LINK_INVALID', { details: { reason: 'address_changed' } });
    }
  }

  /** Follows an unsubscribe link: no more reminders by e-mail to that address. */
  async unsubscribe(token: string): Promise<void> {
    const link = this.#read(token, 'eu');
    if (!(await this.#store.setRemindersByEmail(link.accountId, link.email, false, this.#clock.now()))) {
      throw new AmphiError('EMAIL_LINK_INVALID', { details: { reason: 'address_changed' } });
    }
  }

  /** Registers a webhook; the answer is the only time its signing secret is shown. */
  async addWebhook(account: Account, url: string): Promise<WebhookView & { secret: string }> {
    this.#checkUrl(url);
    if ((await this.#store.listWebhooks(account.id)).length >= MAX_WEBHOOKS) throw new AmphiError('WEBHOOK_LIMIT');
    const hook = { id: newId('wh'), accountId: account.id, url, secret: newWebhookSecret(), createdAt: this.#clock.now() };
    await this.#store.addWebhook(hook);
    return { id: hook.id, url: hook.url, createdAt: hook.createdAt, secret: hook.secret };
  }

  async webhooks(account: Account): Promise<WebhookView[]> {
    return (await this.#store.listWebhooks(account.id)).map(({ id, url, createdAt }) => ({ id, url, createdAt }));
  }

  async removeWebhook(account: Account, id: string): Promise<void> {
    if (!(await this.#store.removeWebhook(account.id, id))) throw new AmphiError('WEBHOOK_NOT_FOUND');
  }

  /** The server's VAPID public key: a browser subscribes with it as `applicationServerKey`. */
  async pushKey(): Promise<string> {
    return (await this.#vapid.keys()).publicKey;
  }

  /** Keeps a browser's push subscription: go-live reminders of this account reach that browser too. */
  async addPushSubscription(account: Account, s: { endpoint: string; keys: { p256dh: string; auth: string } }): Promise<void> {
    const url = this.#checkUrl(s.endpoint, 'PUSH_SUBSCRIPTION_REFUSED');
    if (url.protocol !== 'https:' && !this.#config.allowPrivateAddresses) throw new AmphiError('PUSH_SUBSCRIPTION_REFUSED');
    if (!validPushKeys(s.keys)) throw new AmphiError('PUSH_SUBSCRIPTION_REFUSED');
    await this.#store.addPushSubscription({
      endpoint: s.endpoint,
      accountId: account.id,
      ...s.keys,
      createdAt: this.#clock.now(),
    });
  }

  async removePushSubscription(account: Account, endpoint: string): Promise<boolean> {
    return this.#store.removePushSubscription(endpoint, account.id);
  }

  async pushSubscriptionCount(account: Account): Promise<number> {
    return (await this.#store.listPushSubscriptions(account.id)).length;
  }

  #read(token: string, kind: 'ev' | 'eu') {
    const link = readEmailLink(this.#signer, token, kind, this.#clock.now());
    if (!link.ok) throw new AmphiError('EMAIL_LINK_INVALID', { details: { reason: link.reason } });
    return link;
  }

  /** http(s) only, and no literal private address or `localhost` unless allowed (names are checked again when called). */
  #checkUrl(raw: string, code: 'WEBHOOK_URL_REFUSED' | 'PUSH_SUBSCRIPTION_REFUSED' = 'WEBHOOK_URL_REFUSED'): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new AmphiError(code);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AmphiError(code);
    if (url.username !== '' || url.password !== '') throw new AmphiError(code);
    if (this.#config.allowPrivateAddresses) return url;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host))) {
      throw new AmphiError(code);
    }
    return url;
  }
}

/** A P-256 public key (65 bytes, uncompressed) and a 16-byte auth secret, both base64url (RFC 8291). */
function validPushKeys(keys: { p256dh: string; auth: string }): boolean {
  const b64url = /^[A-Za-z0-9_-]+={0,2}$/;
  if (!b64url.test(keys.p256dh) || !b64url.test(keys.auth)) return false;
  const key = Buffer.from(keys.p256dh, 'base64url');
  return key.length === 65 && key[0] === 4 && Buffer.from(keys.auth, 'base64url').length === 16;
}

function view(c: { email: string; verifiedAt: number | null; remindersByEmail: boolean }): EmailView {
  return { email: c.email, verified: c.verifiedAt !== null, remindersByEmail: c.remindersByEmail };
}
