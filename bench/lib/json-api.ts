/** A JSON API caller over real sockets: drills and tests talk to a running Amphi the same way. */
export interface JsonReply {
  readonly status: number;
  readonly json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- callers read arbitrary shapes
}

export function jsonApi(baseUrl: () => string) {
  return async (method: string, path: string, token?: string, body?: unknown): Promise<JsonReply> => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
}

/**
 * A setup step that must succeed: its reply when the status is one of `ok`, else an error naming the
 * step, the status and what the server said (the bench then exits 1 with it, never reads `undefined`).
 */
export async function must(step: string, reply: Promise<JsonReply>, ok: readonly number[] = [200, 201]): Promise<JsonReply> {
  let r: JsonReply;
  try {
    r = await reply;
  } catch (error) {
    throw new Error(`setup: ${step} failed: ${(error as Error).message}`, { cause: error });
  }
  if (!ok.includes(r.status)) {
    const said: string = typeof r.json === 'string' ? r.json : r.json === undefined ? '' : JSON.stringify(r.json);
    throw new Error(`setup: ${step} answered ${r.status} (expected ${ok.join(' or ')}): ${said.slice(0, 300)}`);
  }
  return r;
}

type Api = ReturnType<typeof jsonApi>;

/** Signs up `handle`; its account id and session token (checked: a refusal is an error). */
export async function signUp(
  api: Api,
  handle: string,
  password = 'a long bench password',
): Promise<{ id: string; token: string }> {
  const r = await must(`signing up ${handle}`, api('POST', '/api/accounts', undefined, { handle, password }));
  const id: unknown = r.json?.account?.id;
  const token: unknown = r.json?.token;
  if (typeof id !== 'string' || typeof token !== 'string')
    throw new Error(`setup: signing up ${handle}: no account id or token in the answer`);
  return { id, token };
}

/** A Space created by `token` (live when `start`), its id (checked). */
export async function createSpace(api: Api, token: string, title: string, start: boolean): Promise<string> {
  const created = await must(`creating Space "${title}"`, api('POST', '/api/spaces', token, { title }));
  const id: unknown = created.json?.space?.id;
  if (typeof id !== 'string') throw new Error(`setup: creating Space "${title}": no space id in the answer`);
  if (start) await must(`starting Space "${title}"`, api('POST', `/api/spaces/${id}/start`, token, {}));
  return id;
}
