import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AmphiError } from '../../errors.ts';
import type { Notifications } from '../notify/service.ts';
import { errors, NoContent } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { iso } from './views.ts';

const strict = { additionalProperties: false } as const;
const Email = Type.String({ format: 'email', maxLength: 254, description: 'Where reminders go, once verified' });
const EmailSettings = Type.Object({
  email: Type.String(),
  verified: Type.Boolean({ description: 'The link sent to the address was followed; nothing else is sent before' }),
  remindersByEmail: Type.Boolean({
    description: 'Off once the unsubscribe link in a reminder was used; setting the address again turns it on',
  }),
});
const Webhook = Type.Object({ id: Type.String(), url: Type.String(), createdAt: Type.String({ format: 'date-time' }) });
const PushSubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 8, maxLength: 2000, description: "The push service's URL for this browser" }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    keys: Type.Object({ p256dh: Type.String({ maxLength: 200 }), auth: Type.String({ maxLength: 100 }) }, strict),
  },
  strict,
);
const LinkQuery = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }, strict);
const HTML = 'text/html; charset=utf-8';

/**
 * Notifications: the account's e-mail address for reminders (verified by a link), the links in
 * e-mails (verify; unsubscribe, RFC 8058 one-click), and hosts' webhooks (Standard Webhooks). The
 * sending is the notifier's (`control/notify/`).
 */
// eslint-disable-next-line max-lines-per-function -- a declarative route table: one schema and a short handler per route
export function notifyRoutes(app: App, { plane, auth }: RouteContext): void {
  const service = (): Notifications => {
    if (plane.notifications === undefined) throw new AmphiError('EMAIL_NOT_CONFIGURED');
    return plane.notifications;
  };

  app.get(
    '/api/me/email',
    {
      schema: {
        operationId: 'getMyEmail',
        tags: ['notifications'],
        summary: 'Where your reminders go: your e-mail address, whether it is verified, whether it takes reminders',
        response: { 200: Type.Object({ email: Type.Union([EmailSettings, Type.Null()]) }), ...errors(401) },
      },
    },
    async (request) => ({ email: await service().email(await auth.required(request)) }),
  );

  app.put(
    '/api/me/email',
    {
      schema: {
        operationId: 'setMyEmail',
        tags: ['notifications'],
        summary:
          'Set your e-mail address for reminders; a link to verify it is sent to it (409 EMAIL_NOT_CONFIGURED without SMTP)',
        body: Type.Object({ email: Email }, strict),
        response: { 200: Type.Object({ email: EmailSettings }), ...errors(400, 401, 409) },
      },
    },
    async (request) => ({ email: await service().setEmail(await auth.required(request), request.body.email.trim()) }),
  );

  app.delete(
    '/api/me/email',
    {
      schema: {
        operationId: 'removeMyEmail',
        tags: ['notifications'],
        summary: 'Forget your e-mail address',
        response: { 204: NoContent, ...errors(401) },
      },
    },
    async (request, reply) => {
      await service().removeEmail(await auth.required(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/email/verify',
    {
      schema: {
        operationId: 'verifyEmail',
        tags: ['notifications'],
        summary: 'The link in the verification e-mail: marks the address verified and goes to the home page',
        querystring: LinkQuery,
        response: { 303: NoContent, ...errors(400) },
      },
    },
    async (request, reply) => {
      await service().verify(request.query.token);
      return reply.code(303).header('location', '/?email=verified').send(null);
    },
  );

  // GET only shows a button (mail scanners follow links); the POST, the button's or a mail client's
  // one-click (RFC 8058: body List-Unsubscribe=One-Click), unsubscribes.
  app.get(
    '/api/email/unsubscribe',
    {
      schema: {
        operationId: 'getUnsubscribePage',
        tags: ['notifications'],
        summary: 'The unsubscribe link in a reminder: a page with one button that stops reminders by e-mail',
        querystring: LinkQuery,
        response: { 200: { description: 'An HTML page', content: { 'text/html': { schema: Type.String() } } }, ...errors(400) },
      },
    },
    async (request, reply) =>
      reply
        .type(HTML)
        .send(
          page(
            'Stop reminders by e-mail?',
            `<form method="post" action="/api/email/unsubscribe?token=${encodeURIComponent(request.query.token)}">` +
              `<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Stop reminders by e-mail</button></form>`,
          ),
        ),
  );

  // The one route that takes a form (the page's button, a mail client's one-click POST); its body is not read.
  void app.register((plugin, _options, registered) => {
    const scoped = plugin.withTypeProvider<TypeBoxTypeProvider>();
    scoped.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, _body, done) =>
      done(null),
    );
    scoped.post(
      '/api/email/unsubscribe',
      {
        schema: {
          operationId: 'unsubscribeEmail',
          tags: ['notifications'],
          summary: 'Stop reminders by e-mail to the address in the link (RFC 8058 one-click; no sign-in needed)',
          querystring: LinkQuery,
          response: { 200: { description: 'An HTML page', content: { 'text/html': { schema: Type.String() } } }, ...errors(400) },
        },
      },
      async (request, reply) => {
        await service().unsubscribe(request.query.token);
        return reply
          .type(HTML)
          .send(page('Done', '<p>No more reminders by e-mail will be sent to this address.</p><p><a href="/">Amphi</a></p>'));
      },
    );
    registered();
  });

  app.get(
    '/api/push/key',
    {
      schema: {
        operationId: 'getPushKey',
        tags: ['notifications'],
        summary: "The server's VAPID public key (base64url): the applicationServerKey a browser subscribes to push with",
        response: { 200: Type.Object({ publicKey: Type.String() }), ...errors(409) },
      },
    },
    async (_request, reply) => {
      const publicKey = await service().pushKey();
      return reply.header('cache-control', 'public, max-age=3600').send({ publicKey });
    },
  );

  app.post(
    '/api/me/push-subscriptions',
    {
      schema: {
        operationId: 'addPushSubscription',
        tags: ['notifications'],
        summary:
          "Keep this browser's push subscription (PushSubscription.toJSON()): your reminders reach it when a Space goes live",
        body: PushSubscriptionBody,
        response: {
          201: Type.Object({ subscriptions: Type.Integer({ description: 'How many browsers of yours are subscribed' }) }),
          ...errors(400, 401),
        },
      },
    },
    async (request, reply) => {
      const account = await auth.required(request);
      await service().addPushSubscription(account, request.body);
      return reply.code(201).send({ subscriptions: await service().pushSubscriptionCount(account) });
    },
  );

  app.delete(
    '/api/me/push-subscriptions',
    {
      schema: {
        operationId: 'removePushSubscription',
        tags: ['notifications'],
        summary: "Forget this browser's push subscription (by its endpoint)",
        body: Type.Object({ endpoint: Type.String({ minLength: 8, maxLength: 2000 }) }, strict),
        response: { 204: NoContent, ...errors(400, 401) },
      },
    },
    async (request, reply) => {
      await service().removePushSubscription(await auth.required(request), request.body.endpoint);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/me/webhooks',
    {
      schema: {
        operationId: 'listWebhooks',
        tags: ['notifications'],
        summary:
          'Your webhooks: each gets space.soon (notify.remindBeforeMinutes before a scheduled start), space.live and space.ended for the Spaces you host, signed (Standard Webhooks)',
        response: { 200: Type.Object({ webhooks: Type.Array(Webhook) }), ...errors(401) },
      },
    },
    async (request) => ({
      webhooks: (await service().webhooks(await auth.required(request))).map((w) => ({ ...w, createdAt: iso(w.createdAt) })),
    }),
  );

  app.post(
    '/api/me/webhooks',
    {
      schema: {
        operationId: 'addWebhook',
        tags: ['notifications'],
        summary: 'Add a webhook; the answer carries its signing secret, shown only this once',
        body: Type.Object(
          { url: Type.String({ minLength: 8, maxLength: 2000, description: 'http(s), on a public address' }) },
          strict,
        ),
        response: {
          201: Type.Object({
            webhook: Type.Object({
              ...Webhook.properties,
              secret: Type.String({ description: 'whsec_…: verify signatures with it' }),
            }),
          }),
          ...errors(400, 401, 409),
        },
      },
    },
    async (request, reply) => {
      const hook = await service().addWebhook(await auth.required(request), request.body.url);
      return reply.code(201).send({ webhook: { ...hook, createdAt: iso(hook.createdAt) } });
    },
  );

  app.delete(
    '/api/me/webhooks/:webhookId',
    {
      schema: {
        operationId: 'removeWebhook',
        tags: ['notifications'],
        summary: 'Remove a webhook (its pending calls are dropped)',
        params: Type.Object({ webhookId: Type.String({ pattern: '^wh_[A-Za-z0-9_-]{12}$' }) }, strict),
        response: { 204: NoContent, ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await service().removeWebhook(await auth.required(request), request.params.webhookId);
      return reply.code(204).send(null);
    },
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title} · Amphi</title><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem"><h1>${title}</h1>${body}</body></html>`;
}
