import { Type } from 'typebox';
import type { AuditView } from '../../storage/community-store.ts';
import { AccountBody, errors, Id, NoContent, SpaceEnvelope, SpaceParams } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { iso, spaceEnvelope } from './views.ts';

const strict = { additionalProperties: false } as const;
const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 0 })),
};
const NextOffset = Type.Union([Type.Integer(), Type.Null()]);
/** A removed subject: an account id, or an anonymous listener's `an_…`. */
const BanParams = Type.Object({ id: Id, subject: Id }, strict);
const BlockParams = Type.Object({ accountId: Id }, strict);

export const AuditEntry = Type.Object({
  id: Type.String(),
  spaceId: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: 'date-time' }),
  actor: Type.Object({ id: Type.String(), handle: Type.String() }),
  action: Type.String({ description: 'start, end, mute, unmute, remove, unban, invite, pin, handover, block, report_…' }),
  target: Type.Union([Type.Object({ id: Type.String(), handle: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
});
export const AuditPage = Type.Object({ entries: Type.Array(AuditEntry), nextOffset: NextOffset });
export const AuditQuery = Type.Object(Paging, strict);

export function auditView(e: AuditView) {
  return {
    id: e.id,
    spaceId: e.spaceId,
    at: iso(e.at),
    actor: { id: e.actorId, handle: e.actorHandle },
    action: e.action,
    target: e.targetId === null ? null : { id: e.targetId, handle: e.targetHandle },
    detail: e.detail,
  };
}

/** A page of `limit` from `limit + 1` rows read, and where the next starts. */
export function paged<T, V>(rows: readonly T[], limit: number, offset: number, view: (row: T) => V) {
  return { page: rows.slice(0, limit).map(view), nextOffset: rows.length > limit ? offset + limit : null };
}

const MinuteRow = Type.Object({
  minute: Type.String({ format: 'date-time' }),
  joins: Type.Integer(),
  queued: Type.Integer(),
  fromLine: Type.Integer(),
  maxWaitMs: Type.Integer(),
  replayPlays: Type.Integer(),
  reactions: Type.Integer(),
  peakListeners: Type.Integer(),
});
const Analytics = Type.Object({
  peakListeners: Type.Integer(),
  uniqueListeners: Type.Object({ accounts: Type.Integer(), anonymous: Type.Integer() }),
  joins: Type.Integer(),
  waitingRoom: Type.Object({
    waited: Type.Integer({ description: 'Places in line handed out' }),
    admitted: Type.Integer({ description: 'Of those, how many got in' }),
    left: Type.Integer({ description: 'Waited and never got in (left, or still waiting)' }),
    longestWaitMs: Type.Integer(),
  }),
  replayPlays: Type.Integer(),
  reactions: Type.Integer(),
  minutes: Type.Array(MinuteRow, { description: 'The join curve: one row per minute with any activity' }),
});
const AudienceMember = Type.Object({
  id: Type.String(),
  handle: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  removed: Type.Boolean(),
});

/** Moderation: handover, unban, host-level blocks, the audience, the audit log and analytics of a Space. */
// eslint-disable-next-line max-lines-per-function -- a declarative route table: one schema and a short handler per route
export function moderationRoutes(app: App, { plane, auth, live }: RouteContext): void {
  const spaceResponse = (...statuses: number[]) => ({ 200: SpaceEnvelope, ...errors(...statuses) });

  app.post(
    '/api/spaces/:id/handover',
    {
      schema: {
        operationId: 'handOver',
        tags: ['moderation'],
        summary: 'Hand the Space over to a co-host (host only): they become the host, you a co-host',
        params: SpaceParams,
        body: AccountBody,
        response: spaceResponse(400, 401, 403, 404, 409),
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      return spaceEnvelope(await plane.moderation.handover(actor, request.params.id, request.body.accountId), live);
    },
  );

  app.delete(
    '/api/spaces/:id/bans/:subject',
    {
      schema: {
        operationId: 'liftBan',
        tags: ['moderation'],
        summary: 'Lift a removal (host or co-host): the person (or anonymous listener) may join again',
        params: BanParams,
        response: spaceResponse(400, 401, 403, 404),
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      return spaceEnvelope(await plane.moderation.unban(actor, request.params.id, request.params.subject), live);
    },
  );

  app.get(
    '/api/spaces/:id/audience',
    {
      schema: {
        operationId: 'listAudience',
        tags: ['moderation'],
        summary:
          'Who listened (host and co-hosts): signed-in listeners by name, most recent first, searchable (q); anonymous listeners as a count',
        params: SpaceParams,
        querystring: Type.Object({ ...Paging, q: Type.Optional(Type.String({ maxLength: 40 })) }, strict),
        response: {
          200: Type.Object({
            listeners: Type.Array(AudienceMember),
            accounts: Type.Integer(),
            anonymous: Type.Integer(),
            nextOffset: NextOffset,
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      const { limit = 50, offset = 0, q } = request.query;
      const a = await plane.moderation.audience(actor, request.params.id, { limit: limit + 1, offset, q });
      const banned = new Set(a.banned);
      const { page, nextOffset } = paged(a.members, limit, offset, (m) => ({
        id: m.accountId,
        handle: m.handle,
        displayName: m.displayName,
        firstSeen: iso(m.firstAt),
        lastSeen: iso(m.lastAt),
        removed: banned.has(m.accountId),
      }));
      return { listeners: page, ...a.counts, nextOffset };
    },
  );

  app.get(
    '/api/spaces/:id/audit',
    {
      schema: {
        operationId: 'getSpaceAudit',
        tags: ['moderation'],
        summary:
          'The audit log of the Space (host and co-hosts): who muted, removed, invited, pinned, ended, and when; newest first',
        params: SpaceParams,
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      const { limit = 50, offset = 0 } = request.query;
      const rows = await plane.moderation.audit(actor, request.params.id, { limit: limit + 1, offset });
      const { page, nextOffset } = paged(rows, limit, offset, auditView);
      return { entries: page, nextOffset };
    },
  );

  app.get(
    '/api/spaces/:id/analytics',
    {
      schema: {
        operationId: 'getSpaceAnalytics',
        tags: ['moderation'],
        summary:
          'How the Space went (host and co-hosts): peak and unique listeners, the join curve, the waiting room, replay plays, reactions. Counted every 5 s',
        params: SpaceParams,
        response: { 200: Analytics, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const a = await plane.moderation.analytics(await auth.required(request), request.params.id);
      return { ...a, minutes: a.minutes.map((m) => ({ ...m, spaceId: undefined, minute: iso(m.minute) })) };
    },
  );

  app.get(
    '/api/me/blocks',
    {
      schema: {
        operationId: 'listBlocks',
        tags: ['moderation'],
        summary: 'The people you blocked from all your Spaces',
        response: {
          200: Type.Object({
            blocks: Type.Array(
              Type.Object({ id: Type.String(), handle: Type.String(), since: Type.String({ format: 'date-time' }) }),
            ),
          }),
          ...errors(401),
        },
      },
    },
    async (request) => {
      const blocks = await plane.moderation.listBlocks(await auth.required(request));
      return { blocks: blocks.map((b) => ({ id: b.accountId, handle: b.handle, since: iso(b.createdAt) })) };
    },
  );

  for (const [method, on] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    app[method](
      '/api/me/blocks/:accountId',
      {
        schema: {
          operationId: on ? 'blockAccount' : 'unblockAccount',
          tags: ['moderation'],
          summary: on
            ? 'Block someone from all your Spaces, now and later (removed from those not ended; idempotent)'
            : 'Lift a block',
          params: BlockParams,
          response: { 204: NoContent, ...errors(400, 401, 404, 409) },
        },
      },
      async (request, reply) => {
        const actor = await auth.required(request);
        if (on) await plane.moderation.block(actor, request.params.accountId);
        else await plane.moderation.unblock(actor, request.params.accountId);
        return reply.code(204).send(null);
      },
    );
  }
}
