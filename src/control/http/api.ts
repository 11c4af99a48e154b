import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import { accountRoutes } from './accounts-routes.ts';
import { feedRoutes } from './feed-routes.ts';
import { crossSiteGuard } from './auth.ts';
import { listeningRoutes } from './listening-routes.ts';
import { notifyRoutes } from './notify-routes.ts';
import { recordingRoutes } from './recording-routes.ts';
import { chapterRoutes } from './chapter-routes.ts';
import { transcriptRoutes } from './transcript-routes.ts';
import { clipRoutes } from './clip-routes.ts';
import { communityRoutes } from './community-routes.ts';
import { moderationRoutes } from './moderation-routes.ts';
import { documentServers, openApiExtra, TAGS } from './openapi-extra.ts';
import { shareRoutes } from './share.ts';
import { Account, ErrorResponse, Space } from './schemas.ts';
import { spaceRoutes } from './spaces-routes.ts';
import { stageRoutes } from './stage-routes.ts';
import type { App, RouteContext } from './types.ts';

/**
 * Mounts the control API on an app: cookies, the OpenAPI document (`/api/openapi.json`, built from
 * the routes' TypeBox schemas, plus the static path items of `openapi-extra.ts`: health, metrics,
 * listener media, WHIP) and every `/api` route. Routes mounted after it on the same app that should
 * stay out of the document pass `schema: { hide: true }`. Every operation has an `operationId` (the
 * name generated clients use): `test/control/http/redocly.test.ts` lints the document.
 */
export async function mountControlApi(app: App, context: RouteContext): Promise<void> {
  const extra = openApiExtra(context.config);
  await app.register(cookie);
  await app.register(swagger, {
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Amphi control API',
        version: '1',
        description: 'Accounts, Spaces, roles on stage, joining as a listener. Errors: docs/errors.md.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: documentServers(context.config),
      tags: TAGS,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Session token from POST /api/sessions' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'amphi_session' },
          ...extra.securitySchemes,
        },
      },
      security: [{ bearer: [] }, { cookie: [] }, {}],
    },
    // The endpoints no control route describes (other listeners, the role's own routes).
    transformObject: (document) =>
      'openapiObject' in document
        ? {
            ...document.openapiObject,
            paths: { ...document.openapiObject.paths, ...(extra.paths as typeof document.openapiObject.paths) },
          }
        : document.swaggerObject,
  });
  for (const schema of [ErrorResponse, Account, Space]) app.addSchema(schema);
  const crossSite = crossSiteGuard(context.config.server.publicUrl);
  app.addHook('onRequest', (request, _reply, done) => done(crossSite(request)));
  accountRoutes(app, context);
  spaceRoutes(app, context);
  listeningRoutes(app, context);
  recordingRoutes(app, context);
  chapterRoutes(app, context);
  transcriptRoutes(app, context);
  shareRoutes(app, context);
  clipRoutes(app, context);
  feedRoutes(app, context);
  notifyRoutes(app, context);
  stageRoutes(app, context);
  moderationRoutes(app, context);
  communityRoutes(app, context);
  app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());
}
