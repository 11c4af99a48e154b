import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AmphiError } from '../../errors.ts';
import { webVtt } from '../../lib/webvtt.ts';
import { Chapters, errors, SpaceParams } from './schemas.ts';
import type { App, RouteContext } from './types.ts';

/**
 * A replay's chapters by speaker: who spoke when, from the stage's speaking flags, as JSON for the
 * replay page and as WebVTT for `<track kind="chapters">`; where the replay has a transcript, each with
 * the first words said in it. Who may read them is who may hear the replay.
 */
export function chapterRoutes(app: App, { plane, auth, recordingFiles }: RouteContext): void {
  /** The chapters of a replay the caller may hear, with each speaker's handle. */
  const chapters = async (request: FastifyRequest, spaceId: string) => {
    const space = await plane.credentials.recordedAccess(await auth.optional(request), spaceId);
    const found = await recordingFiles?.chapters(space.id);
    if (found === undefined) throw new AmphiError('RECORDING_NOT_AVAILABLE');
    const ids = [...new Set(found.map((c) => c.speaker))];
    const accounts = await Promise.all(ids.map((id) => plane.accounts.getAccount(id)));
    const handles = new Map(ids.map((id, i) => [id, accounts[i]?.handle ?? 'someone']));
    return { live: space.state === 'live', chapters: found.map((c) => ({ ...c, handle: handles.get(c.speaker) ?? 'someone' })) };
  };

  app.get(
    '/api/spaces/:id/chapters',
    {
      schema: {
        operationId: 'listChapters',
        tags: ['spaces'],
        summary:
          "A Space's recording in chapters by speaker (who spoke when, from the stage's speaking flags): an ended Space's replay, or a live one's so far (to catch up from). Times in seconds on the recording's timeline. Where the replay has a transcript, each chapter has an excerpt: its first words",
        params: SpaceParams,
        response: { 200: Chapters, ...errors(400, 401, 403, 404, 409, 410) },
      },
    },
    async (request, reply) => {
      const { live, chapters: list } = await chapters(request, request.params.id);
      // A live Space's chapters grow: asked again within seconds; a replay's never change.
      void reply.header('cache-control', `private, max-age=${live ? 5 : 3600}`);
      return {
        chapters: list.map((c) => ({
          start: c.startMs / 1000,
          end: c.endMs / 1000,
          speaker: { id: c.speaker, handle: c.handle },
          ...(c.excerpt === undefined ? {} : { excerpt: c.excerpt }),
        })),
      };
    },
  );

  app.get(
    '/api/spaces/:id/chapters.vtt',
    {
      schema: {
        operationId: 'getChaptersVtt',
        tags: ['spaces'],
        summary:
          'The same chapters as WebVTT, for <track kind="chapters"> and players that read it: each cue is @handle, and where the replay has a transcript the excerpt in quotes (@alice: “hello all…”)',
        params: SpaceParams,
        response: {
          200: { description: 'WebVTT', content: { 'text/vtt': { schema: Type.String() } } },
          ...errors(400, 401, 403, 404, 409, 410),
        },
      },
    },
    async (request, reply) => {
      const { live, chapters: list } = await chapters(request, request.params.id);
      return reply
        .type('text/vtt; charset=utf-8')
        .header('cache-control', `private, max-age=${live ? 5 : 3600}`)
        .send(chaptersVtt(list.map((c) => ({ startMs: c.startMs, endMs: c.endMs, title: chapterTitle(c.handle, c.excerpt) }))));
    },
  );
}

/** WebVTT chapters: one cue per chapter, numbered and titled. */
export function chaptersVtt(chapters: readonly { startMs: number; endMs: number; title: string }[]): string {
  return webVtt(chapters.map((c, i) => ({ id: String(i + 1), startMs: c.startMs, endMs: c.endMs, text: c.title })));
}

/** A chapter cue's text: who spoke and, where the replay has a transcript, what they said first (`@alice: “hello all…”`). */
export function chapterTitle(handle: string, excerpt: string | undefined): string {
  return excerpt === undefined ? `@${handle}` : `@${handle}: “${excerpt}”`; // webVtt escapes it as cue text
}
