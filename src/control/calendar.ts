import ical, { ICalCalendarMethod, ICalEventStatus, type ICalEventData } from 'ical-generator';
import type { SpaceSnapshot } from './snapshots.ts';

/**
 * Spaces as iCalendar (RFC 5545), written by ical-generator (it folds lines, escapes text and formats
 * times as the RFC says): one Space's event for "Add to calendar", and a host's feed that calendar apps
 * subscribe to. An event's UID is the Space's, and its SEQUENCE the Space's version, so a calendar
 * that imported it once updates it (a moved start, a cancellation) instead of adding another.
 */

/** How long an event lasts in a calendar while nobody knows when the Space will end. */
export const ASSUMED_LENGTH_MS = 60 * 60_000;

export interface CalendarContext {
  /** The public base URL of the web app, without a trailing slash (e.g. https://amphi.example). */
  readonly baseUrl: string;
  readonly nowMs: number;
}

/** The link a calendar event carries: the live or upcoming Space's page, or an ended one's replay. */
export function spacePageUrl(snap: SpaceSnapshot, baseUrl: string): string {
  const page = snap.space.state === 'ended' ? 'r' : 's';
  return `${baseUrl}/${page}/${snap.space.id}`;
}

/**
 * The event of one Space. Scheduled: at its start, an hour long. Live: from when it went live, an hour
 * or until a quarter of an hour from now, whichever is later. Ended: as it ran; one that ended without
 * going live is CANCELLED at the time it was scheduled for.
 */
export function spaceEvent(snap: SpaceSnapshot, ctx: CalendarContext): ICalEventData {
  const s = snap.space;
  const url = spacePageUrl(snap, ctx.baseUrl);
  const planned = s.scheduledStart ?? s.createdAt;
  const start = s.startedAt ?? planned;
  const end =
    s.state === 'ended' && s.startedAt !== null && s.endedAt !== null
      ? Math.max(s.endedAt, start)
      : s.state === 'live'
        ? Math.max(start + ASSUMED_LENGTH_MS, ctx.nowMs + ASSUMED_LENGTH_MS / 4)
        : start + ASSUMED_LENGTH_MS;
  const cancelled = s.state === 'ended' && s.startedAt === null;
  return {
    id: `${s.id}@amphi`,
    sequence: s.version,
    stamp: new Date(ctx.nowMs),
    start: new Date(start),
    end: new Date(end),
    summary: s.title,
    description: `${stateLine(snap)} Hosted by @${snap.hostHandle} on Amphi.\n${url}`,
    url,
    status: cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  };
}

function stateLine(snap: SpaceSnapshot): string {
  switch (snap.space.state) {
    case 'scheduled':
      return 'A live audio Space: listen in the browser, no app needed.';
    case 'live':
      return 'Live now.';
    case 'ended':
      return snap.space.startedAt === null ? 'Cancelled.' : 'Ended: the replay is at the link.';
  }
}

/** An iCalendar file of these Spaces, named `name`. */
export function calendarFile(name: string, snaps: readonly SpaceSnapshot[], ctx: CalendarContext): string {
  const calendar = ical({
    name,
    prodId: { company: 'Amphi', product: 'Amphi', language: 'EN' },
    method: ICalCalendarMethod.PUBLISH,
    // How often a subscribed calendar should look again (REFRESH-INTERVAL / X-PUBLISHED-TTL).
    ttl: 3600,
  });
  for (const snap of snaps) calendar.createEvent(spaceEvent(snap, ctx));
  return calendar.toString();
}
