import { Type } from 'typebox';
import type { Profile, ReportRecord } from '../../storage/community-store.ts';
import { AuditPage, AuditQuery, auditView, paged } from './moderation-routes.ts';
import { BinaryBody, errors, Id, NoContent } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { iso } from './views.ts';

const strict = { additionalProperties: false } as const;
const HandleParams = Type.Object({ handle: Type.String({ minLength: 1, maxLength: 40 }) }, strict);
const Visible = (max: number) =>
  Type.Union([
    Type.String({ maxLength: max, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$', description: 'No control characters' }),
    Type.Null(),
  ]);
const Paging = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 0 })),
  },
  strict,
);

const ProfileView = Type.Object({
  id: Type.String(),
  handle: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  bio: Type.Union([Type.String(), Type.Null()]),
  avatarUrl: Type.Union([Type.String(), Type.Null()], { description: 'null: no picture (show initials)' }),
  joinedAt: Type.String({ format: 'date-time' }),
  followers: Type.Integer(),
  following: Type.Boolean({ description: 'Whether the caller follows them (false when signed out)' }),
  admin: Type.Boolean(),
});
const ReportReason = Type.Union(
  ['spam', 'harassment', 'hate', 'violence', 'sexual', 'illegal', 'impersonation', 'other'].map((r) => Type.Literal(r)),
);
const Decision = Type.Union([
  Type.Literal('dismiss'),
  Type.Literal('remove_replay'),
  Type.Literal('end_space'),
  Type.Literal('suspend_account'),
]);
const ReportView = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  spaceId: Type.Union([Type.String(), Type.Null()]),
  subject: Type.Object({ id: Type.String(), handle: Type.String() }),
  reason: Type.String(),
  details: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  status: Type.String(),
  decision: Type.Union([Type.String(), Type.Null()]),
  statement: Type.Union([Type.String(), Type.Null()], { description: 'The statement of reasons for the decision' }),
  decidedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

function profileView(p: Profile, follow: { following: boolean; followers: number }) {
  const avatarUrl = p.avatarVersion === 0 ? null : `/api/users/${encodeURIComponent(p.handle)}/avatar?v=${p.avatarVersion}`;
  return {
    id: p.accountId,
    handle: p.handle,
    displayName: p.displayName,
    bio: p.bio,
    avatarUrl,
    joinedAt: iso(p.createdAt),
    ...follow,
    admin: p.admin,
  };
}

/** What the reporter and the reported see of a report: never who reported (the reporter sees it is theirs). */
function reportView(r: ReportRecord) {
  return {
    id: r.id,
    kind: r.kind,
    spaceId: r.spaceId,
    subject: { id: r.subjectId, handle: r.subjectHandle ?? '' },
    reason: r.reason,
    details: r.details,
    createdAt: iso(r.createdAt),
    status: r.status,
    decision: r.decision,
    statement: r.statement,
    decidedAt: iso(r.decidedAt),
  };
}

/** Profiles and pictures, following hosts, reports, notices (statements of reasons) and the operators' queue. */
// eslint-disable-next-line max-lines-per-function -- a declarative route table: one schema and a short handler per route
export function communityRoutes(app: App, { plane, auth, config }: RouteContext): void {
  const community = plane.community;

  app.get(
    '/api/users/:handle',
    {
      schema: {
        operationId: 'getProfile',
        tags: ['people'],
        summary: "A person's public profile: name, bio, picture, followers (and whether the caller follows them)",
        params: HandleParams,
        response: { 200: Type.Object({ user: ProfileView }), ...errors(400, 404) },
      },
    },
    async (request) => {
      const actor = await auth.optional(request);
      const p = await community.profile(request.params.handle);
      return { user: profileView(p, await community.following(actor, p.accountId)) };
    },
  );

  app.get(
    '/api/users/:handle/avatar',
    {
      schema: {
        operationId: 'getAvatar',
        tags: ['people'],
        summary: "A person's picture (PNG, JPEG or WebP); 404 AVATAR_NOT_FOUND when they have none",
        params: HandleParams,
        querystring: Type.Object({ v: Type.Optional(Type.Integer({ minimum: 0 })) }, strict),
        response: { 200: { description: 'The image', content: { 'image/*': { schema: BinaryBody } } }, ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const a = await community.avatar(request.params.handle);
      // A versioned URL never changes; the bare one may.
      const maxAge = request.query.v === a.version ? 'public, max-age=31536000, immutable' : 'public, max-age=60';
      return reply
        .type(a.type)
        .header('cache-control', maxAge)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'")
        .send(a.data);
    },
  );

  app.patch(
    '/api/me/profile',
    {
      schema: {
        operationId: 'updateProfile',
        tags: ['people'],
        summary: 'Change your display name and bio (null or empty removes one)',
        body: Type.Object(
          { displayName: Type.Optional(Visible(50)), bio: Type.Optional(Visible(300)) },
          { ...strict, minProperties: 1 },
        ),
        response: { 200: Type.Object({ user: ProfileView }), ...errors(400, 401) },
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      const p = await community.updateProfile(actor, request.body);
      return { user: profileView(p, await community.following(actor, p.accountId)) };
    },
  );

  app.put(
    '/api/me/avatar',
    {
      // Base64 grows 4/3; a little room for the JSON around it.
      bodyLimit: Math.ceil((config.spaces.avatarMaxBytes * 4) / 3) + 1024,
      schema: {
        operationId: 'setAvatar',
        tags: ['people'],
        summary: `Set your picture: a PNG, JPEG or WebP image up to ${config.spaces.avatarMaxBytes} bytes, as base64 with its type (415 AVATAR_REFUSED otherwise)`,
        body: Type.Object(
          {
            contentType: Type.String({ maxLength: 40, description: 'image/png, image/jpeg or image/webp' }),
            data: Type.String({
              maxLength: Math.ceil((config.spaces.avatarMaxBytes * 4) / 3) + 4,
              pattern: '^[A-Za-z0-9+/]*={0,2}$',
            }),
          },
          strict,
        ),
        response: { 200: Type.Object({ user: ProfileView }), ...errors(400, 401, 413, 415) },
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      const p = await community.setAvatar(actor, Buffer.from(request.body.data, 'base64'), request.body.contentType);
      return { user: profileView(p, await community.following(actor, p.accountId)) };
    },
  );

  app.delete(
    '/api/me/avatar',
    {
      schema: {
        operationId: 'removeAvatar',
        tags: ['people'],
        summary: 'Remove your picture',
        response: { 204: NoContent, ...errors(401) },
      },
    },
    async (request, reply) => {
      await community.setAvatar(await auth.required(request), null, undefined);
      return reply.code(204).send(null);
    },
  );

  for (const [method, on] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    app[method](
      '/api/users/:handle/follow',
      {
        schema: {
          operationId: on ? 'followUser' : 'unfollowUser',
          tags: ['people'],
          summary: on
            ? 'Follow a host: a reminder for each Space they have scheduled and schedule later (idempotent)'
            : 'Stop following (reminders already set stay; cancel them one by one)',
          params: HandleParams,
          response: { 200: Type.Object({ following: Type.Boolean(), followers: Type.Integer() }), ...errors(400, 401, 404) },
        },
      },
      async (request) => community.follow(await auth.required(request), request.params.handle, on),
    );
  }

  app.post(
    '/api/reports',
    {
      schema: {
        operationId: 'createReport',
        tags: ['reports'],
        summary:
          'Report a Space, its replay, or a user to the operators, with a reason (signed in; rate-limited per account). The decision and its statement of reasons reach both sides through GET /api/me/notices',
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal('space'), Type.Literal('replay'), Type.Literal('user')]),
            spaceId: Type.Optional(Id),
            accountId: Type.Optional(Id),
            reason: ReportReason,
            details: Type.Optional(Type.String({ maxLength: 1000, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$' })),
          },
          strict,
        ),
        response: { 201: Type.Object({ report: ReportView }), ...errors(400, 401, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const report = await community.report(await auth.required(request), request.body);
      return reply.code(201).send({ report: reportView(report) });
    },
  );

  app.get(
    '/api/me/notices',
    {
      schema: {
        operationId: 'listMyNotices',
        tags: ['reports'],
        summary:
          'Decisions about you with their statements of reasons (a removed replay, an ended Space, a suspension), and the outcome of reports you made',
        querystring: Paging,
        response: {
          200: Type.Object({ statements: Type.Array(ReportView), myReports: Type.Array(ReportView) }),
          ...errors(400, 401),
        },
      },
    },
    async (request) => {
      const { limit = 50, offset = 0 } = request.query;
      const n = await community.notices(await auth.required(request), { limit, offset });
      return { statements: n.statements.map(reportView), myReports: n.myReports.map(reportView) };
    },
  );

  app.get(
    '/api/admin/reports',
    {
      schema: {
        operationId: 'listReports',
        tags: ['admin'],
        summary: 'The report queue (operators): open reports oldest first, or decided ones newest first',
        querystring: Type.Object(
          { ...Paging.properties, status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('decided')])) },
          strict,
        ),
        response: {
          200: Type.Object({
            reports: Type.Array(
              Type.Object({ ...ReportView.properties, reporter: Type.Object({ id: Type.String(), handle: Type.String() }) }),
            ),
            nextOffset: Type.Union([Type.Integer(), Type.Null()]),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { limit = 50, offset = 0, status = 'open' } = request.query;
      const rows = await community.reports(await auth.required(request), { limit: limit + 1, offset, status });
      const { page, nextOffset } = paged(rows, limit, offset, (r) => ({
        ...reportView(r),
        reporter: { id: r.reporterId, handle: r.reporterHandle ?? '' },
      }));
      return { reports: page, nextOffset };
    },
  );

  app.post(
    '/api/admin/reports/:id/decision',
    {
      schema: {
        operationId: 'decideReport',
        tags: ['admin'],
        summary:
          'Decide a report (operators): dismiss, remove the replay, end the Space or suspend the account, with the statement of reasons the reported party reads',
        params: Type.Object({ id: Id }, strict),
        body: Type.Object({ decision: Decision, statement: Type.String({ minLength: 1, maxLength: 2000 }) }, strict),
        response: { 200: Type.Object({ report: ReportView }), ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      const { decision, statement } = request.body;
      return { report: reportView(await community.decide(actor, request.params.id, decision, statement)) };
    },
  );

  app.get(
    '/api/admin/audit',
    {
      schema: {
        operationId: 'getAdminAudit',
        tags: ['admin'],
        summary: 'The operator-wide audit log (operators): every act on every Space and account, newest first',
        querystring: AuditQuery,
        response: { 200: AuditPage, ...errors(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit = 50, offset = 0 } = request.query;
      const rows = await community.operatorAudit(await auth.required(request), { limit: limit + 1, offset });
      const { page, nextOffset } = paged(rows, limit, offset, auditView);
      return { entries: page, nextOffset };
    },
  );
}
