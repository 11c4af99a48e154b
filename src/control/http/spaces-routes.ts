import { createHash, randomBytes } from 'node:crypto';
import type { SpaceSnapshot } from '../snapshots.ts';
import {
  CreateSpace,
  NoContent,
  errors,
  JoinBody,
  ListenerGrant,
  ListSpacesQuery,
  LineStatus,
  MyRelation,
  reactionBody,
  SpaceEnvelope,
  SpaceParams,
  StageGrant,
  WaitingTicket,
} from './schemas.ts';
import { AmphiError } from '../../errors.ts';
import type { App, RouteContext } from './types.ts';
import { Type } from 'typebox';
import { iso, spaceEnvelope, spaceView } from './views.ts';

/** Spaces: create, list, read, start, end; joining as a listener; stage credentials; reactions; reminders. */
export function spaceRoutes(app: App, { plane, auth, config, metrics, live, admission }: RouteContext): void {
  const view = (snap: SpaceSnapshot) => spaceView(snap, live);
  const envelope = (snap: SpaceSnapshot) => spaceEnvelope(snap, live);
  const spaceResponse = (...statuses: number[]) => ({ 200: SpaceEnvelope, ...errors(...statuses) });

  app.post(
    '/api/spaces',
    {
      schema: {
        tags: ['spaces'],
        summary: 'Create a Space; the caller becomes its host. It starts scheduled; POST .../start makes it live',
        body: CreateSpace,
        response: { 201: SpaceEnvelope, ...errors(400, 401) },
      },
    },
    async (request, reply) => {
      const actor = await auth.required(request);
      const { title, scheduledStart, allowAnonymous } = request.body;
      const snap = await plane.spaces.create(actor, {
        title,
        scheduledStart: scheduledStart === undefined ? undefined : Date.parse(scheduledStart),
        allowAnonymous,
      });
      return reply.code(201).send(envelope(snap));
    },
  );

  app.get(
    '/api/spaces',
    {
      schema: {
        tags: ['spaces'],
        summary: 'List Spaces: live (newest first), scheduled (soonest first) or ended (latest first)',
        querystring: ListSpacesQuery,
        response: {
          200: Type.Object({ spaces: Type.Array(Type.Ref('Space')), nextOffset: Type.Union([Type.Integer(), Type.Null()]) }),
          ...errors(400),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const offset = request.query.offset ?? 0;
      const snaps = await plane.spaces.list({ state: request.query.state, limit: limit + 1, offset });
      return {
        spaces: snaps.slice(0, limit).map(view),
        nextOffset: snaps.length > limit ? offset + limit : null,
      };
    },
  );

  app.get(
    '/api/spaces/:id',
    {
      schema: {
        tags: ['spaces'],
        summary: 'A Space, public and identical for every caller; cacheable for one second',
        params: SpaceParams,
        response: { 200: SpaceEnvelope, 304: NoContent, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const body = envelope(await plane.spaces.snapshot(request.params.id));
      const etag = `"${createHash('sha1').update(JSON.stringify(body)).digest('base64url').slice(0, 16)}"`;
      void reply.header('cache-control', 'public, max-age=1').header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
      return body;
    },
  );

  const lifecycle = (action: 'start' | 'end', summary: string) =>
    app.post(
      `/api/spaces/:id/${action}`,
      { schema: { tags: ['spaces'], summary, params: SpaceParams, response: spaceResponse(400, 401, 403, 404, 409) } },
      async (request) => envelope(await plane.spaces[action](await auth.required(request), request.params.id)),
    );
  lifecycle('start', 'Go live (host only). Idempotent: starting a live Space returns it unchanged');
  lifecycle('end', 'End the Space (host only). Idempotent');

  app.get(
    '/api/spaces/:id/me',
    {
      schema: {
        tags: ['spaces'],
        summary: "The caller's relation to the Space: role, mute, pending request, invitation, reminder",
        params: SpaceParams,
        response: { 200: MyRelation, ...errors(400, 401, 404) },
      },
    },
    async (request) => plane.spaces.relation(await auth.required(request), request.params.id),
  );

  app.post(
    '/api/spaces/:id/join',
    {
      schema: {
        tags: ['listening'],
        summary:
          'Join as a listener: a short-lived signed token and the stream and playlist URLs (200), or, past capacity, a place in line (202: a signed ticket, position, ETA). Poll lineUrl and send {ticket} once nowServing reaches your number. Under attack, anonymous joins first get 428 POW_REQUIRED with a challenge to solve. Send {token} to renew (never queued). Writes nothing.',
        params: SpaceParams,
        body: Type.Optional(JoinBody),
        response: { 200: ListenerGrant, 202: WaitingTicket, ...errors(400, 401, 403, 404, 409, 428, 429) },
      },
    },
    async (request, reply) => {
      const actor = await auth.optional(request);
      const body = request.body ?? {};
      const spaceId = request.params.id;
      // Renewals are admitted listeners: never queued, never challenged (but paced per address).
      if (body.token !== undefined) admission.renewal(request.ip);
      else if (await plane.credentials.admissible(actor, spaceId)) {
        // Anonymous callers are known in line by a secret id they keep (never by the token they get),
        // made only when a ticket or challenge needs one: most joins are admitted at once.
        let client = actor === undefined ? body.client : undefined;
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
        if (decision.kind === 'wait') {
          const t = decision.ticket;
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
      const grant = await plane.credentials.join(actor, spaceId, body.token);
      metrics.tokensIssued.inc({ kind: 'listener' });
      return { token: grant.token, playlistUrl: grant.playlistUrl, streamUrl: grant.streamUrl, expiresAt: iso(grant.expiresAt) };
    },
  );

  app.get(
    '/api/spaces/:id/line',
    {
      schema: {
        tags: ['listening'],
        summary:
          "The waiting room's now-serving value: one small document, the same for everyone, cacheable for a second. Exchange your ticket once nowServing >= your number.",
        params: SpaceParams,
        response: { 200: LineStatus, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      await plane.spaces.snapshot(request.params.id); // 404 for a Space that does not exist
      void reply.header('cache-control', 'public, max-age=1');
      return admission.line(request.params.id);
    },
  );

  app.post(
    '/api/spaces/:id/stage',
    {
      schema: {
        tags: ['stage'],
        summary: 'A WHIP URL and stage token for the host, co-hosts and speakers',
        params: SpaceParams,
        response: { 200: StageGrant, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const grant = await plane.credentials.stage(await auth.required(request), request.params.id);
      metrics.tokensIssued.inc({ kind: 'stage' });
      return { token: grant.token, whipUrl: grant.whipUrl, expiresAt: iso(grant.expiresAt) };
    },
  );

  app.post(
    '/api/spaces/:id/reactions',
    {
      schema: {
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
      if (admission.shedder.keepReaction())
        await plane.reactions.react(actor, request.params.id, request.body.emoji, admission.shedder.reactionSampleEvery);
      return reply.code(202).send(null);
    },
  );

  for (const [method, on] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    app[method](
      '/api/spaces/:id/reminder',
      {
        schema: {
          tags: ['spaces'],
          summary: on ? 'Remind me when this scheduled Space starts' : 'Cancel my reminder',
          params: SpaceParams,
          response: spaceResponse(400, 401, 403, 404, 409),
        },
      },
      async (request) => envelope(await plane.spaces.setReminder(await auth.required(request), request.params.id, on)),
    );
  }
}
