/** `http://host:port/bucket` → the endpoint and the bucket name. Throws on anything else. */
export function parseBucketUrl(url: string): { endpoint: string; bucket: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`bucket URL ${JSON.stringify(url)} is not a URL (expected http(s)://host:port/bucket)`);
  }
  const bucket = parsed.pathname.replace(/^\/+|\/+$/g, '');
  if (!/^https?:$/.test(parsed.protocol) || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`bucket URL ${JSON.stringify(url)} must be http(s)://host:port/<bucket name: 3-63 of a-z 0-9 . ->`);
  }
  return { endpoint: parsed.origin, bucket };
}
