import { isUniqueViolation, type Row, type SqlRunner } from './driver.ts';
import type {
  Channel,
  ContactRecord,
  DeliveryCounts,
  DeliveryEvent,
  DeliveryRecord,
  NewDelivery,
  NotifyStore,
  PushSubscriptionRecord,
  SpaceEvent,
  WebhookRecord,
} from './notify-store.ts';

const COLUMNS = 'key, channel, target, account_id, space_id, event, state, attempts, next_at, created_at';

/** `NotifyStore` in the SQL both databases share (INSERT … SELECT … ON CONFLICT, UPDATE … RETURNING). */
export class SqlNotifyStore implements NotifyStore {
  readonly #db: SqlRunner;

  constructor(db: SqlRunner) {
    this.#db = db;
  }

  async setContact(accountId: string, email: string, nowMs: number): Promise<ContactRecord> {
    await this.#db.run(
      `INSERT INTO contacts (account_id, email, verified_at, reminders_by_email, updated_at) VALUES (?, ?, NULL, 1, ?)
       ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, verified_at = NULL, reminders_by_email = 1, updated_at = excluded.updated_at`,
      [accountId, email, nowMs],
    );
    return { accountId, email, verifiedAt: null, remindersByEmail: true };
  }

  async getContact(accountId: string): Promise<ContactRecord | undefined> {
    const [r] = await this.#db.all('SELECT * FROM contacts WHERE account_id = ?', [accountId]);
    return r === undefined ? undefined : toContact(r);
  }

  async verifyContact(accountId: string, email: string, nowMs: number): Promise<boolean> {
    const changed = await this.#db.run(
      'UPDATE contacts SET verified_at = COALESCE(verified_at, ?), updated_at = ? WHERE account_id = ? AND email = ?',
      [nowMs, nowMs, accountId, email],
    );
    return changed > 0;
  }

  async setRemindersByEmail(accountId: string, email: string, on: boolean, nowMs: number): Promise<boolean> {
    const changed = await this.#db.run(
      'UPDATE contacts SET reminders_by_email = ?, updated_at = ? WHERE account_id = ? AND email = ?',
      [on ? 1 : 0, nowMs, accountId, email],
    );
    return changed > 0;
  }

  async removeContact(accountId: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM contacts WHERE account_id = ?', [accountId])) > 0;
  }

  async addWebhook(w: WebhookRecord): Promise<void> {
    await this.#db.run('INSERT INTO webhooks (id, account_id, url, secret, created_at) VALUES (?, ?, ?, ?, ?)', [
      w.id,
      w.accountId,
      w.url,
      w.secret,
      w.createdAt,
    ]);
  }

  async listWebhooks(accountId: string): Promise<WebhookRecord[]> {
    return (await this.#db.all('SELECT * FROM webhooks WHERE account_id = ? ORDER BY created_at, id', [accountId])).map(
      toWebhook,
    );
  }

  async getWebhook(id: string): Promise<WebhookRecord | undefined> {
    const [r] = await this.#db.all('SELECT * FROM webhooks WHERE id = ?', [id]);
    return r === undefined ? undefined : toWebhook(r);
  }

  async removeWebhook(accountId: string, id: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM webhooks WHERE account_id = ? AND id = ?', [accountId, id])) > 0;
  }

  async addPushSubscription(p: PushSubscriptionRecord): Promise<void> {
    await this.#db.run(
      `INSERT INTO push_subscriptions (endpoint, account_id, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (endpoint) DO UPDATE SET account_id = excluded.account_id, p256dh = excluded.p256dh, auth = excluded.auth`,
      [p.endpoint, p.accountId, p.p256dh, p.auth, p.createdAt],
    );
  }

  async getPushSubscription(endpoint: string): Promise<PushSubscriptionRecord | undefined> {
    const [r] = await this.#db.all('SELECT * FROM push_subscriptions WHERE endpoint = ?', [endpoint]);
    return r === undefined ? undefined : toPush(r);
  }

  async listPushSubscriptions(accountId: string): Promise<PushSubscriptionRecord[]> {
    return (
      await this.#db.all('SELECT * FROM push_subscriptions WHERE account_id = ? ORDER BY created_at, endpoint', [accountId])
    ).map(toPush);
  }

  async removePushSubscription(endpoint: string, accountId?: string): Promise<boolean> {
    const [sql, params] =
      accountId === undefined
        ? ['DELETE FROM push_subscriptions WHERE endpoint = ?', [endpoint]]
        : ['DELETE FROM push_subscriptions WHERE endpoint = ? AND account_id = ?', [endpoint, accountId]];
    return (await this.#db.run(sql, params)) > 0;
  }

  async serverKey(name: string, make: () => string, nowMs: number): Promise<string> {
    await this.#db.run('INSERT INTO server_keys (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [
      name,
      make(),
      nowMs,
    ]);
    const [r] = await this.#db.all('SELECT value FROM server_keys WHERE name = ?', [name]);
    return String(r!.value);
  }

  async enqueue(d: NewDelivery, nowMs: number): Promise<boolean> {
    try {
      return (
        (await this.#db.run(`INSERT INTO deliveries (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`, [
          d.key,
          d.channel,
          d.target,
          d.accountId,
          d.spaceId,
          d.event,
          nowMs,
          nowMs,
        ])) > 0
      );
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async enqueueForSpace(spaceId: string, event: SpaceEvent, nowMs: number): Promise<number> {
    // What the key says it is for: "live", "ended", or "soon@<start>" (a revised start owes a reminder
    // of its own; the one for the old start is given up when due: see Notifier).
    const prefix = event === 'space.soon' ? `'soon@' || s.scheduled_start` : `'${event.slice('space.'.length)}'`;
    let added = 0;
    if (event !== 'space.ended') {
      added += await this.#db.run(
        `INSERT INTO deliveries (${COLUMNS})
         SELECT ${prefix} || ':' || r.space_id || ':' || r.account_id || ':email', 'email', c.email, r.account_id, r.space_id, ?, 'pending', 0, ?, ?
         FROM reminders r JOIN contacts c ON c.account_id = r.account_id JOIN spaces s ON s.id = r.space_id
         WHERE r.space_id = ? AND c.verified_at IS NOT NULL AND c.reminders_by_email = 1
         ON CONFLICT (key) DO NOTHING`,
        [event, nowMs, nowMs, spaceId],
      );
      // One push per subscription; the key carries the endpoint itself (keys are compared whole).
      added += await this.#db.run(
        `INSERT INTO deliveries (${COLUMNS})
         SELECT ${prefix} || ':' || r.space_id || ':' || r.account_id || ':push:' || p.endpoint, 'push', p.endpoint, r.account_id, r.space_id, ?, 'pending', 0, ?, ?
         FROM reminders r JOIN push_subscriptions p ON p.account_id = r.account_id JOIN spaces s ON s.id = r.space_id
         WHERE r.space_id = ?
         ON CONFLICT (key) DO NOTHING`,
        [event, nowMs, nowMs, spaceId],
      );
    }
    added += await this.#db.run(
      `INSERT INTO deliveries (${COLUMNS})
       SELECT ${prefix} || ':' || s.id || ':' || w.id, 'webhook', w.id, w.account_id, s.id, ?, 'pending', 0, ?, ?
       FROM spaces s JOIN webhooks w ON w.account_id = s.host_id
       WHERE s.id = ?
       ON CONFLICT (key) DO NOTHING`,
      [event, nowMs, nowMs, spaceId],
    );
    return added;
  }

  async spacesWith(event: 'space.live' | 'space.ended', sinceMs: number): Promise<string[]> {
    const column = event === 'space.live' ? 'started_at' : 'ended_at';
    const rows = await this.#db.all(`SELECT id FROM spaces WHERE ${column} >= ? ORDER BY ${column}, id`, [sinceMs]);
    return rows.map((r) => String(r.id));
  }

  async spacesStartingBy(nowMs: number, untilMs: number): Promise<string[]> {
    const rows = await this.#db.all(
      `SELECT id FROM spaces WHERE state = 'scheduled' AND scheduled_start > ? AND scheduled_start <= ? ORDER BY scheduled_start, id`,
      [nowMs, untilMs],
    );
    return rows.map((r) => String(r.id));
  }

  async claimDue(nowMs: number, leaseMs: number, limit: number): Promise<DeliveryRecord[]> {
    const free = `state = 'pending' AND next_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)`;
    const rows = await this.#db.all(
      `UPDATE deliveries SET claimed_until = ?, attempts = attempts + 1
       WHERE key IN (SELECT key FROM deliveries WHERE ${free} ORDER BY next_at, key LIMIT ?) AND ${free}
       RETURNING *`,
      [nowMs + leaseMs, nowMs, nowMs, limit, nowMs, nowMs],
    );
    return rows.map(toDelivery).sort((a, b) => a.createdAt - b.createdAt || a.key.localeCompare(b.key));
  }

  async markSent(key: string, nowMs: number): Promise<void> {
    await this.#db.run(
      `UPDATE deliveries SET state = 'sent', sent_at = ?, claimed_until = NULL, last_error = NULL WHERE key = ?`,
      [nowMs, key],
    );
  }

  async markRetry(key: string, nextAtMs: number, error: string): Promise<void> {
    await this.#db.run('UPDATE deliveries SET next_at = ?, claimed_until = NULL, last_error = ? WHERE key = ?', [
      nextAtMs,
      error.slice(0, 500),
      key,
    ]);
  }

  async markFailed(key: string, error: string): Promise<void> {
    await this.#db.run(`UPDATE deliveries SET state = 'failed', claimed_until = NULL, last_error = ? WHERE key = ?`, [
      error.slice(0, 500),
      key,
    ]);
  }

  async getDelivery(key: string): Promise<(DeliveryRecord & { state: string; lastError: string | null }) | undefined> {
    const [r] = await this.#db.all('SELECT * FROM deliveries WHERE key = ?', [key]);
    if (r === undefined) return undefined;
    return { ...toDelivery(r), state: String(r.state), lastError: typeof r.last_error === 'string' ? r.last_error : null };
  }

  async countDeliveries(): Promise<DeliveryCounts> {
    const rows = await this.#db.all('SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state');
    const n = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    return { pending: n('pending'), sent: n('sent'), failed: n('failed') };
  }
}

function toContact(r: Row): ContactRecord {
  return {
    accountId: String(r.account_id),
    email: String(r.email),
    verifiedAt: r.verified_at === null || r.verified_at === undefined ? null : Number(r.verified_at),
    remindersByEmail: Number(r.reminders_by_email) === 1,
  };
}

function toPush(r: Row): PushSubscriptionRecord {
  return {
    endpoint: String(r.endpoint),
    accountId: String(r.account_id),
    p256dh: String(r.p256dh),
    auth: String(r.auth),
    createdAt: Number(r.created_at),
  };
}

function toWebhook(r: Row): WebhookRecord {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    url: String(r.url),
    secret: String(r.secret),
    createdAt: Number(r.created_at),
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    key: String(r.key),
    channel: r.channel as Channel,
    target: String(r.target),
    accountId: String(r.account_id),
    spaceId: typeof r.space_id === 'string' ? r.space_id : null,
    event: r.event as DeliveryEvent,
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
  };
}
