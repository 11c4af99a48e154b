import createClient from 'openapi-fetch';
import type { components, paths } from './api-types.ts';

/** The typed control API client, generated from /api/openapi.json (npm run api:types). Cookies carry the session. */
export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });

export type Space = components['schemas']['Space'];
export type Account = components['schemas']['Account'];

/** The JSON body a route answers with `status`, read from the generated types (never copied by hand). */
type Answer<Path extends keyof paths, Method extends 'get' | 'post', Status extends number = 200> = paths[Path][Method] extends {
  responses: { [S in Status]: { content: { 'application/json': infer Body } } };
}
  ? Body
  : never;

/** The caller's relation to a Space (`GET /api/spaces/{id}/me`). */
export type Relation = Answer<'/api/spaces/{id}/me', 'get'>;
/** What a join sends: nothing, or a ticket, a solved proof of work, a token to renew (`POST .../join`). */
export type JoinRequest = NonNullable<paths['/api/spaces/{id}/join']['post']['requestBody']['content']['application/json']>;
/** A listener grant: token, held stream and playlist URLs on an edge, expiry (`POST .../join`, 200). */
export type Grant = Answer<'/api/spaces/{id}/join', 'post'>;
/** A place in the waiting room (`POST .../join`, 202). */
export type Ticket = Answer<'/api/spaces/{id}/join', 'post', 202>;
/** The waiting room's now-serving value (`GET .../line`). */
export type Line = Answer<'/api/spaces/{id}/line', 'get'>;
/** The emoji a reaction may carry (`POST .../reactions`). */
export type ReactionEmoji = paths['/api/spaces/{id}/reactions']['post']['requestBody']['content']['application/json']['emoji'];
/** A pending request to speak, as moderators list them (`GET .../requests`). */
export type SpeakRequest = Answer<'/api/spaces/{id}/requests', 'get'>['requests'][number];

/** The one error shape of the API, as a thrown Error with the code. */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Runs one API call for a page on the user's behalf: errors become its notice, success reloads what changed. */
export type Act = (run: () => Promise<{ error?: unknown; data?: unknown; response: Response }>) => Promise<void>;

/** The API's one error shape. */
export type ErrorBody = components['schemas']['Error'];

/** The error a response body carries, read defensively: a proxy's page or an empty body is not one. */
export function errorOf(body: unknown): Partial<ErrorBody['error']> | undefined {
  return typeof body === 'object' && body !== null ? (body as Partial<ErrorBody>).error : undefined;
}

/** Unwraps an openapi-fetch result: the data, or an ApiError with the API's message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    const e = errorOf(result.error);
    throw new ApiError(e?.code ?? `HTTP_${result.response.status}`, e?.message ?? `Request failed (${result.response.status})`);
  }
  return result.data;
}

/** A person's public profile (`GET /api/users/{handle}`). */
export type Profile = Answer<'/api/users/{handle}', 'get'>['user'];
/** One act in an audit log (`GET .../audit`, `GET /api/admin/audit`). */
export type AuditEntry = Answer<'/api/spaces/{id}/audit', 'get'>['entries'][number];
/** A Space's figures for its host (`GET .../analytics`). */
export type Analytics = Answer<'/api/spaces/{id}/analytics', 'get'>;
/** A report as the operators' queue shows it (`GET /api/admin/reports`). */
export type QueuedReport = Answer<'/api/admin/reports', 'get'>['reports'][number];
/** A report as its two parties see it (`GET /api/me/notices`). */
export type ReportNotice = Answer<'/api/me/notices', 'get'>['statements'][number];
/** What may be reported (`POST /api/reports`). */
export type ReportBody = paths['/api/reports']['post']['requestBody']['content']['application/json'];
