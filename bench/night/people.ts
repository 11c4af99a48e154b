/**
 * The launch night's people: a host, a co-host (invited, accepted, promoted), fans who set a reminder,
 * and the speakers' publishers; and which media node produces the Space.
 */
import { Redis } from 'ioredis';
import { leaseOwner } from '../../src/cluster/lease.ts';
import type { Cluster, ClusterNode } from '../cluster/launch.ts';
import { must, signUp, type jsonApi } from '../lib/json-api.ts';
import { keepPublishing, type KeptPublisher } from '../lib/whip-tone.ts';

const PASSWORD = 'a long drill password';

export type Api = ReturnType<typeof jsonApi>;

const account = (api: Api, handle: string) => signUp(api, handle, PASSWORD);

const expect = (what: string, reply: ReturnType<Api>, status = 200) => must(what, reply, [status]);

/** Host, co-host (invited, accepted, promoted), reminders; the Space scheduled `leadSeconds` ahead. */
export async function setUp(api: Api, o: { readonly leadSeconds: number; readonly reminders: number }) {
  const host = await account(api, 'night_host');
  const cohost = await account(api, 'night_cohost');
  const scheduledAt = Date.now() + o.leadSeconds * 1000;
  const created = await expect(
    'creating the Space',
    api('POST', '/api/spaces', host.token, { title: 'Launch night', scheduledStart: new Date(scheduledAt).toISOString() }),
    201,
  );
  const spaceId = (created.json as { space: { id: string } }).space.id;
  await expect(
    'the invitation',
    api('POST', `/api/spaces/${spaceId}/invitations`, host.token, { accountId: cohost.id }),
    201,
  ).catch(() =>
    expect('the invitation', api('POST', `/api/spaces/${spaceId}/invitations`, host.token, { accountId: cohost.id })),
  );
  await expect('accepting it', api('POST', `/api/spaces/${spaceId}/invitations/me/accept`, cohost.token));
  await expect('the co-host role', api('POST', `/api/spaces/${spaceId}/members/${cohost.id}/cohost`, host.token));
  for (let i = 0; i < o.reminders; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, o.reminders - i) }, async (_, j) => {
        const fan = await account(api, `night_fan_${i + j}`);
        await expect('a reminder', api('PUT', `/api/spaces/${spaceId}/reminder`, fan.token));
      }),
    );
  }
  const view = await api('GET', `/api/spaces/${spaceId}`);
  return { host, cohost, spaceId, scheduledAt, reminderCount: Number(view.json?.space?.reminderCount ?? 0) };
}

/** A speaker's publisher, connected backstage before the start. */
export function speaker(api: Api, spaceId: string, token: string): Promise<KeptPublisher> {
  return keepPublishing({
    frequencyHz: 440,
    grant: async () => {
      const r = await api('POST', `/api/spaces/${spaceId}/stage`, token);
      if (r.status !== 200) throw new Error(`stage grant ${r.status}`);
      return { whipUrl: r.json.whipUrl as string, token: r.json.token as string };
    },
  });
}

export /** The media node producing the Space, found through its lease (before Redis is failed over). */
async function owner(cluster: Cluster, spaceId: string): Promise<ClusterNode> {
  const redis = new Redis(cluster.redisUrl, { lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const held = await leaseOwner(redis, spaceId);
    if (held === undefined) throw new Error('nobody holds the Space');
    const report = JSON.parse((await redis.get(`amphi:fleet:node:${held.nodeId}`)) ?? '{}') as { url?: string };
    const node = cluster.medias.find((m) => m.node.url === report.url)?.node;
    if (node === undefined) throw new Error(`the owner ${held.nodeId} is not one of the media nodes`);
    return node;
  } finally {
    redis.disconnect();
  }
}
