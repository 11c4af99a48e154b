import { Readable } from 'node:stream';
import { Type } from 'typebox';
import { AmphiError } from '../../errors.ts';
import { byteRange } from '../../lib/byte-range.ts';
import { errors, NoContent, SpaceParams } from './schemas.ts';
import type { App, RecordingFile, RouteContext } from './types.ts';

const M4A = 'audio/mp4';
const Binary = (description: string) => ({
  description,
  // Typed as the stream the handler sends; documented as binary.
  content: { [M4A]: { schema: Type.Unsafe<Readable>(Type.String({ format: 'binary' })) } },
});

/**
 * `GET /api/spaces/:id/recording.m4a`: an ended Space's recording as one fragmented MP4 file, made
 * by the server from the stored pieces as it is sent (see `RecordingFiles`). One byte range per
 * request (206); several ranges get the whole file (200); a malformed range or one past the end
 * gets 416. Who may download it is who may listen to the replay.
 */
export function recordingRoutes(app: App, { plane, auth, recordingFiles }: RouteContext): void {
  app.get(
    '/api/spaces/:id/recording.m4a',
    {
      schema: {
        operationId: 'downloadRecording',
        tags: ['spaces'],
        summary: "Download an ended Space's recording as one .m4a file (Opus in fragmented MP4)",
        description:
          'Supports one byte range (Range: bytes=a-b, a-, -n; If-Range), ETag and If-None-Match. Several ranges ' +
          'get the whole file (200); a malformed range or one past the end is 416 with Content-Range: bytes */size. ' +
          '409 RECORDING_NOT_AVAILABLE while the Space has not ended or has no recording.',
        params: SpaceParams,
        response: {
          200: Binary('The whole recording'),
          206: Binary('The asked byte range (Content-Range)'),
          304: NoContent,
          ...errors(400, 401, 403, 404, 409, 416),
        },
      },
    },
    async (request, reply) => {
      const space = await plane.credentials.recordingAccess(await auth.optional(request), request.params.id);
      const file = await recordingFiles?.open(space.id);
      if (file === undefined) throw new AmphiError('RECORDING_NOT_AVAILABLE');
      void reply
        .header('accept-ranges', 'bytes')
        .header('etag', file.etag)
        .header('cache-control', 'private, max-age=3600')
        .header('content-disposition', attachment(space.title, space.id));
      if (matchesAny(request.headers['if-none-match'], file.etag)) return reply.code(304).send(null);
      const ifRange = request.headers['if-range'];
      const range = byteRange(request.headers.range, file.size, {
        header: typeof ifRange === 'string' ? ifRange : undefined,
        etag: file.etag,
      });
      if (range.kind === 'unsatisfiable') {
        throw new AmphiError('RANGE_NOT_SATISFIABLE', { headers: { 'content-range': `bytes */${file.size}` } });
      }
      const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, file.size - 1];
      if (range.kind === 'partial') void reply.code(206).header('content-range', `bytes ${start}-${end}/${file.size}`);
      // HEAD gets an empty stream: fastify would drain a real one, reading every piece for nothing.
      const body = request.method === 'HEAD' ? Readable.from([]) : stream(file, start, end);
      return reply
        .type(M4A)
        .header('content-length', end - start + 1)
        .send(body);
    },
  );
}

/** The file's bytes as a stream that reads a piece only when the socket wants more. */
function stream(file: RecordingFile, start: number, end: number): Readable {
  return Readable.from(file.read(start, end), { objectMode: false });
}

/** `If-None-Match`: `*` or a list of (possibly weak) tags, compared weakly as RFC 9110 says. */
function matchesAny(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/**
 * `Content-Disposition: attachment` with the title as the name: an ASCII `filename` for every client
 * (the Space id when little of the title is ASCII) and the exact title in `filename*` (RFC 6266).
 */
export function attachment(title: string, spaceId: string, extension = 'm4a'): string {
  const clean = title.replaceAll(/[/\\]/g, '-').trim();
  const ascii = clean
    .normalize('NFKD')
    .replaceAll(/[\u0300-\u036f]/g, '') // accents off: "café" is "cafe"
    .replaceAll(/[^A-Za-z0-9._()-]+/g, ' ')
    .replaceAll(/^[ .]+|[ .]+$/g, '')
    .slice(0, 80)
    .trim();
  const fallback = /[A-Za-z0-9]{2}/.test(ascii) ? ascii : spaceId;
  const exact = encodeURIComponent(`${clean}.${extension}`).replaceAll(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}.${extension}"; filename*=UTF-8''${exact}`;
}
