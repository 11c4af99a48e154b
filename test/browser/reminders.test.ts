/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../helpers/browser.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually, realTime } from '../helpers/eventually.ts';
import {
  browserSubscription,
  startPushService,
  startSmtp,
  type PushService,
  type SmtpReceiver,
} from '../helpers/notify-receivers.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { optionalSuite, skipUnless } from '../helpers/skip.ts';
import { signUp } from '../helpers/web-app.ts';

/**
 * Reminders as a listener sets them, in Debian's Chromium, reaching a real SMTP server and a push
 * service on loopback: the fan verifies an address from the settings page (the link in the e-mail),
 * registers a Web Push subscription (made by the test with real P-256 keys, as a browser registers
 * one: no push service is reachable here), presses "Remind me" on the Space's page; the host goes
 * live; one e-mail and one push message arrive, the push decrypting to the Space's title and link.
 */
const built = existsSync(new URL('../../web/dist/index.html', import.meta.url));
const skip = skipUnless({
  available: existsSync(CHROMIUM) && built,
  env: 'AMPHI_TEST_BROWSER',
  suite: 'reminders in Chromium',
  install: 'chromium and build the web app (npm test builds it)',
});

optionalSuite('reminders in Chromium', { skip, timeout: 180_000 }, () => {
  const cleanup = new Cleanup();
  let smtp: SmtpReceiver;
  let push: PushService;
  let server: LiveServer;
  let browser: Browser;
  before(
    async () => {
      smtp = cleanup.use('smtp', await startSmtp(), (s) => s.close());
      push = cleanup.use('push service', await startPushService(), (p) => p.close());
      server = cleanup.use(
        'server',
        await startLiveServer({ notify: { smtpUrl: smtp.url, allowPrivateAddresses: true, pollMs: 200 } }),
        (s) => s.shutdown(),
      );
      browser = cleanup.use('chromium', await launchChromium(), (b) => b.close());
    },
    { timeout: 60_000 },
  );
  after(() => cleanup.run(), { timeout: 60_000 });

  test('a reminder set in the page reaches the fan by e-mail and Web Push, each exactly once', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    try {
      await signUp(page, server.url, 'bell_fan');
      await page.goto(`${server.url}/settings`);
      await page.getByLabel('E-mail address').fill('fan@fans.example');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const verification = await eventually('the verification e-mail', () =>
        smtp.mails.find((m) => m.subject?.startsWith('Confirm')),
      );
      const link = /https?:\/\/\S+\/api\/email\/verify\?token=\S+/.exec(verification.text ?? '')?.[0];
      assert.ok(link !== undefined, verification.text);
      await page.goto(link);
      await page.waitForURL(/email=verified/);

      const subscription = browserSubscription(`${push.base}/push/bell-fan`);
      const registered = await page.evaluate(
        async (body) =>
          (await fetch('/api/me/push-subscriptions', { method: 'POST', headers: { 'content-type': 'application/json' }, body }))
            .status,
        JSON.stringify({ endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys }),
      );
      assert.equal(registered, 201);

      const host = await server.signUp('bell_host');
      const made = await server.api('POST', '/api/spaces', host.token, { title: 'Bell night' });
      const spaceId = made.json.space.id as string;
      await page.goto(`${server.url}/s/${spaceId}`);
      await page.getByRole('button', { name: 'Remind me' }).click();
      await page.getByRole('button', { name: /Reminder set/ }).waitFor();

      assert.equal((await server.api('POST', `/api/spaces/${spaceId}/start`, host.token)).status, 200);
      const reminders = () => smtp.mails.filter((m) => m.subject === 'Live now: Bell night');
      await eventually('the e-mail and the push', () => reminders().length > 0 && push.pushes.length > 0, { timeoutMs: 15_000 });
      await realTime(1500, 'several more notifier rounds: nothing is sent twice');
      assert.equal(reminders().length, 1, 'one e-mail');
      assert.equal(push.pushes.length, 1, 'one push message');
      assert.match(reminders()[0]!.text ?? '', new RegExp(`/s/${spaceId}`));
      const message = subscription.decrypt(push.pushes[0]!.body) as { title: string; url: string };
      assert.equal(message.title, 'Live now: Bell night');
      assert.match(message.url, new RegExp(`/s/${spaceId}$`));
    } finally {
      await page.close();
    }
  });
});
