import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AmphiError } from '../errors.ts';
import type { App } from '../lib/http-app.ts';
import { iceServerLinks } from '../shared/ice-servers.ts';
import type { StagePlane } from './plane.ts';

const SpaceParams = Type.Object({ spaceId: Type.String({ pattern: '^sp_[A-Za-z0-9_-]{12}$' }) }, { additionalProperties: false });
const SessionParams = Type.Object(
  { spaceId: Type.String({ pattern: '^sp_[A-Za-z0-9_-]{12}$' }), sessionId: Type.String({ pattern: '^ss_[A-Za-z0-9_-]{12}$' }) },
  { additionalProperties: false },
);

/**
 * The stage's routes: WHIP (RFC 9725) on a listener of its own, so a flood of listener requests on the
 * API port cannot delay a host going live. CORS is open so browser speakers on the web app's origin
 * can publish.
 */
export function stageRoutes(app: App, stage: StagePlane): void {
  for (const type of ['application/sdp', 'application/trickle-ice-sdpfrag']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => {
      done(null, body);
    });
  }
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST, PATCH, DELETE, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type, if-match',
      // Retry-After too: a browser speaker told 429 (PATCH, POST) or 503 STAGE_BUSY must be able to read it.
      'access-control-expose-headers': 'location, etag, link, retry-after',
    });
    done();
  });
  // CORS preflights, and WHIP's OPTIONS (RFC 9725 §4.6): with a stage token, the TURN servers to use.
  app.options('/*', (request, reply) => {
    const spaceId = /^\/whip\/(sp_[A-Za-z0-9_-]{12})$/.exec(request.url.split('?')[0]!)?.[1];
    const servers = spaceId === undefined ? [] : stage.iceServers(spaceId, bearer(request));
    if (servers.length > 0) void reply.header('link', iceServerLinks(servers));
    return reply.code(204).send();
  });

  app.post('/whip/:spaceId', { schema: { params: SpaceParams } }, async (request, reply) => {
    requireType(request, 'application/sdp');
    const { spaceId } = request.params;
    const { sessionId, answer, etag, iceServers } = await stage.publish(spaceId, bearer(request), request.body as string);
    if (iceServers.length > 0) void reply.header('link', iceServerLinks(iceServers));
    return reply
      .code(201)
      .type('application/sdp')
      .headers({ location: `/whip/${spaceId}/sessions/${sessionId}`, etag })
      .send(answer);
  });

  app.patch('/whip/:spaceId/sessions/:sessionId', { schema: { params: SessionParams } }, async (request, reply) => {
    requireType(request, 'application/trickle-ice-sdpfrag');
    const { spaceId, sessionId } = request.params;
    const etag = await stage.trickle(spaceId, sessionId, bearer(request), request.body as string, request.headers['if-match']);
    return reply.code(204).header('etag', etag).send();
  });

  app.delete('/whip/:spaceId/sessions/:sessionId', { schema: { params: SessionParams } }, (request, reply) => {
    const { spaceId, sessionId } = request.params;
    stage.unpublish(spaceId, sessionId, bearer(request));
    return reply.code(200).send();
  });

  app.get('/healthz', () => ({ status: 'ok', sessions: stage.sessionCount }));
}

function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer (\S{1,4096})$/.exec(request.headers.authorization ?? '');
  return match?.[1];
}

function requireType(request: FastifyRequest, type: string): void {
  const given = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (given !== type) throw new AmphiError('UNSUPPORTED_MEDIA_TYPE', { details: `send Content-Type: ${type}` });
}
