import { Type } from 'typebox';
import { AmphiError } from '../../errors.ts';
import { RequestAuth, sessionToken } from './auth.ts';
import { errors, SpaceParams } from './schemas.ts';
import type { App, RouteContext } from './types.ts';

/**
 * What the route needs of the Space's captions: on a media node its own (`roles/captions.ts`
 * `localToggle`), on a control node the media node holding the Space (`roles/remote-captions.ts`).
 */
export interface CaptionsToggle {
  /**
   * Throws `CAPTIONS_UNAVAILABLE`, `SPACE_NOT_LIVE` or `CAPTIONS_BUSY`. `token`: the caller's session,
   * which a control node presents to the media node (checked there again).
   */
  set(spaceId: string, on: boolean, token: string): Promise<{ readonly on: boolean }>;
}

const CaptionsBody = Type.Object(
  { on: Type.Boolean({ description: 'Caption this Space from now on (true), or stop (false)' }) },
  {
    additionalProperties: false,
  },
);
const CaptionsState = Type.Object(
  {
    on: Type.Boolean({ description: 'Whether the Space is captioned now' }),
    automatic: Type.Literal(true, { description: 'Captions are made by a speech recogniser, not a person' }),
  },
  { additionalProperties: false },
);

/**
 * `PUT /api/spaces/:id/captions`: the host or a co-host turns live captions on or off. Mounted by the
 * embedded role and the media nodes (where the Space's program is), and by control nodes, which pass
 * it on to the media node holding the Space.
 */
export function captionsRoutes(
  app: App,
  { plane, config }: Pick<RouteContext, 'plane' | 'config'>,
  captions: CaptionsToggle,
): void {
  const auth = new RequestAuth(plane.accounts, config.auth.secureCookies);
  app.put(
    '/api/spaces/:id/captions',
    {
      schema: {
        operationId: 'setCaptions',
        tags: ['stage'],
        summary: 'Turn live captions on or off (host or co-host; automatic, English)',
        params: SpaceParams,
        body: CaptionsBody,
        response: { 200: CaptionsState, ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      const actor = await auth.required(request);
      const { space, members } = await plane.spaces.snapshot(request.params.id);
      const role = members.find((m) => m.accountId === actor.id)?.role;
      if (role !== 'host' && role !== 'cohost') throw new AmphiError('MODERATOR_ONLY');
      if (space.state !== 'live') throw new AmphiError('SPACE_NOT_LIVE');
      const { on } = await captions.set(space.id, request.body.on, sessionToken(request)!);
      return { on, automatic: true as const };
    },
  );
}
