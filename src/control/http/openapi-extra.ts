import type { Config } from '../../config/schema.ts';

/**
 * The parts of the OpenAPI document that no control route describes: the operator's endpoints
 * (`/livez`, `/readyz`, `/healthz`, `/metrics`, mounted by the role with `schema.hide`), the listener
 * URLs the edge answers before any framework sees them (`edge/http.ts`), and WHIP on the stage's own
 * listener (`stage/http.ts`). Static path items, merged into the generated document by `api.ts`; a
 * path item on another listener names it in its own `servers`.
 */

type Json = Record<string, unknown>;

const error = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const SPACE_ID = { type: 'string', pattern: '^sp_[A-Za-z0-9_-]{12}$' };
const SESSION_ID = { type: 'string', pattern: '^ss_[A-Za-z0-9_-]{12}$' };

const spaceParam = (description: string): Json => ({
  name: 'spaceId',
  in: 'path',
  required: true,
  description,
  schema: SPACE_ID,
});

/** What each readiness component says: `ok`, or not and why. */
const ComponentStatus = {
  type: 'object',
  required: ['ok'],
  properties: {
    ok: { type: 'boolean' },
    reason: { type: 'string', description: 'Why it is not ready (absent when ok)' },
  },
};

const Readiness = {
  type: 'object',
  required: ['status', 'components'],
  properties: {
    status: { type: 'string', enum: ['ready', 'unready'] },
    components: {
      type: 'object',
      description:
        'One entry per component this role runs: storage (database), media (recording writes), stage (listening), admission (not shedding joins), bucket, keys, fleet, origin (an edge reaching its origin)',
      additionalProperties: ComponentStatus,
    },
  },
};

function operationsPaths(): Json {
  return {
    '/livez': {
      get: {
        operationId: 'getLiveness',
        tags: ['operations'],
        summary:
          "Liveness: the process's event loop answers. Always 200 while it runs; restart the process when it stops answering",
        security: [],
        responses: {
          200: {
            description: 'Alive',
            content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'alive' } } } } },
          },
        },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Readiness: every component of this role, each with its status; take the node out of rotation while 503',
        security: [],
        responses: {
          200: { description: 'Every component is ready', content: { 'application/json': { schema: Readiness } } },
          503: {
            description: 'At least one component is not; `components` names it and why',
            content: { 'application/json': { schema: Readiness } },
          },
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary:
          'The original health check, kept for existing probes: 503 only when the database is unreachable; a failing part that still lets listeners be served (media storage, the bucket) is 200 with status degraded. /readyz is stricter',
        security: [],
        responses: {
          200: {
            description: 'Serving: `status` ok, or degraded with `failing` naming each part and its reason',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['status'],
                  properties: {
                    status: { type: 'string', enum: ['ok', 'degraded'] },
                    failing: { type: 'object', additionalProperties: { type: 'object' } },
                  },
                  additionalProperties: true,
                },
              },
            },
          },
          503: {
            description: 'The database is unreachable',
            content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'degraded' } } } } },
          },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary:
          'Prometheus metrics (text exposition format 0.0.4), only for the addresses in server.metricsAllowFrom (default loopback)',
        security: [],
        responses: {
          200: {
            description: 'Every amphi_* series of this process; see docs/observability.md',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          403: error('METRICS_FORBIDDEN: the client address is not in server.metricsAllowFrom'),
        },
      },
    },
  };
}

const listenerParams = [
  {
    name: 'token',
    in: 'path',
    required: true,
    description: 'The listener token from POST /api/spaces/{id}/join',
    schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{10,4096}$' },
  },
  spaceParam('The Space the token was issued for'),
];

const listenerRefusals = {
  400: error('VALIDATION_FAILED: a malformed path or query'),
  403: error('LISTENER_TOKEN_INVALID: expired, revoked, or for another Space: join again'),
  429: error('RATE_LIMITED: too many requests from this address or token; honour Retry-After'),
};

const blockingQuery = [
  {
    name: '_HLS_msn',
    in: 'query',
    description: 'LL-HLS blocking reload: answer once this media sequence number exists',
    schema: { type: 'integer', minimum: 0, maximum: 1e9 },
  },
  {
    name: '_HLS_part',
    in: 'query',
    description: 'With _HLS_msn: once this part of it exists',
    schema: { type: 'integer', minimum: 0, maximum: 1000 },
  },
  { name: '_HLS_skip', in: 'query', description: 'Delta update (EXT-X-SKIP)', schema: { type: 'string', enum: ['YES', 'v2'] } },
];

const listenerGet = (operationId: string, summary: string, type: string, query: Json[] = []): Json => ({
  get: {
    operationId,
    tags: ['listener media'],
    summary,
    security: [],
    parameters: query,
    responses: {
      200: { description: summary, content: { [type]: { schema: { type: 'string', format: 'binary' } } } },
      ...listenerRefusals,
      404: error('SPACE_NOT_FOUND or the file is not (or no longer) there'),
    },
  },
});

function listenerPaths(edgeUrl: string): Json {
  const common = {
    servers: [
      {
        url: edgeUrl,
        description: 'An edge: the join answer names it in playlistUrl and streamUrl (cluster mode: one per edge)',
      },
    ],
    parameters: listenerParams,
  };
  const playlist = 'application/vnd.apple.mpegurl';
  return {
    '/l/{token}/{spaceId}/index.m3u8': {
      ...common,
      ...listenerGet('getMultivariantPlaylist', 'The LL-HLS multivariant playlist (playlistUrl): one audio rendition', playlist),
    },
    '/l/{token}/{spaceId}/media.m3u8': {
      ...common,
      ...listenerGet(
        'getMediaPlaylist',
        'The live media playlist: a sliding window of segments with their parts, with blocking reload',
        playlist,
        blockingQuery,
      ),
    },
    '/l/{token}/{spaceId}/dvr.m3u8': {
      ...common,
      ...listenerGet(
        'getDvrPlaylist',
        'The media playlist from the start of the Space (DVR), with blocking reload',
        playlist,
        blockingQuery,
      ),
    },
    '/l/{token}/{spaceId}/init.mp4': {
      ...common,
      ...listenerGet('getInitSegment', 'The CMAF initialisation segment (Opus in fragmented MP4)', 'audio/mp4'),
    },
    '/l/{token}/{spaceId}/{media}': {
      ...common,
      parameters: [
        ...listenerParams,
        {
          name: 'media',
          in: 'path',
          required: true,
          description: 'A segment `s<msn>.m4s` or a part `p<msn>.<index>.m4s`, as the media playlist lists them',
          schema: { type: 'string', pattern: '^(s\\d{1,9}|p\\d{1,9}\\.\\d{1,3})\\.m4s$' },
        },
      ],
      ...listenerGet('getMediaSegment', 'A segment or a part (CMAF fragment); immutable once written', 'audio/mp4'),
    },
    '/l/{token}/{spaceId}/live.mp4': {
      ...common,
      ...listenerGet(
        'getLiveStream',
        'The program as one held fragmented-MP4 response (streamUrl: MSE, ffmpeg, VLC); it ends when the token expires. 429 TOO_MANY_STREAMS past the streams per listener or address',
        'audio/mp4',
      ),
    },
  };
}

const stageToken = [{ stageToken: [] }];
const sdp = (description: string): Json => ({ description, content: { 'application/sdp': { schema: { type: 'string' } } } });
const header = (description: string): Json => ({ description, schema: { type: 'string' } });

function whipPaths(servers: Json[]): Json {
  const sessionParams = [
    spaceParam('The Space'),
    { name: 'sessionId', in: 'path', required: true, description: 'From the Location of the POST', schema: SESSION_ID },
  ];
  return {
    '/whip/{spaceId}': {
      servers,
      parameters: [spaceParam('The Space whose stage to publish to')],
      post: {
        operationId: 'whipPublish',
        tags: ['whip'],
        summary: 'Publish a microphone (WHIP, RFC 9725): an SDP offer with Opus audio in, the SDP answer out',
        security: stageToken,
        requestBody: { required: true, ...sdp('The SDP offer') },
        responses: {
          201: {
            ...sdp('The SDP answer'),
            headers: {
              Location: header('The session resource: /whip/{spaceId}/sessions/{sessionId}'),
              ETag: header('The ICE session; send it as If-Match on PATCH'),
              Link: header('TURN servers to use (rel="ice-server"), when configured'),
            },
          },
          400: error('WHIP_SDP_INVALID or WHIP_CODEC_UNSUPPORTED'),
          401: error('STAGE_TOKEN_INVALID: ask POST /api/spaces/{id}/stage for a new one'),
          409: error('SPACE_NOT_LIVE or STAGE_FULL'),
          415: error('UNSUPPORTED_MEDIA_TYPE: send Content-Type: application/sdp'),
          429: error('RATE_LIMITED'),
          503: error('STAGE_BUSY: the stage is at its session limit; honour Retry-After'),
        },
      },
      options: {
        operationId: 'whipOptions',
        tags: ['whip'],
        summary: 'CORS preflight; with a stage token, the TURN servers to use (RFC 9725 §4.6) before the offer',
        security: [...stageToken, {}],
        responses: {
          204: {
            description: 'No content',
            headers: { Link: header('TURN servers (rel="ice-server"), when configured and a token was sent') },
          },
          404: error('ROUTE_NOT_FOUND'),
        },
      },
    },
    '/whip/{spaceId}/sessions/{sessionId}': {
      servers,
      parameters: sessionParams,
      patch: {
        operationId: 'whipTrickle',
        tags: ['whip'],
        summary: 'Trickle ICE candidates or restart ICE (application/trickle-ice-sdpfrag)',
        security: stageToken,
        parameters: [
          {
            name: 'If-Match',
            in: 'header',
            required: true,
            description: 'The ETag of the latest answer, or *',
            schema: { type: 'string' },
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/trickle-ice-sdpfrag': { schema: { type: 'string' } } },
        },
        responses: {
          204: { description: 'Taken', headers: { ETag: header('The ICE session (new after an ICE restart)') } },
          401: error('STAGE_TOKEN_INVALID'),
          404: error('WHIP_SESSION_NOT_FOUND'),
          412: error('WHIP_ETAG_MISMATCH: If-Match names another ICE session'),
          415: error('UNSUPPORTED_MEDIA_TYPE'),
          429: error('RATE_LIMITED'),
        },
      },
      delete: {
        operationId: 'whipUnpublish',
        tags: ['whip'],
        summary: 'Stop publishing: the session ends and the speaker leaves the mix',
        security: stageToken,
        responses: {
          200: { description: 'Ended' },
          401: error('STAGE_TOKEN_INVALID'),
          404: error('WHIP_SESSION_NOT_FOUND'),
        },
      },
    },
  };
}

/** Every tag of the document, with a section description, in the order readers meet them. */
export const TAGS = [
  { name: 'accounts', description: 'Sign up, sign in, the signed-in account' },
  { name: 'spaces', description: 'Create, list, start and end Spaces; replays, chapters, clips, calendars and feeds' },
  { name: 'listening', description: 'Joining as a listener: the door, the waiting room, reactions' },
  { name: 'stage', description: 'Who speaks: requests, invitations, mute, co-hosts, the pinned link; the stage credential' },
  { name: 'moderation', description: 'Removals, bans, blocks, hand-over, audit log, audience and analytics' },
  { name: 'people', description: 'Profiles, pictures, following' },
  { name: 'notifications', description: 'Reminders by e-mail, web push and webhooks' },
  { name: 'reports', description: 'Reports to the operators and their decisions' },
  { name: 'admin', description: "The operators' report queue and audit log" },
  {
    name: 'listener media',
    description: 'What players fetch from an edge with a listener token: LL-HLS playlists, parts, segments, the held stream',
  },
  { name: 'whip', description: "Publishing a microphone to the stage (WHIP, RFC 9725), on the stage's own listener" },
  { name: 'operations', description: 'Liveness, readiness, health and Prometheus metrics, for operators and orchestrators' },
];

/** Where this server is reached, for the document's `servers` (relative when no public URL is set). */
export function documentServers(config: Readonly<Config>): { url: string; description: string }[] {
  const url = config.server.publicUrl;
  return [url === null ? { url: '/', description: 'This server' } : { url, description: 'This server (server.publicUrl)' }];
}

/** The stage's own listener: its public URL, or the API's host on the stage's port. */
function stageServers(config: Readonly<Config>): Json[] {
  const description = "The stage's own listener (stage.publicUrl); the stage credential's whipUrl names it";
  if (config.stage.publicUrl !== null) return [{ url: config.stage.publicUrl, description }];
  const host = config.server.publicUrl === null ? config.server.host : new URL(config.server.publicUrl).hostname;
  return [
    {
      url: 'http://{host}:{port}',
      description,
      variables: {
        host: { default: host, description: "The API's host" },
        port: { default: String(config.stage.port), description: 'stage.port' },
      },
    },
  ];
}

/** The static path items, the security scheme of WHIP, the tag sections. */
export function openApiExtra(config: Readonly<Config>): { paths: Json; securitySchemes: Json } {
  const api = config.server.publicUrl ?? '/';
  const edgeUrl = config.edge.publicUrl ?? api;
  return {
    paths: { ...operationsPaths(), ...listenerPaths(edgeUrl), ...whipPaths(stageServers(config)) },
    securitySchemes: {
      stageToken: { type: 'http', scheme: 'bearer', description: 'Stage token from POST /api/spaces/{id}/stage' },
    },
  };
}
