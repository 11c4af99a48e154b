import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Space } from '../api.ts';
import { strings } from '../strings.ts';
import { Avatar } from './avatar.tsx';
import { StateBadge, type SpaceState } from './state-badge.tsx';

const t = strings.home;

/** What a list asks `GET /api/spaces` for (besides paging). */
export interface SpaceFilter {
  readonly state?: 'live' | 'scheduled' | 'ended' | undefined;
  readonly q?: string | undefined;
  readonly tag?: string | undefined;
  readonly host?: string | undefined;
}

const PAGE = 12;

/**
 * One paged list of Spaces from the API: the first page (re-read every `refreshMs`, if given), then
 * "Show more" appends the next page (`nextOffset`), so nothing is ever left unreachable.
 */
export function usePagedSpaces(filter: SpaceFilter, refreshMs?: number) {
  const [spaces, setSpaces] = useState<Space[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  const key = JSON.stringify(filter);
  const page = async (offset: number) => {
    const { data } = await api.GET('/api/spaces', { params: { query: { ...filter, limit: PAGE, offset } } });
    return data;
  };
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const data = await page(0);
      if (!alive || data === undefined) return;
      setSpaces(data.spaces);
      setNext(data.nextOffset);
      setLoaded(true);
    };
    void load();
    const timer = refreshMs === undefined ? undefined : setInterval(() => void load(), refreshMs);
    return () => {
      alive = false;
      if (timer !== undefined) clearInterval(timer);
    };
  }, [key]);
  const more = async () => {
    if (next === null) return;
    const data = await page(next);
    if (data === undefined) return;
    setSpaces((s) => [...s, ...data.spaces.filter((n) => !s.some((o) => o.id === n.id))]);
    setNext(data.nextOffset);
  };
  return { spaces, loaded, more: next === null ? undefined : more };
}

/** The state a card shows: a replay once an ended Space has one. */
export function cardState(s: Space): SpaceState {
  if (s.state === 'ended') return s.replay.available ? 'replay' : 'ended';
  return s.state;
}

/** Where a Space's card leads: its replay once there is one, else its page. */
export function spaceHref(s: Space): string {
  return s.state === 'ended' && s.replay.available ? `/r/${s.id}` : `/s/${s.id}`;
}

/** The facts line of a card, by state. */
export function spaceFacts(s: Space): string {
  if (s.state === 'live') return `${t.listening(s.listenerCount)} · ${t.onStage(s.stage.length)}`;
  if (s.state === 'scheduled')
    return `${s.scheduledStart === null ? t.startingSoon : new Date(s.scheduledStart).toLocaleString()} · ${t.reminded(s.reminderCount)}`;
  return s.replay.available
    ? t.minutes(Math.round((s.replay.durationSeconds ?? 0) / 60))
    : new Date(s.endedAt ?? s.createdAt).toLocaleDateString();
}

/** One Space as a card: its host's avatar (and page), its state, its title (the link), its topics, a line of facts. */
export function SpaceCard({ space, children }: { space: Space; children?: ComponentChildren }) {
  const state = cardState(space);
  return (
    <li class={`card space-card state-${state}`}>
      <Avatar handle={space.host.handle} size="md" />
      <div class="space-card-body">
        <p class="space-card-top">
          <StateBadge state={state} />
          <a class="muted" href={`/@${space.host.handle}`}>
            {t.hostedBy(space.host.handle)}
          </a>
        </p>
        <a class="space-card-title" href={spaceHref(space)}>
          {space.title}
        </a>
        {space.tags.length > 0 && (
          <p class="tags">
            {space.tags.map((tag) => (
              <a key={tag} class="badge tag" href={`/?tag=${encodeURIComponent(tag)}`}>
                #{tag}
              </a>
            ))}
          </p>
        )}
        <p class="muted space-card-facts">{spaceFacts(space)}</p>
        {children}
      </div>
    </li>
  );
}

/** A titled, paged list of Spaces; `card` adds per-card controls (e.g. the reminder toggle). */
export function SpaceList(props: {
  readonly title: string;
  readonly level?: 1 | 2;
  readonly filter: SpaceFilter;
  readonly empty: string;
  readonly refreshMs?: number;
  readonly card?: (s: Space) => ComponentChildren;
}) {
  const { spaces, loaded, more } = usePagedSpaces(props.filter, props.refreshMs);
  const Heading = props.level === 1 ? 'h1' : 'h2';
  return (
    <section>
      <Heading>{props.title}</Heading>
      {loaded && spaces.length === 0 ? <p class="muted empty">{props.empty}</p> : null}
      <ul class="cards">
        {spaces.map((s) => (
          <SpaceCard key={s.id} space={s}>
            {props.card?.(s)}
          </SpaceCard>
        ))}
      </ul>
      {more !== undefined && (
        <button type="button" class="secondary" onClick={() => void more()}>
          {strings.search.more}
        </button>
      )}
    </section>
  );
}
