import { WhipRefused } from './whip-client.ts';

/**
 * A stage credential from the API, as the web app gets one: `POST /api/spaces/<id>/stage` signed in
 * with a session token (AMPHI_SESSION_TOKEN), or with a handle and AMPHI_PASSWORD (`POST
 * /api/sessions` first). Refusals come back as `WhipRefused` with the API's error code.
 */
export async function stageGrant(options: {
  readonly api: string;
  readonly spaceId: string;
  readonly handle: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}): Promise<{ whipUrl: string; token: string }> {
  const api = options.api.replace(/\/+$/, '');
  let session = options.env.AMPHI_SESSION_TOKEN;
  if (options.handle !== undefined) {
    const password = options.env.AMPHI_PASSWORD;
    if (password === undefined) throw new WhipRefused(0, 'PASSWORD_MISSING', 'set AMPHI_PASSWORD to sign in with --handle');
    const signedIn = await call(`${api}/api/sessions`, undefined, { handle: options.handle, password });
    session = signedIn.token as string;
  }
  if (session === undefined)
    throw new WhipRefused(0, 'SIGN_IN_MISSING', 'set AMPHI_SESSION_TOKEN, or give --handle with AMPHI_PASSWORD');
  const grant = await call(`${api}/api/spaces/${encodeURIComponent(options.spaceId)}/stage`, session);
  return { whipUrl: grant.whipUrl as string, token: grant.token as string };
}

async function call(url: string, bearer: string | undefined, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { code?: string; message?: string } };
  if (!res.ok) throw new WhipRefused(res.status, json.error?.code ?? `HTTP_${res.status}`, json.error?.message ?? res.statusText);
  return json;
}
