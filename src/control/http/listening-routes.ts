import { randomBytes } from 'node:crypto';
import { AmphiError } from '../../errors.ts';
import { errors, JoinBody, LineStatus, ListenerGrant, NoContent, reactionBody, SpaceParams, WaitingTicket } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { Type } from 'typebox';
import { iso } from './views.ts';

/** Listening: joining (a token, or a place in line), the waiting room's now-serving value, reactions. */
// eslint-disable-next-line max-lines-per-function -- a declarative route table: one schema and a short handler per route
export function listeningRoutes(app: App, { plane, auth, config, metrics, admission }: RouteContext): void {
  app.post(
    '/api/spaces/:id/join',
    {
      // The join is the busiest write and its body is small (a token, a ticket, a solution): capped
      // well under the server-wide limit (413 BODY_TOO_LARGE).
      bodyLimit: config.admission.limits.maxBodyBytes,
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
      const body = request.body ?? {};
      const spaceId = request.params.id;
      // Anonymous callers are known by a secret id they keep (never by the token they get): their
      // token's subject derives from it, and so does their place in line. The server makes one only
      // when a ticket or challenge needs it: a client that wants to renew sends its own.
      let client = actor === undefined ? body.client : undefined;
      let renewing: string | undefined, waitedMs: number | undefined;
      if (body.token !== undefined) {
        // Renewals are admitted listeners: never queued, never challenged (but paced per address),
        // proven by their caller, and counted against the cap when the edge does not see them listening.
        admission.renewal(request.ip);
        renewing = plane.credentials.renewalSubject(actor, spaceId, body.token, body.client);
        if (await plane.credentials.admissible(actor, spaceId)) admission.readmit(spaceId, renewing);
      } else if (await plane.credentials.admissible(actor, spaceId, client)) {
        const subject = () => actor?.id ?? `an:${(client ??= randomBytes(18).toString('base64url'))}`;
        let decision;
        try {
          decision = await admission.decide({
            spaceId,
            subject,
            signedIn: actor !== undefined,
            address: request.ip,
            ticket: body.ticket,
            pow: body.pow,
          });
        } catch (error) {
          if (error instanceof AmphiError && error.code === 'POW_REQUIRED' && client !== undefined)
            throw new AmphiError('POW_REQUIRED', { details: { ...(error.details as object), client } });
          throw error;
        }
        if (decision.kind === 'admit') waitedMs = decision.waitedMs;
        if (decision.kind === 'wait') {
          const t = decision.ticket;
          if (body.ticket === undefined) plane.analytics.queued(spaceId);
          return reply.code(202).send({
            ticket: t.ticket,
            number: t.number,
            position: t.position,
            etaSeconds: t.etaSeconds,
            nowServing: t.nowServing,
            lineUrl: `/api/spaces/${spaceId}/line`,
            ...(client === undefined ? {} : { client }),
          });
        }
      }
      const { subject, replay, ...grant } = await plane.credentials.join(actor, spaceId, { renewing, client });
      metrics.tokensIssued.inc({ kind: 'listener' });
      plane.analytics.joined(spaceId, subject, { renewal: renewing !== undefined, replay, waitedMs });
      return { ...grant, expiresAt: iso(grant.expiresAt), fallbacks: [...grant.fallbacks] };
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
