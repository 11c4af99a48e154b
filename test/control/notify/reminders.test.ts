import assert from 'node:assert/strict';
import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, mock, test } from 'node:test';
import ece from 'http_ece';
import type { ParsedMail } from 'mailparser';
import { Webhook } from 'standardwebhooks';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';
import { startPushService, startSmtp, type PushService, type SmtpReceiver } from '../../helpers/notify-receivers.ts';

/**
 * Reminders that reach people, end to end on loopback: a real SMTP server (smtp-server, the nodemailer
 * project's) receives the e-mails and mailparser reads them; a real HTTP server receives the webhooks
 * and the Standard Webhooks reference library checks their signatures. Time is the test clock's; each
 * notifier round is run by hand.
 */
interface Received {
  readonly hooks: { headers: IncomingHttpHeaders; body: string }[];
  /** Status the webhook receiver answers, per call in order (then 204). */
  readonly answers: number[];
}

/** x and y of an uncompressed P-256 point, for a JWK. */
const xy = (point: Buffer) => ({
  x: point.subarray(1, 33).toString('base64url'),
  y: point.subarray(33, 65).toString('base64url'),
});

/** The List-* headers as mailparser reads them (List-Unsubscribe, List-Unsubscribe-Post). */
const listHeader = (mail: ParsedMail) =>
  (mail.headers.get('list') ?? {}) as { unsubscribe?: { url?: string }; 'unsubscribe-post'?: { name?: string } };

const links = (text: string) => [...text.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]);

describe('notifications: reminders by e-mail, webhooks', () => {
  const got: Received = { hooks: [], answers: [] };
  let smtp: SmtpReceiver;
  let receiver: Server;
  let app: TestApp;
  let hookUrl: string;
  let push: PushService;
  let pushBase: string;

  before(async () => {
    smtp = await startSmtp();
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        got.hooks.push({ headers: req.headers, body });
        res.writeHead(got.answers.shift() ?? 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/amphi`;
    push = await startPushService();
    pushBase = push.base;
    app = await makeTestApp({
      server: { publicUrl: 'https://amphi.example' },
      notify: { smtpUrl: smtp.url, allowPrivateAddresses: true, retryBaseMs: 10_000, maxAttempts: 3 },
    });
  });
  after(async () => {
    await app.close();
    await smtp.close();
    await new Promise((resolve) => receiver.close(resolve));
    await push.close();
  });

  const round = () => app.plane.notifier!.tick();
  const schedule = async (token: string, title: string) => {
    const r = await app.call('POST', '/api/spaces', {
      token,
      body: { title, scheduledStart: new Date(app.clock.now() + 3_600_000).toISOString() },
    });
    assert.equal(r.status, 201);
    return r.json.space.id as string;
  };
  /** A signed-in fan with a verified address (through the link in the e-mail, as a person would). */
  const verifiedFan = async (handle: string, email: string) => {
    const fan = await app.signUp(handle);
    const set = await app.call('PUT', '/api/me/email', { token: fan.token, body: { email } });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    assert.deepEqual(set.json.email, { email, verified: false, remindersByEmail: true });
    const before = smtp.mails.length;
    await round();
    const mail = smtp.mails.slice(before).find((m) => m.to !== undefined && JSON.stringify(m.to).includes(email));
    assert.ok(mail !== undefined, 'the verification e-mail arrived');
    assert.equal(mail.subject, 'Confirm your e-mail address for Amphi');
    const link = links(mail.text ?? '').find((l) => l.includes('/api/email/verify'));
    assert.ok(link !== undefined && link.startsWith('https://amphi.example/'), `${link}`);
    const followed = await app.call('GET', new URL(link).pathname + new URL(link).search);
    assert.equal(followed.status, 303);
    assert.equal((await app.call('GET', '/api/me/email', { token: fan.token })).json.email.verified, true);
    return fan;
  };

  test('go-live: each reminded fan with a verified address gets one e-mail with the link and one-click unsubscribe', async () => {
    const host = await app.signUp('notify_host');
    const id = await schedule(host.token, 'Launch night');
    const fans = [await verifiedFan('fan_mail_a', 'a@fans.example'), await verifiedFan('fan_mail_b', 'b@fans.example')];
    const unverified = await app.signUp('fan_unverified');
    await app.call('PUT', '/api/me/email', { token: unverified.token, body: { email: 'c@fans.example' } });
    await verifiedFan('fan_no_reminder', 'd@fans.example'); // verified, but asked for no reminder
    for (const fan of [...fans, unverified]) {
      assert.equal((await app.call('PUT', `/api/spaces/${id}/reminder`, { token: fan.token })).status, 200);
    }
    await round(); // the unverified fan's verification e-mail, nothing else
    const before = smtp.mails.length;
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await round();
    await round(); // a second round sends nothing again
    const reminders = smtp.mails.slice(before);
    assert.deepEqual(
      reminders.map((m) => m.subject),
      ['Live now: Launch night', 'Live now: Launch night'],
    );
    const to = reminders.map((m) => (Array.isArray(m.to) ? m.to[0] : m.to)!.text).sort();
    assert.deepEqual(to, ['a@fans.example', 'b@fans.example'], 'verified and reminded only');
    const mail = reminders[0]!;
    assert.ok(links(mail.text ?? '').includes(`https://amphi.example/s/${id}`), mail.text);
    const list = listHeader(mail);
    assert.equal(list['unsubscribe-post']?.name, 'List-Unsubscribe=One-Click');
    const unsubscribe = list.unsubscribe?.url ?? '';
    assert.match(unsubscribe, /^https:\/\/amphi\.example\/api\/email\/unsubscribe\?token=/);
    // RFC 8058 one-click, as a mail client does it: POST with the form body, no sign-in.
    const url = new URL(unsubscribe);
    const page = await app.app.inject({
      method: 'GET',
      url: url.pathname + url.search,
    });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post"/, 'a GET only shows the button (scanners follow links)');
    const who = reminders[0]!.to;
    const address = (Array.isArray(who) ? who[0] : who)!.text;
    const fan = address === 'a@fans.example' ? fans[0]! : fans[1]!;
    assert.equal((await app.call('GET', '/api/me/email', { token: fan.token })).json.email.remindersByEmail, true);
    const oneClick = await app.app.inject({
      method: 'POST',
      url: url.pathname + url.search,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    assert.equal(oneClick.statusCode, 200);
    assert.equal((await app.call('GET', '/api/me/email', { token: fan.token })).json.email.remindersByEmail, false);
    const counts = await app.plane.notifier!.counts();
    assert.equal(counts.pending, 0);
    assert.equal(counts.failed, 0, 'nothing was enqueued that should not have been (and then refused)');
  });

  test('a fan who unsubscribed gets no reminder; setting the address again turns reminders back on', async () => {
    const host = await app.signUp('notify_host_2');
    const fan = await verifiedFan('fan_unsub', 'u@fans.example');
    const first = await app.call('GET', '/api/me/email', { token: fan.token });
    assert.equal(first.json.email.remindersByEmail, true);
    const id = await schedule(host.token, 'Second night');
    await app.call('PUT', `/api/spaces/${id}/reminder`, { token: fan.token });
    // Unsubscribe through the link the next reminder would carry: here, a fresh one from a first Space.
    const warmup = await schedule(host.token, 'Warm-up');
    await app.call('PUT', `/api/spaces/${warmup}/reminder`, { token: fan.token });
    await app.call('POST', `/api/spaces/${warmup}/start`, { token: host.token });
    const before = smtp.mails.length;
    await round();
    const warm = smtp.mails.slice(before);
    assert.equal(warm.length, 1);
    const link = new URL(listHeader(warm[0]!).unsubscribe?.url ?? '');
    await app.app.inject({ method: 'POST', url: link.pathname + link.search, payload: '' });
    await app.call('POST', `/api/spaces/${warmup}/end`, { token: host.token });
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    const mark = smtp.mails.length;
    await round();
    assert.equal(smtp.mails.length, mark, 'unsubscribed: nothing sent');
  });

  test('a reminder still unsent when the Space ends is dropped: nobody is sent to an ended show', async () => {
    const host = await app.signUp('notify_host_3');
    const fan = await verifiedFan('fan_late', 'late@fans.example');
    const id = await schedule(host.token, 'Short show');
    await app.call('PUT', `/api/spaces/${id}/reminder`, { token: fan.token });
    const before = { mails: smtp.mails.length, counts: await app.plane.notifier!.counts() };
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await app.call('POST', `/api/spaces/${id}/end`, { token: host.token }); // before the notifier's round
    await round();
    assert.equal(smtp.mails.length, before.mails, 'no "Live now" for an ended Space');
    const after = await app.plane.notifier!.counts();
    assert.equal(after.failed - before.counts.failed, 1, 'the reminder was given up, not left pending');
  });

  test("webhooks: the host's space.live and space.ended, signed, retried with backoff, each delivered once", async () => {
    const host = await app.signUp('hook_host');
    const made = await app.call('POST', '/api/me/webhooks', { token: host.token, body: { url: hookUrl } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const secret = made.json.webhook.secret as string;
    assert.match(secret, /^whsec_/);
    const listed = await app.call('GET', '/api/me/webhooks', { token: host.token });
    assert.equal(listed.json.webhooks.length, 1);
    assert.equal(listed.json.webhooks[0].secret, undefined, 'the secret is shown once');
    const id = await schedule(host.token, 'Hooked');
    got.hooks.length = 0;
    got.answers.push(500, 503); // the receiver is down twice
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await round();
    assert.equal(got.hooks.length, 1, 'first try');
    await round();
    assert.equal(got.hooks.length, 1, 'not before the backoff');
    app.clock.advance(10_000);
    await round();
    assert.equal(got.hooks.length, 2, 'after 10 s');
    app.clock.advance(10_000);
    await round();
    assert.equal(got.hooks.length, 2, 'the backoff doubled: not after 10 s more');
    app.clock.advance(10_000);
    await round();
    assert.equal(got.hooks.length, 3, 'after 20 s');
    app.clock.advance(60_000);
    await round();
    assert.equal(got.hooks.length, 3, 'delivered: never again');
    const ids = new Set(got.hooks.map((h) => h.headers['webhook-id']));
    assert.equal(ids.size, 1, 'one webhook-id on every retry: the receiver can drop repeats');
    // The reference implementation checks the signature (at the test clock's time: it checks freshness too).
    mock.timers.enable({ apis: ['Date'], now: app.clock.now() });
    try {
      const last = got.hooks.at(-1)!;
      const event = new Webhook(secret).verify(last.body, last.headers as Record<string, string>) as {
        type: string;
        data: { id: string; state: string; url: string };
      };
      assert.equal(event.type, 'space.live');
      assert.equal(event.data.id, id);
      assert.equal(event.data.url, `https://amphi.example/s/${id}`);
      assert.throws(() =>
        new Webhook(secret).verify(last.body.replace('Hooked', 'Hacked'), last.headers as Record<string, string>),
      );
    } finally {
      mock.timers.reset();
    }
    await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    await round();
    const ended = JSON.parse(got.hooks.at(-1)!.body) as { type: string; data: { url: string } };
    assert.equal(ended.type, 'space.ended');
    assert.equal(ended.data.url, `https://amphi.example/r/${id}`);
  });

  test('a webhook that keeps failing is given up after maxAttempts; 410 Gone at once', async () => {
    const host = await app.signUp('hook_gone');
    await app.call('POST', '/api/me/webhooks', { token: host.token, body: { url: hookUrl } });
    const id = await schedule(host.token, 'Failing');
    got.hooks.length = 0;
    got.answers.push(500, 500, 500, 500);
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    for (let i = 0; i < 6; i++) {
      await round();
      app.clock.advance(3_600_000);
    }
    assert.equal(got.hooks.length, 3, 'maxAttempts = 3');
    got.answers.length = 0;
    got.answers.push(410);
    await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    await round();
    app.clock.advance(3_600_000);
    await round();
    assert.equal(got.hooks.length, 4, '410: not retried');
  });

  test("push: a reminded fan's browser receives one message, VAPID-signed, that decrypts to the title and link", async () => {
    const host = await app.signUp('push_host');
    const fan = await app.signUp('push_fan');
    // A browser's subscription, made as a browser makes one: a P-256 key pair and a 16-byte auth secret.
    const browser = createECDH('prime256v1');
    browser.generateKeys();
    const authSecret = randomBytes(16);
    const endpoint = `${pushBase}/push/${randomBytes(8).toString('hex')}`;
    const key = await app.call('GET', '/api/push/key');
    assert.equal(Buffer.from(key.json.publicKey as string, 'base64url').length, 65, 'a P-256 public key');
    const subscribed = await app.call('POST', '/api/me/push-subscriptions', {
      token: fan.token,
      body: {
        endpoint,
        expirationTime: null,
        keys: { p256dh: browser.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') },
      },
    });
    assert.equal(subscribed.status, 201, JSON.stringify(subscribed.json));
    const id = await schedule(host.token, 'Pushed live');
    await app.call('PUT', `/api/spaces/${id}/reminder`, { token: fan.token });
    push.pushes.length = 0;
    const before = await app.plane.notifier!.counts();
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await round();
    await round();
    assert.equal(push.pushes.length, 1, 'exactly once');
    const after = await app.plane.notifier!.counts();
    assert.deepEqual([after.sent - before.sent, after.failed - before.failed], [1, 0], 'one delivery, to this browser only');
    const sent = push.pushes[0]!;
    assert.equal(sent.url, new URL(endpoint).pathname);
    assert.equal(sent.headers['content-encoding'], 'aes128gcm');
    assert.ok(Number(sent.headers.ttl) > 0);
    assert.match(String(sent.headers.topic), /^[A-Za-z0-9_-]{1,32}$/);
    // VAPID (RFC 8292): a JWT for the push service's origin, signed with the key the browser subscribed with.
    const [, jwt, k] = /^vapid t=([^,]+), k=(.+)$/.exec(String(sent.headers.authorization)) ?? [];
    assert.equal(k, key.json.publicKey);
    const [header, claims, signature] = jwt!.split('.') as [string, string, string];
    const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', ...xy(Buffer.from(k!, 'base64url')) }, format: 'jwk' });
    assert.ok(
      verify(
        'sha256',
        Buffer.from(`${header}.${claims}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      ),
    );
    assert.equal(JSON.parse(Buffer.from(claims, 'base64url').toString()).aud, pushBase);
    // The payload, decrypted with the browser's private key (RFC 8291, by the http_ece library).
    const message = JSON.parse(ece.decrypt(sent.body, { version: 'aes128gcm', privateKey: browser, authSecret }).toString()) as {
      title: string;
      body: string;
      url: string;
    };
    assert.deepEqual(message, {
      title: 'Live now: Pushed live',
      body: '@push_host is live on Amphi',
      url: `https://amphi.example/s/${id}`,
    });
  });

  test('push: a subscription the push service says is gone (410) is dropped, not retried', async () => {
    const host = await app.signUp('push_host_2');
    const fan = await app.signUp('push_fan_2');
    const browser = createECDH('prime256v1');
    browser.generateKeys();
    const endpoint = `${pushBase}/push/gone-${randomBytes(4).toString('hex')}`;
    const keys = { p256dh: browser.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
    await app.call('POST', '/api/me/push-subscriptions', { token: fan.token, body: { endpoint, keys } });
    const id = await schedule(host.token, 'Gone');
    await app.call('PUT', `/api/spaces/${id}/reminder`, { token: fan.token });
    push.pushes.length = 0;
    push.answers.push(410);
    const before = await app.plane.notifier!.counts();
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await round();
    app.clock.advance(3_600_000);
    await round();
    assert.equal(push.pushes.length, 1);
    const after = await app.plane.notifier!.counts();
    assert.equal(after.failed - before.failed, 1, "one delivery (to this fan's browser, not another's), given up");
    const again = await app.call('POST', '/api/me/push-subscriptions', {
      token: fan.token,
      body: { endpoint: `${pushBase}/push/other`, keys },
    });
    assert.equal(again.json.subscriptions, 1, 'the gone one was removed');
  });

  test('verification e-mails are limited per account: nobody can use the server to mail someone over and over', async () => {
    const who = await app.signUp('notify_flip');
    const set = (email: string) => app.call('PUT', '/api/me/email', { token: who.token, body: { email } });
    for (let i = 0; i < 5; i++) assert.equal((await set(`flip${i % 2}@example.org`)).status, 200);
    const refused = await set('flip-more@example.org');
    assert.equal(refused.status, 429);
    assert.equal(refused.json.error.code, 'RATE_LIMITED');
    assert.equal(refused.headers['retry-after'], '720');
    assert.equal((await set('flip0@example.org')).status, 200, 'the current address again sends nothing, so it is not limited');
    app.clock.advance(720_000);
    assert.equal((await set('flip-more@example.org')).status, 200, 'one more after 12 minutes');
  });

  test('starting soon: notify.remindBeforeMinutes before the start, once per person and channel; then "Live now"', async () => {
    const host = await app.signUp('soon_host');
    const fan = await verifiedFan('soon_fan', 'soon@fans.example');
    const browser = createECDH('prime256v1');
    browser.generateKeys();
    const authSecret = randomBytes(16);
    const endpoint = `${pushBase}/push/soon-${randomBytes(4).toString('hex')}`;
    const keys = { p256dh: browser.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') };
    assert.equal(
      (await app.call('POST', '/api/me/push-subscriptions', { token: fan.token, body: { endpoint, keys } })).status,
      201,
    );
    const id = await schedule(host.token, 'Doors at seven'); // starts in an hour
    const startsAt = app.clock.now() + 3_600_000;
    await app.call('PUT', `/api/spaces/${id}/reminder`, { token: fan.token });
    const mine = () => smtp.mails.filter((m) => (m.subject ?? '').endsWith(': Doors at seven'));
    const pushes = () =>
      push.pushes
        .filter((p) => p.url === new URL(endpoint).pathname)
        .map(
          (p) =>
            JSON.parse(ece.decrypt(p.body, { version: 'aes128gcm', privateKey: browser, authSecret }).toString()) as {
              title: string;
            },
        );
    app.clock.advance(49 * 60_000 + 31_000); // 10 min 29 s before the start: not yet (the sweep runs every 30 s)
    await round();
    assert.equal(mine().length, 0, 'nothing more than 10 minutes before');
    app.clock.advance(60_000); // 9 min 29 s before
    await round();
    app.clock.advance(31_000);
    await round(); // a second sweep inside the window adds nothing
    assert.deepEqual(
      mine().map((m) => m.subject),
      ['Starting soon: Doors at seven'],
    );
    const text = mine()[0]!.text ?? '';
    assert.ok(text.includes(new Date(startsAt).toISOString().slice(11, 16)), text);
    assert.ok(links(text).includes(`https://amphi.example/s/${id}`), text);
    assert.deepEqual(
      pushes().map((m) => m.title),
      ['Starting soon: Doors at seven'],
    );
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await round();
    app.clock.advance(31_000);
    await round();
    assert.deepEqual(
      mine().map((m) => m.subject),
      ['Starting soon: Doors at seven', 'Live now: Doors at seven'],
    );
    assert.deepEqual(
      pushes().map((m) => m.title),
      ['Starting soon: Doors at seven', 'Live now: Doors at seven'],
    );
  });

  test('a moved start: the "soon" reminder for the old start is given up, the new start gets its own', async () => {
    const host = await app.signUp('moved_host');
    const fan = await verifiedFan('moved_fan', 'moved@fans.example');
    const id = await schedule(host.token, 'Moved night'); // in an hour
    await app.call('PUT', `/api/spaces/${id}/reminder`, { token: fan.token });
    const mine = () => smtp.mails.filter((m) => m.subject === 'Starting soon: Moved night');
    const before = await app.plane.notifier!.counts();
    await app.plane.notifier!.spaceEvent(id, 'space.soon'); // as a sweep near the old start would
    const later = new Date(app.clock.now() + 90 * 60_000).toISOString();
    assert.equal(
      (await app.call('PATCH', `/api/spaces/${id}`, { token: host.token, body: { scheduledStart: later } })).status,
      200,
    );
    app.clock.advance(31_000);
    await round();
    assert.equal(mine().length, 0, 'nothing for the start that no longer is');
    const after = await app.plane.notifier!.counts();
    assert.equal(after.failed - before.failed, 1, 'the old reminder was given up, not left pending');
    app.clock.advance(81 * 60_000); // 9 minutes before the new start
    await round();
    assert.equal(mine().length, 1, 'one for the new start');
    assert.ok((mine()[0]!.text ?? '').includes(later.slice(11, 16)), mine()[0]!.text);
  });

  test('bad input: clear 4xx codes', async () => {
    const who = await app.signUp('notify_bad');
    const bad = async (method: string, url: string, body?: unknown) =>
      (await app.call(method, url, { token: who.token, body })).json.error?.code as string | undefined;
    assert.equal(await bad('PUT', '/api/me/email', { email: 'not an address' }), 'VALIDATION_FAILED');
    assert.equal(await bad('POST', '/api/me/webhooks', { url: 'ftp://example.org/x' }), 'WEBHOOK_URL_REFUSED');
    assert.equal(await bad('POST', '/api/me/webhooks', { url: 'https://user:pw@example.org/x' }), 'WEBHOOK_URL_REFUSED');
    assert.equal(await bad('DELETE', '/api/me/webhooks/wh_AAAAAAAAAAAA'), 'WEBHOOK_NOT_FOUND');
    for (let i = 0; i < 5; i++)
      await app.call('POST', '/api/me/webhooks', { token: who.token, body: { url: `${hookUrl}/${i}` } });
    assert.equal(await bad('POST', '/api/me/webhooks', { url: hookUrl }), 'WEBHOOK_LIMIT');
    const forged = await app.call('GET', '/api/email/verify?token=abc.def');
    assert.equal(forged.status, 400);
    assert.equal(forged.json.error.code, 'EMAIL_LINK_INVALID');
    assert.equal((await app.call('GET', '/api/me/email')).status, 401);
    const keys = { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: randomBytes(16).toString('base64url') };
    assert.equal(
      await bad('POST', '/api/me/push-subscriptions', { endpoint: 'https://push.example/x', keys: { ...keys, auth: 'short' } }),
      'PUSH_SUBSCRIPTION_REFUSED',
    );
    assert.equal(
      await bad('POST', '/api/me/push-subscriptions', { endpoint: 'https://push.example/x', keys: { ...keys, p256dh: 'AAAA' } }),
      'PUSH_SUBSCRIPTION_REFUSED',
    );
    assert.equal(
      await bad('POST', '/api/me/push-subscriptions', { endpoint: 'mailto:x@example.org', keys }),
      'PUSH_SUBSCRIPTION_REFUSED',
    );
    assert.equal(await bad('POST', '/api/me/push-subscriptions', { endpoint: 'https://push.example/x' }), 'VALIDATION_FAILED');
  });
});

describe('notifications without SMTP or with private webhooks refused', () => {
  test('an address is refused when no SMTP server is configured; a loopback webhook by default', async () => {
    const app = await makeTestApp();
    try {
      const who = await app.signUp('no_smtp');
      const set = await app.call('PUT', '/api/me/email', { token: who.token, body: { email: 'x@example.org' } });
      assert.equal(set.status, 409);
      assert.equal(set.json.error.code, 'EMAIL_NOT_CONFIGURED');
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://localhost/x',
        'http://[::1]/x',
        'http://10.1.2.3/x',
        'http://169.254.169.254/latest',
      ]) {
        const r = await app.call('POST', '/api/me/webhooks', { token: who.token, body: { url } });
        assert.equal(r.json.error?.code, 'WEBHOOK_URL_REFUSED', url);
      }
    } finally {
      await app.close();
    }
  });
});
