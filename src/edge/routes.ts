import type { App } from '../lib/http-app.ts';
import { Type } from 'typebox';
import { AmphiError } from '../errors.ts';
import type { Edge } from './edge.ts';

const Params = Type.Object(
  {
    token: Type.String({ minLength: 10, maxLength: 4096 }),
    spaceId: Type.String({ pattern: '^sp_[A-Za-z0-9_-]{12}$' }),
    file: Type.String({ pattern: '^[a-z0-9.]{5,40}$' }),
  },
  { additionalProperties: false },
);
const Query = Type.Object({
  _HLS_msn: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e9 })),
  _HLS_part: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  _HLS_skip: Type.Optional(Type.String({ maxLength: 8 })),
  v: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12 })),
});

/**
 * Listener URLs: `/l/<token>/<spaceId>/<file>`. The token sits in the path so the playlists' relative
 * URIs carry it to every part and segment in any player, with no custom headers.
 */
export function edgeRoutes(app: App, edge: Edge): void {
  // The live stream: one held response per listener, parts written as they are produced (stream.ts).
  // Close-delimited (no chunked framing), so each part is exactly one socket write of a shared buffer.
  app.get(
    '/l/:token/:spaceId/live.mp4',
    { schema: { hide: true, params: Type.Omit(Params, ['file']) } },
    async (request, reply) => {
      const opened = await edge.openStream(request.params.token, request.params.spaceId);
      reply.hijack();
      const socket = request.raw.socket;
      socket.setNoDelay(true);
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-type: audio/mp4\r\ncache-control: no-store\r\nconnection: close\r\n' +
          'access-control-allow-origin: *\r\naccess-control-expose-headers: amphi-program-epoch-ms\r\n' +
          `amphi-program-epoch-ms: ${Math.round(opened.epochMs)}\r\n\r\n`,
      );
      const sink = {
        write: (chunk: Uint8Array) => void socket.write(chunk),
        get pendingBytes() {
          return socket.writableLength;
        },
        end: () => socket.end(),
      };
      socket.once('close', () => opened.unsubscribe(sink));
      opened.subscribe(sink);
    },
  );

  app.get('/l/:token/:spaceId/:file', { schema: { hide: true, params: Params, querystring: Query } }, async (request, reply) => {
    const { token, spaceId, file } = request.params;
    const query = request.query;
    const res = await edge.serve({
      token,
      spaceId,
      file,
      msn: query._HLS_msn,
      part: query._HLS_msn === undefined ? undefined : query._HLS_part,
      v: file === 'state.json' ? query.v : undefined,
      ifNoneMatch: request.headers['if-none-match'],
      range: request.headers.range,
    });
    return reply
      .code(res.status)
      .headers(res.headers)
      .send(res.body === undefined ? undefined : Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength));
  });
  // For nginx's auth_request in front of this edge (deploy/nginx): 204 when the listener URL's
  // token is good for its Space, 401 otherwise. Cheap: a key check, nothing else.
  app.get('/edge/auth', { schema: { hide: true } }, async (request, reply) => {
    const uri = request.headers['x-original-uri'];
    const match = typeof uri === 'string' ? /^\/l\/([^/]+)\/(sp_[A-Za-z0-9_-]{12})\//.exec(uri) : null;
    if (match === null || !edge.accepts(match[1]!, match[2]!)) throw new AmphiError('LISTENER_TOKEN_INVALID');
    return reply.code(204).send();
  });
  app.options('/l/:token/:spaceId/:file', { schema: { hide: true } }, (_request, reply) =>
    reply
      .code(204)
      .headers({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, OPTIONS',
        'access-control-allow-headers': 'range, if-none-match',
      })
      .send(),
  );
}
