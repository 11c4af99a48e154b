/**
 * Every error code the API can return, with its HTTP status and a message that tells the caller what
 * to do. `docs/errors.md` is generated from this list (`npm run docs:errors`) and a test keeps the
 * two identical. Responses always have the shape `{ "error": { "code", "message" } }`.
 */
export const errorCatalogue = {
  // 400: the request itself is wrong
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema; see details and fix the named field.' },
  EMAIL_LINK_INVALID: {
    status: 400,
    message:
      'This e-mail link is broken, expired or for an address the account no longer has (details.reason); ask for a new one.',
  },
  PUSH_SUBSCRIPTION_REFUSED: {
    status: 400,
    message:
      'This is not a push subscription Amphi can use: send PushSubscription.toJSON() (an https endpoint of a push service, keys.p256dh and keys.auth).',
  },
  WEBHOOK_URL_REFUSED: {
    status: 400,
    message:
      'Webhook URLs must be http(s) on a public address, not this machine or a private network (notify.allowPrivateAddresses).',
  },
  BAD_REQUEST: { status: 400, message: 'The request is malformed (URL, header or encoding); fix it and retry.' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON; send a JSON object.' },
  WHIP_SDP_INVALID: {
    status: 400,
    message: 'The body is not a usable SDP offer (see details); send the offer your WebRTC stack created.',
  },
  WHIP_CODEC_UNSUPPORTED: { status: 400, message: 'The offer has no Opus audio; the stage takes audio/opus 48 kHz only.' },
  HLS_REQUEST_TOO_FAR_AHEAD: {
    status: 400,
    message: 'The requested _HLS_msn is more than two segments past the live edge; reload the playlist.',
  },
  SCHEDULED_START_IN_PAST: {
    status: 400,
    message: 'scheduledStart must be in the future; omit it to start whenever the host is ready.',
  },
  // 401: who are you?
  AUTH_REQUIRED: { status: 401, message: 'Sign in first: send Authorization: Bearer <token> from POST /api/sessions.' },
  SESSION_INVALID: { status: 401, message: 'The session token is unknown or expired; sign in again with POST /api/sessions.' },
  INVALID_CREDENTIALS: { status: 401, message: 'Handle or password is wrong; check both and try again.' },
  LISTENER_TOKEN_INVALID: {
    status: 401,
    message:
      'The listener token is malformed, tampered, expired, revoked or for another Space; join again (POST /api/spaces/:id/join without a token) for a new one.',
  },
  STAGE_TOKEN_INVALID: {
    status: 401,
    message: 'Publishing needs Authorization: Bearer <stage token> for this Space from POST /api/spaces/:id/stage.',
  },
  EDGE_CREDENTIAL_INVALID: {
    status: 401,
    message: 'The origin serves edges only: send an edge credential signed with the shared key.',
  },
  // 403: we know who you are, and you may not
  HOST_ONLY: { status: 403, message: 'Only the host of this Space can do this.' },
  MODERATOR_ONLY: { status: 403, message: 'Only the host or a co-host of this Space can do this.' },
  ADMIN_ONLY: {
    status: 403,
    message: "Only an operator (admin) can do this; an operator grants the role with 'amphi admin grant <handle>'.",
  },
  ACCOUNT_SUSPENDED: {
    status: 403,
    message:
      'This account is suspended; the statement of reasons was sent with the decision (GET /api/me/notices while signed in before).',
  },
  SPEAKER_ONLY: {
    status: 403,
    message: 'Only the host, co-hosts and speakers of this Space can do this; request to speak first.',
  },
  OUTRANKED: { status: 403, message: 'You cannot do this to someone whose role is equal to or above yours.' },
  CANNOT_UNMUTE_OTHERS: { status: 403, message: 'Only speakers can unmute themselves; ask them to unmute.' },
  REMOVED_FROM_SPACE: { status: 403, message: 'You were removed from this Space and cannot rejoin it.' },
  CROSS_SITE_REQUEST: {
    status: 403,
    message:
      'A cookie-authenticated write must come from this site (Origin / Sec-Fetch-Site); use the web app or send Authorization: Bearer.',
  },
  METRICS_FORBIDDEN: { status: 403, message: 'Metrics are served only to the addresses in server.metricsAllowFrom.' },
  TICKET_INVALID: {
    status: 403,
    message:
      'The waiting-room ticket is tampered, expired, for another Space or not yours (details.reason); join again without it for a new ticket.',
  },
  POW_INVALID: {
    status: 403,
    message:
      'The proof of work is wrong, expired, already used or not for this Space and client (details.reason); join again for a new challenge.',
  },
  // 404: no such thing
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route; see /api/openapi.json for the API.' },
  SPACE_NOT_FOUND: { status: 404, message: 'No Space has this id; check the link.' },
  ACCOUNT_NOT_FOUND: { status: 404, message: 'No account has this id.' },
  USER_NOT_FOUND: { status: 404, message: 'No one has this handle; check the spelling.' },
  AVATAR_NOT_FOUND: { status: 404, message: 'This person has no picture; show their initials.' },
  BAN_NOT_FOUND: {
    status: 404,
    message: 'This person is not removed from this Space (a host-level block is lifted from the host’s blocks).',
  },
  BLOCK_NOT_FOUND: { status: 404, message: 'You have not blocked this person.' },
  REPORT_NOT_FOUND: { status: 404, message: 'No report has this id.' },
  REQUEST_NOT_FOUND: { status: 404, message: 'This person has no pending request to speak.' },
  WHIP_SESSION_NOT_FOUND: {
    status: 404,
    message: 'No such stage session; it ended or was never created. Publish again with POST to the WHIP URL.',
  },
  HLS_OBJECT_NOT_FOUND: {
    status: 404,
    message: 'No such playlist, part or segment (parts expire a few segments behind the live edge); reload the playlist.',
  },
  INVITATION_NOT_FOUND: { status: 404, message: 'You have no pending invitation to speak in this Space.' },
  WEBHOOK_NOT_FOUND: { status: 404, message: 'You have no webhook with this id; list yours with GET /api/me/webhooks.' },
  // 409: conflicts with the current state
  HANDLE_TAKEN: { status: 409, message: 'This handle is taken; choose another.' },
  HANDLE_RESERVED: { status: 409, message: 'This handle is reserved for the service itself; choose another.' },
  LIVE_SPACES_LIMIT: {
    status: 409,
    message: 'You already host as many live Spaces as one account may (spaces.maxLivePerAccount); end one first.',
  },
  SPACE_NOT_LIVE: { status: 409, message: 'The Space is not live yet; wait for the host to start it.' },
  SPACE_ENDED: { status: 409, message: 'The Space has ended; listen to the replay instead.' },
  ALREADY_ON_STAGE: { status: 409, message: 'This person is already on stage.' },
  NOT_ON_STAGE: { status: 409, message: 'This person is not on stage.' },
  NOT_A_COHOST: { status: 409, message: 'This person is not a co-host.' },
  REQUEST_ALREADY_PENDING: { status: 409, message: 'A request to speak is already pending; wait for the host or cancel it.' },
  STAGE_FULL: { status: 409, message: 'The stage has the maximum number of speakers; move someone to the audience first.' },
  COHOSTS_FULL: { status: 409, message: 'The Space has the maximum number of co-hosts; unmake one first.' },
  TARGET_IS_HOST: {
    status: 409,
    message: 'The host cannot leave the stage, be removed or made co-host; end the Space instead.',
  },
  SPACE_NOT_SCHEDULED: {
    status: 409,
    message: 'Only a scheduled Space takes this (a reminder, a revised start); this one is live or ended.',
  },
  EMAIL_NOT_CONFIGURED: {
    status: 409,
    message: 'This server sends no e-mail (no SMTP server is configured: notify.smtpUrl); use the calendar or a webhook instead.',
  },
  WEBHOOK_LIMIT: { status: 409, message: 'You have as many webhooks as one account may (5); remove one first.' },
  TARGET_REMOVED: { status: 409, message: 'This person was removed from the Space.' },
  NOT_A_COHOST_TARGET: { status: 409, message: 'Hand the Space over to one of its co-hosts; make this person a co-host first.' },
  REPORT_DECIDED: { status: 409, message: 'This report has been decided already; see its decision.' },
  REPORT_TARGET_INVALID: {
    status: 409,
    message: 'Nothing to report there: a replay report needs an ended Space with a replay, and you cannot report yourself.',
  },
  DECISION_NOT_APPLICABLE: {
    status: 409,
    message: 'This decision does not fit the report (e.g. removing the replay of a report about a user); choose another.',
  },
  CANNOT_BLOCK_SELF: { status: 409, message: 'You cannot block yourself.' },
  AVATAR_REFUSED: {
    status: 415,
    message:
      'A picture must be a PNG, JPEG or WebP image (its bytes, with its Content-Type) no bigger than profiles.avatarMaxBytes.',
  },
  CLIP_RANGE_INVALID: {
    status: 400,
    message:
      'A clip is 5 to 60 seconds of what has been recorded: start and end (or last) within the recording (details.recordedSeconds says how much there is).',
  },
  CLIP_NOT_FOUND: { status: 404, message: 'No such clip (or its replay was deleted).' },
  RECORDING_DELETED: {
    status: 410,
    message: 'The host deleted the replay of this Space: its recording, chapters and clips are gone for good.',
  },
  TRANSCRIPT_NOT_FOUND: {
    status: 404,
    message:
      'This replay has no transcript: captions were never on while it was live (a transcript is made from the live captions). Captions of a Space that is still live are in its room state.',
  },
  RECORDING_NOT_AVAILABLE: {
    status: 409,
    message:
      'This Space has no recording to download: it has not ended yet, or nothing was recorded. Download it once the Space has ended and space.replay.available is true.',
  },
  TICKET_NOT_YET: {
    status: 409,
    message:
      'Your number has not come up yet (details: position, etaSeconds); keep polling now-serving and exchange the ticket when it has.',
  },
  // 412, 413, 415, 416, 428, 429
  WHIP_ETAG_MISMATCH: {
    status: 412,
    message:
      'If-Match does not name this WHIP session’s ICE session (its ETag changes with an ICE restart); send the ETag of the latest answer, or *.',
  },
  BODY_TOO_LARGE: { status: 413, message: 'The body is too large; send less than the documented limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json.' },
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    message:
      'The Range header is malformed or starts past the end of the file (Content-Range: bytes */<size> gives the size); ask for one range inside it, or omit Range for the whole file.',
  },
  POW_REQUIRED: {
    status: 428,
    message:
      'Joining needs a proof of work right now: solve details.challenge (details.difficultyBits leading zero bits) and join again with it and the solution.',
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests; wait for the Retry-After seconds and try again.' },
  SPACE_QUOTA_EXCEEDED: {
    status: 429,
    message: 'This account created too many Spaces recently (spaces.createPerAccount); retry after the Retry-After seconds.',
  },
  TOO_MANY_STREAMS: {
    status: 429,
    message: 'Too many streams open on this token or from this address; close one (each player needs one stream).',
  },
  // 5xx: our fault
  INTERNAL: { status: 500, message: 'Something failed on our side; it was logged. Try again shortly.' },
  HLS_NOT_YET_AVAILABLE: {
    status: 503,
    message: 'The requested part did not appear in time (the Space may be stalled); retry after Retry-After.',
  },
  CAPTIONS_UNAVAILABLE: {
    status: 503,
    message: 'Live captions are not available on this server (captions.enabled is false, or no speech recogniser is installed).',
  },
  CAPTIONS_BUSY: {
    status: 503,
    message: 'This server captions as many Spaces as it can (captions.maxSpaces); retry after the Retry-After seconds.',
  },
  STAGE_BUSY: { status: 503, message: 'The stage is at its session limit; retry after the Retry-After seconds.' },
  OVERLOADED: {
    status: 503,
    message:
      'The server is past its capacity and refused this request before doing any work; retry after the Retry-After seconds.',
  },
  MEDIA_STORAGE_UNAVAILABLE: {
    status: 503,
    message:
      'The Space was not started: its recording cannot be written (disk full or media directory unusable). The operator must free or fix media storage; retry after Retry-After.',
  },
  NO_EDGE_AVAILABLE: {
    status: 503,
    message: 'No edge is reporting for listeners right now (cluster mode); retry after the Retry-After seconds.',
  },
  SHARED_STATE_UNAVAILABLE: {
    status: 503,
    message:
      "The cluster's shared state (Redis) is unreachable for a moment, so no place in line can be given or checked; admitted listeners keep listening. Retry after the Retry-After seconds with the same request.",
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'The service is shutting down or its storage is unreachable; retry with backoff.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** An error the API reports to its caller as-is. Throw it anywhere in the control plane. */
export class AmphiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, options: { details?: unknown; headers?: Record<string, string> } = {}) {
    super(errorCatalogue[code].message);
    this.name = 'AmphiError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.details !== undefined) body.error.details = this.details;
    return body;
  }
}

/** RATE_LIMITED with a Retry-After in whole seconds. */
export function rateLimited(retryAfterMs: number): AmphiError {
  return retryLater('RATE_LIMITED', retryAfterMs);
}

/** An error whose caller should come back later: a Retry-After in whole seconds, at least 1. */
export function retryLater(code: ErrorCode, retryAfterMs: number, details?: unknown): AmphiError {
  const headers = { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
  return new AmphiError(code, details === undefined ? { headers } : { headers, details });
}

/** The Markdown page that documents the catalogue for API users. */
export function renderErrorDocs(): string {
  const rows = Object.entries(errorCatalogue).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} |`);
  return [
    '# API errors',
    '',
    'Generated from `src/errors.ts` by `npm run docs:errors`; a test fails when the two differ.',
    '',
    'Every error response has this shape, with the status in the table:',
    '',
    '```json',
    '{ "error": { "code": "SPACE_NOT_FOUND", "message": "No Space has this id; check the link." } }',
    '```',
    '',
    '`VALIDATION_FAILED` adds `details`: the list of fields that failed and why. `TICKET_INVALID` and',
    '`POW_INVALID` add `details.reason`; `TICKET_NOT_YET` adds `details.position` and `details.etaSeconds`;',
    '`POW_REQUIRED` adds `details.challenge` and `details.difficultyBits`. `RATE_LIMITED`, `OVERLOADED`',
    'and `SERVICE_UNAVAILABLE` come with a `Retry-After` header in seconds; `RANGE_NOT_SATISFIABLE` with',
    '`Content-Range: bytes */<size>`.',
    '',
    '| code | status | meaning and what to do |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
