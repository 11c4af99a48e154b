import { createHash } from 'node:crypto';
import webpush from 'web-push';
import type { NotifyStore, PushSubscriptionRecord } from '../../storage/notify-store.ts';
import { refusal, type WebhookOutcome } from './webhook.ts';

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and the payload encrypted for the browser (RFC 8291,
 * aes128gcm), prepared by the `web-push` library (the reference Node implementation); the request is
 * sent here with fetch, under the same private-address rule and timeout as webhooks.
 */
export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
}

export function newVapidKeys(): VapidKeys {
  return webpush.generateVAPIDKeys();
}

/** What the service worker shows: a notification with this title and body, opening `url`. */
export interface PushMessage {
  readonly title: string;
  readonly body: string;
  readonly url: string;
}

export interface PushCall {
  readonly subscription: PushSubscriptionRecord;
  readonly message: PushMessage;
  readonly vapid: VapidKeys & { readonly subject: string };
  /** Names the message for the push service: a retry with the same topic replaces an undelivered one (RFC 8030 §5.4). */
  readonly topicOf: string;
  readonly ttlSeconds: number;
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
}

/** `gone`: the push service no longer knows the subscription (404, 410); drop it. */
export type PushOutcome = WebhookOutcome & { readonly gone?: boolean };

export async function sendPush(call: PushCall): Promise<PushOutcome> {
  const s = call.subscription;
  const refused = await refusal(new URL(s.endpoint), call.allowPrivate);
  if (refused !== undefined) return refused;
  const details = webpush.generateRequestDetails(
    { endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } },
    JSON.stringify(call.message),
    {
      vapidDetails: call.vapid,
      TTL: call.ttlSeconds,
      topic: createHash('sha256').update(call.topicOf).digest('base64url').slice(0, 32),
      contentEncoding: 'aes128gcm',
      urgency: 'high',
    },
  );
  try {
    const res = await fetch(details.endpoint, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(call.timeoutMs),
      headers: details.headers as Record<string, string>,
      ...(details.body === null ? {} : { body: new Uint8Array(details.body) }),
    });
    await res.body?.cancel();
    if (res.ok) return { ok: true };
    const gone = res.status === 404 || res.status === 410;
    return { ok: false, error: `HTTP ${res.status}`, permanent: gone, gone };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), permanent: false };
  }
}

/** The server's VAPID key pair: made once by whichever node asks first, kept in the database, cached here. */
export class VapidKeyring {
  readonly #store: Pick<NotifyStore, 'serverKey'>;
  readonly #now: () => number;
  #keys: Promise<VapidKeys> | undefined;

  constructor(store: Pick<NotifyStore, 'serverKey'>, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  keys(): Promise<VapidKeys> {
    this.#keys ??= this.#store
      .serverKey('vapid', () => JSON.stringify(newVapidKeys()), this.#now())
      .then((json) => JSON.parse(json) as VapidKeys)
      .catch((error: unknown) => {
        this.#keys = undefined; // the database was away: ask again next time
        throw error;
      });
    return this.#keys;
  }
}
