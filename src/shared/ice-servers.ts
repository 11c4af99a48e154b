/**
 * ICE servers in WHIP's Link headers (RFC 9725 §4.6): the stage names its TURN servers in the answer
 * to a POST (and to an OPTIONS), one `Link: <turn:host:port?transport=tcp>; rel="ice-server";
 * username="..."; credential="..."; credential-type="password"` each. Shared by the stage (writing),
 * `amphi publish` and the browser speaker (reading): no Node built-in here.
 */
export interface IceServer {
  readonly urls: string;
  readonly username?: string;
  readonly credential?: string;
}

/** One Link header value per server (quotes and backslashes in credentials escaped, RFC 8288 quoted-string). */
export function iceServerLinks(servers: readonly IceServer[]): string[] {
  const quote = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  return servers.map((s) => {
    const parts = [`<${s.urls}>`, 'rel="ice-server"'];
    if (s.username !== undefined) parts.push(`username=${quote(s.username)}`);
    if (s.credential !== undefined) parts.push(`credential=${quote(s.credential)}`, 'credential-type="password"');
    return parts.join('; ');
  });
}

/**
 * The ICE servers among Link header values (several headers, or one joined with commas as fetch's
 * Headers.get does). Links of other relations, and targets that are not stun:, turn: or turns: URLs,
 * are ignored.
 */
export function parseIceServerLinks(values: readonly string[] | string | null | undefined): IceServer[] {
  if (values === null || values === undefined) return [];
  const text = typeof values === 'string' ? values : values.join(', ');
  const servers: IceServer[] = [];
  // <target> then parameters: token=token or token="quoted \" string", up to the next link.
  const link = /<([^>]*)>((?:\s*;\s*[A-Za-z0-9!#$&+.^_`|~-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,;\s]*))*)\s*,?/g;
  const param = /;\s*([A-Za-z0-9!#$&+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,;\s]*))/g;
  for (const match of text.matchAll(link)) {
    const urls = match[1]!.trim();
    const params = new Map<string, string>();
    for (const p of match[2]!.matchAll(param)) {
      params.set(p[1]!.toLowerCase(), p[2] === undefined ? p[3]! : p[2].replace(/\\(.)/g, '$1'));
    }
    const rels = (params.get('rel') ?? '').toLowerCase().split(/\s+/);
    if (!rels.includes('ice-server') || !/^(stun|turns?):/i.test(urls)) continue;
    const username = params.get('username');
    const credential = params.get('credential');
    servers.push({
      urls,
      ...(username === undefined ? {} : { username }),
      ...(credential === undefined ? {} : { credential }),
    });
  }
  return servers;
}
