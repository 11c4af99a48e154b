import { Type } from 'typebox';
import { AmphiError } from '../../errors.ts';
import { calendarFile } from '../calendar.ts';
import { podcastFeed } from '../podcast.ts';
import { Handle, errors, SpaceParams } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { attachment } from './recording-routes.ts';

const ICS = 'text/calendar; charset=utf-8';
const Calendar = (description: string) => ({
  description,
  content: { 'text/calendar': { schema: Type.String({ description: 'iCalendar (RFC 5545)' }) } },
});

/** Episodes in a host's podcast feed. */
const PODCAST_EPISODES = 50;

/** How many Spaces of each state a host's feed carries: what is coming, what is on, what just was. */
const FEED = { scheduled: 100, live: 10, ended: 20 } as const;

/**
 * Feeds other apps read. Calendars: `GET /api/spaces/:id/calendar.ics` (one Space, for "Add to
 * calendar") and `GET /api/accounts/by-handle/:handle/calendar.ics` (a host's upcoming, live and recent
 * Spaces, a feed calendar apps subscribe to). A podcast: `GET /api/accounts/by-handle/:handle/replays.rss`. Public, like the Spaces themselves. Links point at `server.publicUrl`,
 * or at the host the request came to when none is configured.
 */
export function feedRoutes(app: App, { plane, config, clock, recordingFiles }: RouteContext): void {
  const baseUrl = (request: { protocol: string; host: string }) =>
    config.server.publicUrl ?? `${request.protocol}://${request.host}`;

  app.get(
    '/api/spaces/:id/calendar.ics',
    {
      schema: {
        operationId: 'getSpaceCalendar',
        tags: ['spaces'],
        summary: 'The Space as a calendar event (iCalendar): its start, title, host and link; updates keep its UID',
        params: SpaceParams,
        response: { 200: Calendar('One VEVENT'), ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const snap = await plane.spaces.snapshot(request.params.id);
      const body = calendarFile(snap.space.title, [snap], { baseUrl: baseUrl(request), nowMs: clock.now() });
      return reply
        .type(ICS)
        .header('cache-control', 'public, max-age=60')
        .header('content-disposition', attachment(snap.space.title, snap.space.id, 'ics'))
        .send(body);
    },
  );

  app.get(
    '/api/accounts/by-handle/:handle/replays.rss',
    {
      schema: {
        operationId: 'getHostPodcast',
        tags: ['accounts'],
        summary: `A host's replays as a podcast (RSS 2.0 with iTunes tags): the ${PODCAST_EPISODES} latest that anyone may listen to, each with its .m4a`,
        params: Type.Object({ handle: Handle }, { additionalProperties: false }),
        response: {
          200: { description: 'RSS 2.0', content: { 'application/rss+xml': { schema: Type.String() } } },
          ...errors(400, 404),
        },
      },
    },
    async (request, reply) => {
      const host = await plane.accounts.findByHandle(request.params.handle);
      if (host === undefined) throw new AmphiError('ACCOUNT_NOT_FOUND');
      const ended = await plane.spaces.list({ state: 'ended', hostId: host.id, limit: PODCAST_EPISODES, offset: 0 });
      // Podcast apps do not sign in: only replays of Spaces open to anonymous listeners, and only those recorded.
      const episodes = [];
      for (const snap of ended.filter((s) => s.space.allowAnonymous && s.space.replayDeletedAt === null)) {
        const file = await recordingFiles?.open(snap.space.id);
        if (file !== undefined) episodes.push({ snap, sizeBytes: file.size, durationMs: file.durationMs });
      }
      const base = baseUrl(request);
      const selfUrl = `${base}/api/accounts/by-handle/${encodeURIComponent(host.handle)}/replays.rss`;
      return reply
        .type('application/rss+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .send(podcastFeed({ hostHandle: host.handle, episodes, baseUrl: base, selfUrl, nowMs: clock.now() }));
    },
  );

  app.get(
    '/api/accounts/by-handle/:handle/calendar.ics',
    {
      schema: {
        operationId: 'getHostCalendar',
        tags: ['accounts'],
        summary: `A host's Spaces as a calendar to subscribe to: up to ${FEED.scheduled} upcoming, ${FEED.live} live and the ${FEED.ended} latest ended`,
        params: Type.Object({ handle: Handle }, { additionalProperties: false }),
        response: { 200: Calendar('A VEVENT per Space'), ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const host = await plane.accounts.findByHandle(request.params.handle);
      if (host === undefined) throw new AmphiError('ACCOUNT_NOT_FOUND');
      const lists = await Promise.all(
        (['live', 'scheduled', 'ended'] as const).map((state) =>
          plane.spaces.list({ state, hostId: host.id, limit: FEED[state], offset: 0 }),
        ),
      );
      const body = calendarFile(`@${host.handle} on Amphi`, lists.flat(), { baseUrl: baseUrl(request), nowMs: clock.now() });
      return reply.type(ICS).header('cache-control', 'public, max-age=300').send(body);
    },
  );
}
