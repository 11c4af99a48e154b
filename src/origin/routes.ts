import { Type } from 'typebox';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { App } from '../lib/http-app.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { OriginPlane } from './plane.ts';

/** An edge's credential to the origin: a token signed with the shared key, `t: "e"`. */
export interface EdgeClaims {
  readonly t: 'e';
  /** The edge's name, for logs. */
  readonly u: string;
}

const Params = Type.Object(
  { spaceId: Type.String({ pattern: '^sp_[A-Za-z0-9_-]{12}$' }), file: Type.String({ pattern: '^[a-z0-9.]{5,40}$' }) },
  { additionalProperties: false },
);
const Query = Type.Object({
  _HLS_msn: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e9 })),
  _HLS_part: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  _HLS_skip: Type.Optional(Type.Union([Type.Literal('YES'), Type.Literal('v2')])),
  v: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12 })),
});

/**
 * `GET /origin/<spaceId>/<file>` for separate edges (`amphi edge --origin URL`). Only edges get in:
 * the request must carry an edge credential signed with the shared key; listener tokens are refused.
 */
export function originRoutes(app: App, origin: OriginPlane, signer: TokenSigner, clock: Clock): void {
  app.get('/origin/:spaceId/:file', { schema: { hide: true, params: Params, querystring: Query } }, async (request, reply) => {
    const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const verified = bearer === undefined ? undefined : signer.verify<EdgeClaims>(bearer, clock.now());
    if (verified === undefined || !verified.ok || verified.claims.t !== 'e') throw new AmphiError('EDGE_CREDENTIAL_INVALID');
    const { spaceId, file } = request.params;
    const res = await origin.get(spaceId, file, {
      msn: request.query._HLS_msn,
      part: request.query._HLS_part,
      skip: request.query._HLS_skip !== undefined,
      v: request.query.v,
    });
    return reply
      .type(res.contentType)
      .header('cache-control', res.cacheControl)
      .send(Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength));
  });
}
