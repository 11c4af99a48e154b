import { Type } from 'typebox';
import { AmphiError } from '../../errors.ts';
import type { ClipRecord, SpaceRecord } from '../../storage/store.ts';
import type { SpaceSnapshot } from '../snapshots.ts';
import { errors } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { spaceView } from './views.ts';

/** The pages a shared link can name: a Space, its replay, its embeddable player. */
const SHARED_PAGE = /^\/(s|r|embed)\/(sp_[A-Za-z0-9_-]{12})$/;
/** A clip's page. */
const CLIP_PAGE = /^\/c\/(cl_[A-Za-z0-9_-]{12})$/;
/** The embedded player's size: one line of status and a player. */
const EMBED = { width: 480, height: 180 } as const;

/** What a shared link shows (Open Graph, Twitter cards, oEmbed): the same facts everywhere. */
export interface ShareMeta {
  readonly title: string;
  readonly description: string;
  readonly hostHandle: string;
  readonly pageUrl: string;
  /** The embeddable player (Spaces; a clip has none): the oEmbed link names it. */
  readonly embedUrl: string | undefined;
  readonly imageUrl: string;
  /** The replay as one file, for `og:audio` (ended and recorded only). */
  readonly audioUrl: string | undefined;
  readonly baseUrl: string;
}

/** The facts of a Space for a shared link: title, host, state (live and how many, when it starts, the replay's length). */
export function shareMeta(view: ReturnType<typeof spaceView>, baseUrl: string): ShareMeta {
  const host = `@${view.host.handle}`;
  const id = encodeURIComponent(view.id);
  let state: string;
  if (view.state === 'live') state = `Live now · ${view.listenerCount} listening`;
  else if (view.state === 'scheduled')
    state = view.scheduledStart === null ? 'Starting soon' : `Starts ${view.scheduledStart.replace('T', ' ').slice(0, 16)} UTC`;
  else if (view.replay.available) state = `Replay · ${Math.max(1, Math.round((view.replay.durationSeconds ?? 0) / 60))} min`;
  else state = 'Ended';
  return {
    title: view.title,
    description: `${state} · hosted by ${host} on Amphi`,
    hostHandle: view.host.handle,
    pageUrl: `${baseUrl}/${view.state === 'ended' && view.replay.available ? 'r' : 's'}/${id}`,
    embedUrl: `${baseUrl}/embed/${id}`,
    imageUrl: `${baseUrl}/og.png`,
    audioUrl: view.replay.available ? `${baseUrl}/api/spaces/${id}/recording.m4a` : undefined,
    baseUrl,
  };
}

const escapeHtml = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** The `<head>` of a shared page: its title, Open Graph and Twitter tags, and the oEmbed discovery link. */
export function pageHead(meta: ShareMeta): string {
  const tags: [string, string, string][] = [
    ['property', 'og:type', meta.audioUrl === undefined ? 'website' : 'music.song'],
    ['property', 'og:site_name', 'Amphi'],
    ['property', 'og:title', meta.title],
    ['property', 'og:description', meta.description],
    ['property', 'og:url', meta.pageUrl],
    ['property', 'og:image', meta.imageUrl],
    ['property', 'og:image:width', '1200'],
    ['property', 'og:image:height', '630'],
    ...(meta.audioUrl === undefined
      ? []
      : ([
          ['property', 'og:audio', meta.audioUrl],
          ['property', 'og:audio:type', 'audio/mp4'],
        ] as [string, string, string][])),
    ['name', 'twitter:card', 'summary_large_image'],
    ['name', 'twitter:title', meta.title],
    ['name', 'twitter:description', meta.description],
    ['name', 'twitter:image', meta.imageUrl],
    ['name', 'description', meta.description],
  ];
  const oembed = `${meta.baseUrl}/api/oembed?url=${encodeURIComponent(meta.pageUrl)}&format=json`;
  return [
    `<title>${escapeHtml(meta.title)} · Amphi</title>`,
    ...tags.map(([attr, key, value]) => `<meta ${attr}="${key}" content="${escapeHtml(value)}" />`),
    ...(meta.embedUrl === undefined
      ? []
      : [
          `<link rel="alternate" type="application/json+oembed" href="${escapeHtml(oembed)}" title="${escapeHtml(meta.title)}" />`,
        ]),
  ].join('\n    ');
}

/** The head of a page a link can share (`/s/:id`, `/r/:id`, `/embed/:id`); undefined for any other page or Space. */
export type PageHead = (path: string, baseUrl: string) => Promise<string | undefined>;

/** The facts of a clip for its shared link: its Space and host, its length; `og:audio` is its file. */
export function clipMeta(clip: ClipRecord, space: SpaceRecord, hostHandle: string, baseUrl: string): ShareMeta {
  const seconds = Math.round((clip.endMs - clip.startMs) / 1000);
  return {
    title: `Clip: ${space.title}`,
    description: `${seconds} s from @${hostHandle}'s Space on Amphi`,
    hostHandle,
    pageUrl: `${baseUrl}/c/${clip.id}`,
    embedUrl: undefined,
    imageUrl: `${baseUrl}/og.png`,
    audioUrl: `${baseUrl}/api/clips/${clip.id}/audio.m4a`,
    baseUrl,
  };
}

/** `PageHead` over the control plane: the Space's public view (or a clip's), as any visitor may see it. */
export function sharedPageHead({ plane, live }: Pick<RouteContext, 'plane' | 'live'>): PageHead {
  return async (path, baseUrl) => {
    const clip = CLIP_PAGE.exec(path);
    if (clip !== null) {
      const found = await plane.clips.get(undefined, clip[1]!).catch(() => undefined); // as any visitor sees it
      return found === undefined ? undefined : pageHead(clipMeta(found.clip, found.space, found.hostHandle, baseUrl));
    }
    const match = SHARED_PAGE.exec(path);
    if (match === null) return undefined;
    const snap = await plane.spaces.snapshot(match[2]!).catch((): SpaceSnapshot | undefined => undefined);
    return snap === undefined ? undefined : pageHead(shareMeta(spaceView(snap, live), baseUrl));
  };
}

const OEmbedQuery = Type.Object(
  {
    url: Type.String({ maxLength: 2048, description: "A Space's page, replay or embed URL on this server" }),
    format: Type.Optional(Type.Literal('json', { description: 'Only json is offered' })),
    maxwidth: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    maxheight: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

const OEmbed = Type.Object({
  version: Type.Literal('1.0'),
  type: Type.Literal('rich'),
  provider_name: Type.String(),
  provider_url: Type.String(),
  title: Type.String(),
  author_name: Type.String(),
  html: Type.String({ description: 'An iframe of /embed/:id' }),
  width: Type.Integer(),
  height: Type.Integer(),
  thumbnail_url: Type.String(),
  thumbnail_width: Type.Integer(),
  thumbnail_height: Type.Integer(),
});

/** oEmbed (https://oembed.com): a rich embed, the iframe of `/embed/:id`, for any link to a Space. */
export function shareRoutes(app: App, { plane, live, config }: RouteContext): void {
  app.get(
    '/api/oembed',
    {
      schema: {
        operationId: 'getOembed',
        tags: ['spaces'],
        summary: 'oEmbed for a link to a Space (its page, replay or embed URL): a rich embed, the iframe of /embed/:id',
        querystring: OEmbedQuery,
        response: { 200: OEmbed, ...errors(400, 404) },
      },
    },
    async (request) => {
      const base = config.server.publicUrl ?? `${request.protocol}://${request.host}`;
      let path: string;
      try {
        const url = new URL(request.query.url);
        if (url.origin !== new URL(base).origin) throw new Error('another site');
        path = url.pathname;
      } catch {
        throw new AmphiError('VALIDATION_FAILED', {
          details: [{ field: 'querystring/url', problem: 'is not a link to a Space on this server' }],
        });
      }
      const match = SHARED_PAGE.exec(path);
      if (match === null) throw new AmphiError('SPACE_NOT_FOUND');
      const meta = shareMeta(spaceView(await plane.spaces.snapshot(match[2]!), live), base);
      const width = Math.min(EMBED.width, request.query.maxwidth ?? EMBED.width);
      const height = Math.min(EMBED.height, request.query.maxheight ?? EMBED.height);
      const title = escapeHtml(meta.title);
      return {
        version: '1.0' as const,
        type: 'rich' as const,
        provider_name: 'Amphi',
        provider_url: base,
        title: meta.title,
        author_name: `@${meta.hostHandle}`,
        html: `<iframe src="${escapeHtml(meta.embedUrl ?? meta.pageUrl)}" width="${width}" height="${height}" title="${title}" allow="autoplay" style="border:0"></iframe>`,
        width,
        height,
        thumbnail_url: meta.imageUrl,
        thumbnail_width: 1200,
        thumbnail_height: 630,
      };
    },
  );
}
