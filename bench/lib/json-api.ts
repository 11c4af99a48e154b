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
