import { createHash } from 'node:crypto';
import type { SpaceSnapshot } from '../snapshots.ts';
import {
  CreateSpace,
  NoContent,
  errors,
  ListSpacesQuery,
  MyRelation,
  SpaceEnvelope,
  SpaceParams,
  StageGrant,
  UpdateSpace,
} from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { Type } from 'typebox';
import { iso, spaceEnvelope, spaceView } from './views.ts';

/** Spaces: create, list, read, start, end; the caller's relation; stage credentials; reminders. */
// eslint-disable-next-line max-lines-per-function -- a declarative route table: one schema and a short handler per route
export function spaceRoutes(app: App, { plane, auth, metrics, live }: RouteContext): void {
  const view = (snap: SpaceSnapshot) => spaceView(snap, live);
  const envelope = (snap: SpaceSnapshot) => spaceEnvelope(snap, live);
  const spaceResponse = (...statuses: number[]) => ({ 200: SpaceEnvelope, ...errors(...statuses) });

  app.post(
    '/api/spaces',
    {
      schema: {
        operationId: 'createSpace',
        tags: ['spaces'],
        summary:
          'Create a Space; the caller becomes its host. It starts scheduled; POST .../start makes it live. Paced per account (429 SPACE_QUOTA_EXCEEDED)',
        body: CreateSpace,
        response: { 201: SpaceEnvelope, ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const actor = await auth.required(request);
      const { title, scheduledStart, allowAnonymous, tags } = request.body;
      const snap = await plane.spaces.create(actor, {
        title,
        scheduledStart: scheduledStart === undefined ? undefined : Date.parse(scheduledStart),
        allowAnonymous,
        tags,
      });
      return reply.code(201).send(envelope(snap));
    },
  );

  app.get(
    '/api/spaces',
    {
      schema: {
        operationId: 'listSpaces',
        tags: ['spaces'],
        summary:
          'List and search Spaces: live (newest first), scheduled (soonest first) or ended (latest first); by words (q), topic (tag) or host (a handle)',
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
      const { state, q, tag, host } = request.query;
      let hostId: string | undefined;
      if (host !== undefined) {
        hostId = (await plane.accounts.findByHandle(host))?.id;
        if (hostId === undefined) return { spaces: [], nextOffset: null };
      }
      const text = q?.trim() === '' ? undefined : q;
      const query = { state, text, tag: tag?.replace(/^#/, ''), hostId, limit: limit + 1, offset };
      const snaps = await plane.spaces.list(query);
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
        operationId: 'getSpace',
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

  app.patch(
    '/api/spaces/:id',
    {
      schema: {
        operationId: 'updateSpace',
        tags: ['spaces'],
        summary:
          'Change the settings of a Space: allowAnonymous (host or co-host; false locks out anonymous listeners), scheduledStart (host, before going live: a revised start), tags and cohostsMayEnd (host)',
        params: SpaceParams,
        body: UpdateSpace,
        response: spaceResponse(400, 401, 403, 404, 409),
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      const { allowAnonymous, scheduledStart, tags, cohostsMayEnd } = request.body;
      const id = request.params.id;
      if (tags !== undefined || cohostsMayEnd !== undefined) await plane.moderation.configure(actor, id, { tags, cohostsMayEnd });
      if (scheduledStart !== undefined) await plane.spaces.reschedule(actor, id, Date.parse(scheduledStart));
      if (allowAnonymous !== undefined) await plane.spaces.setAllowAnonymous(actor, id, allowAnonymous);
      return envelope(await plane.spaces.snapshot(id));
    },
  );

  const lifecycle = (action: 'start' | 'end', summary: string) =>
    app.post(
      `/api/spaces/:id/${action}`,
      {
        schema: {
          operationId: `${action}Space`,
          tags: ['spaces'],
          summary,
          params: SpaceParams,
          response: spaceResponse(400, 401, 403, 404, 409),
        },
      },
      async (request) => envelope(await plane.spaces[action](await auth.required(request), request.params.id)),
    );
  lifecycle(
    'start',
    'Go live (host only). Idempotent: starting a live Space returns it unchanged. 409 LIVE_SPACES_LIMIT past the live Spaces one account may host',
  );
  lifecycle('end', "End the Space (host; co-hosts too when the host's cohostsMayEnd is on). Idempotent");

  app.delete(
    '/api/spaces/:id/recording',
    {
      schema: {
        operationId: 'deleteRecording',
        tags: ['spaces'],
        summary:
          'Delete the replay of an ended Space for good (host only; idempotent): its recording, download and chapters go, the Space stays. Afterwards they answer 410 RECORDING_DELETED',
        params: SpaceParams,
        response: spaceResponse(400, 401, 403, 404, 409),
      },
    },
    async (request) => envelope(await plane.spaces.deleteReplay(await auth.required(request), request.params.id)),
  );

  app.get(
    '/api/spaces/:id/me',
    {
      schema: {
        operationId: 'getMyRelation',
        tags: ['spaces'],
        summary: "The caller's relation to the Space: role, mute, pending request, invitation, reminder",
        params: SpaceParams,
        response: { 200: MyRelation, ...errors(400, 401, 404) },
      },
    },
    async (request) => plane.spaces.relation(await auth.required(request), request.params.id),
  );

  app.post(
    '/api/spaces/:id/stage',
    {
      schema: {
        operationId: 'createStageCredential',
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

  for (const [method, on] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    app[method](
      '/api/spaces/:id/reminder',
      {
        schema: {
          operationId: on ? 'setReminder' : 'cancelReminder',
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
