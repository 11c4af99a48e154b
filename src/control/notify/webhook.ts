import { createHmac, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Webhooks as the Standard Webhooks specification signs them (standardwebhooks.com): headers
 * `webhook-id` (the delivery's key: the same on every retry, so a receiver drops repeats),
 * `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>" with the secret's bytes>`. Any of the specification's libraries verifies it.
 */

/** A new signing secret: `whsec_` and 24 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function signWebhook(secret: string, id: string, timestampS: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64')}`;
}

/** Addresses a webhook may not reach unless `notify.allowPrivateAddresses`: this machine and private networks. */
const privateRanges = (() => {
  const list = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
  ] as const) {
    list.addSubnet(net, bits, 'ipv4');
  }
  list.addAddress('::', 'ipv6');
  list.addAddress('::1', 'ipv6');
  list.addSubnet('fc00::', 7, 'ipv6');
  list.addSubnet('fe80::', 10, 'ipv6');
  list.addSubnet('::ffff:0:0', 96, 'ipv6'); // IPv4-mapped: checked as the IPv4 address instead
  return list;
})();

/** Whether `address` (an IP) is loopback, private or link-local. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return privateRanges.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: refuse
  return privateRanges.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** What became of one call. `permanent`: do not retry (the receiver said the hook is gone, or the URL is refused). */
export type WebhookOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string; readonly permanent: boolean };

export interface WebhookCall {
  readonly url: string;
  readonly secret: string;
  readonly id: string;
  readonly timestampS: number;
  readonly body: string;
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
}

/**
 * Why a URL may not be called (it resolves to this machine or a private network), or undefined when it
 * may. The name is resolved here and again by the call itself, so a name that changes its answer in
 * between (DNS rebinding) is not caught: the private-address rule is a guard, not a sandbox.
 */
export async function refusal(url: URL, allowPrivate: boolean): Promise<WebhookOutcome | undefined> {
  if (allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) return { ok: false, error: `cannot resolve ${host}`, permanent: false };
  if (addresses.some(isPrivateAddress)) return { ok: false, error: `${host} is a private address`, permanent: true };
  return undefined;
}

/** POSTs one signed event. 2xx is delivered; 410 Gone is permanent; anything else is retried. */
export async function callWebhook(call: WebhookCall): Promise<WebhookOutcome> {
  const url = new URL(call.url);
  const refused = await refusal(url, call.allowPrivate);
  if (refused !== undefined) return refused;
  try {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual', // a redirect is not followed into places the URL check did not see
      signal: AbortSignal.timeout(call.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Amphi-Webhooks/1',
        'webhook-id': call.id,
        'webhook-timestamp': String(call.timestampS),
        'webhook-signature': signWebhook(call.secret, call.id, call.timestampS, call.body),
      },
      body: call.body,
    });
    await res.body?.cancel();
    if (res.ok) return { ok: true };
    return { ok: false, error: `HTTP ${res.status}`, permanent: res.status === 410 };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), permanent: false };
  }
}
