import createClient from 'openapi-fetch';
import type { components, paths } from './api-types.ts';

/** The typed control API client, generated from /api/openapi.json (npm run api:types). Cookies carry the session. */
export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });

export type Space = components['schemas']['Space'];
export type Account = components['schemas']['Account'];
export type StageMember = Space['stage'][number];

/** The one error shape of the API, as a thrown Error with the code. */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Unwraps an openapi-fetch result: the data, or an ApiError with the API's message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    const e = result.error as { error?: { code?: string; message?: string } } | undefined;
    throw new ApiError(
      e?.error?.code ?? `HTTP_${result.response.status}`,
      e?.error?.message ?? `Request failed (${result.response.status})`,
    );
  }
  return result.data;
}
