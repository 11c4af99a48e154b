import { Type } from 'typebox';
import { AmphiError } from '../../errors.ts';
import { byteRange } from '../../lib/byte-range.ts';
import type { ClipRecord } from '../../storage/store.ts';
import { BinaryBody, errors, Id, SpaceParams } from './schemas.ts';
import type { App, ClipRange, RouteContext } from './types.ts';
import { iso } from './views.ts';

const ClipBody = Type.Union(
  [
    Type.Object(
      {
        start: Type.Number({ minimum: 0, description: "Seconds on the recording's timeline (the replay's)" }),
        end: Type.Number({ minimum: 0, description: '5 to 60 s after start' }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        last: Type.Number({ minimum: 5, maximum: 60, description: 'The last seconds recorded (a live Space: its recent past)' }),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Either start and end, or last' },
);

const Clip = Type.Object({
  id: Type.String(),
  spaceId: Type.String(),
  start: Type.Number({ description: "Seconds on the recording's timeline" }),
  end: Type.Number(),
  durationSeconds: Type.Number(),
  createdAt: Type.String({ format: 'date-time' }),
  pageUrl: Type.String(),
  audioUrl: Type.String({ description: 'The clip as one .m4a (Opus)' }),
});

/** Typed as the buffer the handler sends; documented as binary. */

const ClipParams = Type.Object({ clipId: Id }, { additionalProperties: false });

/** Clips: make one from a replay or a live Space's recent past; read it; its audio file. */
export function clipRoutes(app: App, { plane, auth, config, recordingFiles }: RouteContext): void {
  const base = (request: { protocol: string; host: string }) =>
    config.server.publicUrl ?? `${request.protocol}://${request.host}`;
  const view = (c: ClipRecord, baseUrl: string) => ({
    id: c.id,
    spaceId: c.spaceId,
    start: c.startMs / 1000,
    end: c.endMs / 1000,
    durationSeconds: (c.endMs - c.startMs) / 1000,
    createdAt: iso(c.createdAt),
    pageUrl: `${baseUrl}/c/${c.id}`,
    audioUrl: `${baseUrl}/api/clips/${c.id}/audio.m4a`,
  });

  app.post(
    '/api/spaces/:id/clips',
    {
      schema: {
        operationId: 'createClip',
        tags: ['spaces'],
        summary:
          'Clip 5-60 s of a replay, or of a live Space what it recorded so far ({last: 30}): its own page and audio file. Signed in; who may listen may clip; rate-limited per account',
        params: SpaceParams,
        body: ClipBody,
        response: { 201: Type.Object({ clip: Clip }), ...errors(400, 401, 403, 404, 409, 410, 429) },
      },
    },
    async (request, reply) => {
      const actor = await auth.required(request);
      const body = request.body;
      const range: ClipRange =
        'last' in body ? { lastMs: body.last * 1000 } : { fromMs: body.start * 1000, toMs: body.end * 1000 };
      const clip = await plane.clips.create(actor, request.params.id, range, recordingFiles);
      return reply.code(201).send({ clip: view(clip, base(request)) });
    },
  );

  app.get(
    '/api/clips/:clipId',
    {
      schema: {
        operationId: 'getClip',
        tags: ['spaces'],
        summary: 'A clip: where it is in its Space, and its Space (title, host)',
        params: ClipParams,
        response: {
          200: Type.Object({
            clip: Clip,
            space: Type.Object({ id: Type.String(), title: Type.String(), host: Type.Object({ handle: Type.String() }) }),
          }),
          ...errors(400, 401, 403, 404, 409, 410),
        },
      },
    },
    async (request) => {
      const { clip, space, hostHandle } = await plane.clips.get(await auth.optional(request), request.params.clipId);
      return { clip: view(clip, base(request)), space: { id: space.id, title: space.title, host: { handle: hostHandle } } };
    },
  );

  app.get(
    '/api/clips/:clipId/audio.m4a',
    {
      schema: {
        operationId: 'downloadClip',
        tags: ['spaces'],
        summary: 'The clip as one .m4a file (Opus in fragmented MP4); one byte range per request',
        params: ClipParams,
        response: {
          200: { description: 'The clip', content: { 'audio/mp4': { schema: BinaryBody } } },
          206: { description: 'A byte range', content: { 'audio/mp4': { schema: BinaryBody } } },
          ...errors(400, 401, 403, 404, 409, 410, 416),
        },
      },
    },
    async (request, reply) => {
      const { clip } = await plane.clips.get(await auth.optional(request), request.params.clipId);
      const bytes = await recordingFiles?.clip(clip.spaceId, clip.id);
      if (bytes === undefined) throw new AmphiError('CLIP_NOT_FOUND');
      const etag = `"${clip.id}"`; // a clip never changes
      // Private: who may hear it follows the Space's rules (a sign-in-only Space, a ban, a deleted replay).
      void reply.header('accept-ranges', 'bytes').header('etag', etag).header('cache-control', 'private, max-age=3600');
      const range = byteRange(request.headers.range, bytes.length, { header: undefined, etag });
      if (range.kind === 'unsatisfiable') {
        throw new AmphiError('RANGE_NOT_SATISFIABLE', { headers: { 'content-range': `bytes */${bytes.length}` } });
      }
      const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, bytes.length - 1];
      if (range.kind === 'partial') void reply.code(206).header('content-range', `bytes ${start}-${end}/${bytes.length}`);
      return reply.type('audio/mp4').send(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start + 1));
    },
  );
}
