import { errors, JoinBody, LineStatus, ListenerGrant, NoContent, reactionBody, SpaceParams, WaitingTicket } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { Type } from 'typebox';
import { replayJoinBody } from './join-door.ts';
import { joiner } from './join.ts';

/** Listening: joining (a token, or a place in line), the waiting room's now-serving value, reactions. */
export function listeningRoutes(app: App, { plane, auth, config, metrics, admission }: RouteContext): void {
  const join = joiner({ plane, admission, metrics });
  app.post(
    '/api/spaces/:id/join',
    {
      // The join is the busiest write and its body is small (a token, a ticket, a solution): capped
      // well under the server-wide limit (413 BODY_TOO_LARGE).
      bodyLimit: config.admission.limits.maxBodyBytes,
      // Plain joins are answered before the framework (join-door.ts); a body it read and handed on
      // is read again here, so this route parses and validates exactly what the client sent.
      preParsing: (request, _reply, payload, done) => done(null, replayJoinBody(request, payload)),
      schema: {
        operationId: 'joinSpace',
        tags: ['listening'],
        summary:
          'Join as a listener: a short-lived signed token and the stream and playlist URLs (200), or, past capacity, a place in line (202: a signed ticket, position, ETA). Poll lineUrl and send {ticket} once nowServing reaches your number. Under attack, anonymous joins first get 428 POW_REQUIRED with a challenge to solve. Send {token} to renew (never queued), with {client} for an anonymous token: the secret client id it was joined with. Writes nothing.',
        params: SpaceParams,
        body: Type.Optional(JoinBody),
        response: { 200: ListenerGrant, 202: WaitingTicket, ...errors(400, 401, 403, 404, 409, 413, 428, 429) },
      },
    },
    async (request, reply) => {
      const actor = await auth.optional(request);
      const answer = await join({ actor, spaceId: request.params.id, body: request.body ?? {}, address: request.ip });
      return reply.code(answer.status).send(answer.body);
    },
  );

  app.get(
    '/api/spaces/:id/line',
    {
      schema: {
        operationId: 'getLine',
        tags: ['listening'],
        summary:
          "The waiting room's now-serving value: one small document, the same for everyone, cacheable for a second. Exchange your ticket once nowServing >= your number.",
        params: SpaceParams,
        response: { 200: LineStatus, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      await plane.spaces.snapshot(request.params.id); // 404 for a Space that does not exist
      void reply.header('cache-control', `public, max-age=${admission.lineMaxAgeSeconds}`);
      return admission.line(request.params.id);
    },
  );

  app.post(
    '/api/spaces/:id/reactions',
    {
      schema: {
        operationId: 'sendReaction',
        tags: ['listening'],
        summary: 'Send an emoji reaction (signed-in, live Spaces, rate-limited per account)',
        params: SpaceParams,
        body: reactionBody(config.spaces.reactionEmoji),
        response: { 202: NoContent, ...errors(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const actor = await auth.required(request);
      // Under overload reactions are sampled (the lowest priority): one in k is counted k times.
      if (admission.shedder.keepReaction()) {
        await plane.reactions.react(actor, request.params.id, request.body.emoji, admission.shedder.reactionSampleEvery);
        plane.analytics.reacted(request.params.id, admission.shedder.reactionSampleEvery);
      }
      return reply.code(202).send(null);
    },
  );
}
