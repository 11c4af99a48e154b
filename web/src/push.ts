import { api, errorOf } from './api.ts';

/** Whether this browser can take push messages at all (a secure context with a service worker and PushManager). */
export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && window.isSecureContext;
}

/** base64url → bytes, for `applicationServerKey`. */
function bytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replaceAll('-', '+').replaceAll('_', '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** This browser's current subscription, if any (without asking for permission). */
export async function currentSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const registration = await navigator.serviceWorker.getRegistration('/');
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/**
 * Subscribes this browser to push with the server's VAPID key (asking the person for permission) and
 * hands the subscription to the server: reminders then reach this browser too.
 */
export async function subscribeThisBrowser(): Promise<void> {
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  await navigator.serviceWorker.ready;
  const key = await api.GET('/api/push/key');
  if (key.data === undefined) throw new Error(errorOf(key.error)?.message ?? 'The server has no push key');
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: bytes(key.data.publicKey),
  });
  const json = subscription.toJSON() as {
    endpoint: string;
    expirationTime?: number | null;
    keys: { p256dh: string; auth: string };
  };
  const saved = await api.POST('/api/me/push-subscriptions', { body: json });
  if (!saved.response.ok) {
    await subscription.unsubscribe();
    throw new Error(errorOf(saved.error)?.message ?? `Could not save the subscription (${saved.response.status})`);
  }
}

export async function unsubscribeThisBrowser(): Promise<void> {
  const subscription = await currentSubscription();
  if (subscription === null) return;
  await api.DELETE('/api/me/push-subscriptions', { body: { endpoint: subscription.endpoint } });
  await subscription.unsubscribe();
}
