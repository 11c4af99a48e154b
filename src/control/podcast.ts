import { Feed } from 'feed';
import { spacePageUrl } from './calendar.ts';
import type { SpaceSnapshot } from './snapshots.ts';

/**
 * A host's replays as a podcast: RSS 2.0 with the iTunes tags, written by the `feed` library (XML
 * escaping, RFC 822 dates, the itunes namespace). Each episode's enclosure is the server-made
 * download (`GET /api/spaces/:id/recording.m4a`, Opus in MP4), with its size and length.
 */
export interface Episode {
  readonly snap: SpaceSnapshot;
  readonly sizeBytes: number;
  readonly durationMs: number;
}

export function podcastFeed(o: {
  hostHandle: string;
  episodes: readonly Episode[];
  baseUrl: string;
  selfUrl: string;
  nowMs: number;
}): string {
  const feed = new Feed({
    id: o.selfUrl,
    title: `@${o.hostHandle} on Amphi`,
    description: `Replays of the live audio Spaces @${o.hostHandle} hosted on Amphi.`,
    link: `${o.baseUrl}/`,
    language: 'en',
    generator: 'Amphi',
    ttl: 60,
    podcast: true,
    author: { name: `@${o.hostHandle}` },
    feedLinks: { rss: o.selfUrl },
    copyright: `@${o.hostHandle}`,
    updated: new Date(o.nowMs),
  });
  for (const { snap, sizeBytes, durationMs } of o.episodes) {
    const s = snap.space;
    const link = spacePageUrl(snap, o.baseUrl);
    feed.addItem({
      title: s.title,
      id: s.id,
      guid: s.id,
      link,
      date: new Date(s.endedAt ?? s.createdAt),
      description: `A live audio Space hosted by @${snap.hostHandle}. ${link}`,
      audio: {
        url: `${o.baseUrl}/api/spaces/${s.id}/recording.m4a`,
        type: 'audio/mp4',
        length: sizeBytes,
        duration: Math.round(durationMs / 1000),
      },
    });
  }
  return feed.rss2();
}
