import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AmphiError, rateLimited } from '../../errors.ts';
import { RateLimiter } from '../../lib/token-bucket.ts';
import { webVtt } from '../../lib/webvtt.ts';
import { searchTranscripts } from '../transcripts.ts';
import { errors, SpaceParams, Transcript } from './schemas.ts';
import type { App, RouteContext } from './types.ts';

/** A replay's transcript never changes once written (it goes when the replay is deleted). */
const CACHE = 'private, max-age=3600';

/**
 * A replay's automatic transcript (the live captions' final lines, word-timed, kept with the
 * recording): as JSON for the replay page, WebVTT for `<track kind="captions">` and plain text to
 * download. Who may read it is who may hear the replay (as for the chapters).
 */
export function transcriptRoutes(app: App, context: RouteContext): void {
  const { plane, auth, recordingFiles } = context;
  const transcript = async (request: FastifyRequest, spaceId: string) => {
    const space = await plane.credentials.recordedAccess(await auth.optional(request), spaceId);
    const found = await recordingFiles?.transcript?.(space.id);
    if (found === undefined) throw new AmphiError('TRANSCRIPT_NOT_FOUND');
    return found;
  };
  // The JSON the replay page just asks for: no lines (not a 404, which a browser logs) when captions never ran.
  const transcriptOrNone = (request: FastifyRequest, spaceId: string) => transcript(request, spaceId).catch(noLines);

  app.get(
    '/api/spaces/:id/transcript',
    {
      schema: {
        operationId: 'getTranscript',
        tags: ['spaces'],
        summary:
          "A replay's automatic transcript, made from its live captions: caption lines with their words, times in ms on the replay's timeline. No lines when captions were never on (the .vtt and .txt downloads answer 404 TRANSCRIPT_NOT_FOUND then)",
        params: SpaceParams,
        response: { 200: Transcript, ...errors(400, 401, 403, 404, 409, 410) },
      },
    },
    async (request, reply) => {
      const { lines } = await transcriptOrNone(request, request.params.id);
      void reply.header('cache-control', CACHE);
      return { automatic: true as const, lines: lines.map((l) => ({ ...l, words: [...l.words] })) };
    },
  );

  app.get(
    '/api/spaces/:id/transcript.vtt',
    {
      schema: {
        operationId: 'getTranscriptVtt',
        tags: ['spaces'],
        summary: 'The same transcript as WebVTT (one cue per line), for <track kind="captions"> and to download',
        params: SpaceParams,
        response: {
          200: { description: 'WebVTT', content: { 'text/vtt': { schema: Type.String() } } },
          ...errors(400, 401, 403, 404, 409, 410),
        },
      },
    },
    async (request, reply) => {
      const { lines } = await transcript(request, request.params.id);
      return reply.type('text/vtt; charset=utf-8').header('cache-control', CACHE).send(webVtt(lines));
    },
  );

  app.get(
    '/api/spaces/:id/transcript.txt',
    {
      schema: {
        operationId: 'getTranscriptText',
        tags: ['spaces'],
        summary: 'The same transcript as plain text to download: one line per caption line, each after its [mm:ss] start',
        params: SpaceParams,
        response: {
          200: { description: 'Plain text', content: { 'text/plain': { schema: Type.String() } } },
          ...errors(400, 401, 403, 404, 409, 410),
        },
      },
    },
    async (request, reply) => {
      const { lines } = await transcript(request, request.params.id);
      return reply.type('text/plain; charset=utf-8').header('cache-control', CACHE).send(transcriptText(lines));
    },
  );

  searchRoute(app, context);
}

/** Search over every replay's lines: a phrase of at most 200 characters, rate-limited per address. */
function searchRoute(app: App, { plane, auth, config, clock }: RouteContext): void {
  // Each search is a LIKE over every line: a flood from one address is refused (this process's buckets).
  const searches = new RateLimiter(config.rateLimits.transcriptSearchPerAddress, clock);
  app.get(
    '/api/transcripts/search',
    {
      schema: {
        operationId: 'searchTranscripts',
        tags: ['spaces'],
        summary:
          "Find a phrase in replays' transcripts (case-insensitive; % and _ are plain characters): public replays, or with mine=true (signed in) your own Spaces' replays. Signed in, the replays that refuse you (removed from the Space, or blocked by its host) are left out. The most recently ended Space first, its lines in order; 20 per page, then nextOffset. Limited per client address (rateLimits.transcriptSearchPerAddress): 429 RATE_LIMITED past it",
        querystring: Type.Object({
          q: Type.String({
            minLength: 1,
            maxLength: 200,
            pattern: '\\S',
            description: 'The phrase: at most 200 characters (else 400 VALIDATION_FAILED), not only spaces',
          }),
          mine: Type.Optional(Type.Boolean({ default: false })),
          offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 0 })),
        }),
        response: { 200: TranscriptSearchResults, ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const taken = searches.take(request.ip);
      if (!taken.ok) throw rateLimited(taken.retryAfterMs);
      const { q, mine, offset } = request.query;
      const viewer = mine === true ? await auth.required(request) : await auth.optional(request);
      const hostId = mine === true ? viewer?.id : undefined;
      // Past retention a recording is deleted (its lines too, by the sweep): never found, even should they linger.
      const days = config.origin.retentionDays;
      const endedAfter = days === null ? undefined : clock.now() - days * 86_400_000;
      const search = { phrase: q.trim(), hostId, offset: offset ?? 0, endedAfter, viewerId: viewer?.id };
      const found = await searchTranscripts(plane.spaces.store, search);
      // Signed in, the results are the viewer's own (removals and blocks left out): never a shared cache's.
      void reply.header('cache-control', viewer === undefined ? 'public, max-age=30' : 'private, no-store');
      return {
        results: found.hits.map((h) => ({
          spaceId: h.spaceId,
          title: h.title,
          host: { id: h.hostId, handle: h.hostHandle },
          text: h.text,
          startMs: h.startMs,
        })),
        nextOffset: found.nextOffset,
      };
    },
  );
}

const TranscriptSearchResults = Type.Object({
  results: Type.Array(
    Type.Object({
      spaceId: Type.String(),
      title: Type.String(),
      host: Type.Object({ id: Type.String(), handle: Type.String() }),
      text: Type.String({ description: 'The transcript line that holds the phrase' }),
      startMs: Type.Integer({ description: "Where the line starts, ms on the replay's timeline (seek there)" }),
    }),
  ),
  nextOffset: Type.Union([Type.Integer(), Type.Null()]),
});

/** Plain text: `[mm:ss] text` per line (minutes past 59 go on counting: `[75:03]`). */
export function transcriptText(lines: readonly { startMs: number; text: string }[]): string {
  const stamp = (ms: number) => {
    const s = Math.floor(Math.max(0, ms) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  };
  return lines.map((l) => `[${stamp(l.startMs)}] ${l.text}\n`).join('');
}

function noLines(error: unknown): { lines: [] } {
  if (error instanceof AmphiError && error.code === 'TRANSCRIPT_NOT_FOUND') return { lines: [] };
  throw error;
}
