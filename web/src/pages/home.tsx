import { useEffect, useState } from 'preact/hooks';
import { api, type Account, type Space } from '../api.ts';
import type { ComponentChildren } from 'preact';
import { Avatar } from '../components/avatar.tsx';
import { RemindToggle } from '../components/remind-toggle.tsx';
import { StateBadge, type SpaceState } from '../components/state-badge.tsx';
import { useMe } from '../session.ts';
import { strings } from '../strings.ts';

const t = strings.home;

function useSpaces(state: 'live' | 'scheduled' | 'ended'): Space[] {
  const [spaces, setSpaces] = useState<Space[]>([]);
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const { data } = await api.GET('/api/spaces', { params: { query: { state, limit: 20 } } });
      if (alive && data !== undefined) setSpaces(data.spaces);
    };
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [state]);
  return spaces;
}

/** The scheduled Spaces the signed-in account set reminders for (empty when signed out). */
function useReminders(me: Account | null | undefined): ReadonlySet<string> {
  const [ids, setIds] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => {
    if (me === null || me === undefined) {
      setIds(new Set());
      return;
    }
    let alive = true;
    void api.GET('/api/me/reminders').then(({ data }) => {
      if (alive && data !== undefined) setIds(new Set(data.spaceIds));
    });
    return () => {
      alive = false;
    };
  }, [me?.id]);
  return ids;
}

/** One Space as a card: its host's avatar, its state, its title (the link), and a line of facts. */
function SpaceCard({ space, state, href, facts, children }: SpaceCardProps) {
  return (
    <li class={`card space-card state-${state}`}>
      <Avatar handle={space.host.handle} size="md" />
      <div class="space-card-body">
        <p class="space-card-top">
          <StateBadge state={state} />
          <span class="muted">{t.hostedBy(space.host.handle)}</span>
        </p>
        <a class="space-card-title" href={href}>
          {space.title}
        </a>
        <p class="muted space-card-facts">{facts}</p>
        {children}
      </div>
    </li>
  );
}

interface SpaceCardProps {
  readonly space: Space;
  readonly state: SpaceState;
  readonly href: string;
  readonly facts: string;
  readonly children?: ComponentChildren;
}

export function HomePage() {
  const live = useSpaces('live');
  const scheduled = useSpaces('scheduled');
  const ended = useSpaces('ended');
  const me = useMe();
  const reminded = useReminders(me);
  const verified = new URLSearchParams(location.search).get('email') === 'verified'; // from the link in the e-mail
  const replays = ended.filter((s) => s.replay.available);
  return (
    <div class="home">
      {verified && (
        <p role="status" class="notice">
          {t.emailVerified}
        </p>
      )}
      <section>
        <h1>{t.liveNow}</h1>
        {live.length === 0 ? <p class="muted empty">{t.nobodyLive}</p> : null}
        <ul class="cards">
          {live.map((s) => (
            <SpaceCard
              key={s.id}
              space={s}
              state="live"
              href={`/s/${s.id}`}
              facts={`${t.listening(s.listenerCount)} · ${t.onStage(s.stage.length)}`}
            />
          ))}
        </ul>
      </section>
      <section>
        <h2>{t.scheduled}</h2>
        {scheduled.length === 0 ? <p class="muted empty">{t.nothingScheduled}</p> : null}
        <ul class="cards">
          {scheduled.map((s) => (
            <SpaceCard
              key={s.id}
              space={s}
              state="scheduled"
              href={`/s/${s.id}`}
              facts={`${s.scheduledStart === null ? t.startingSoon : new Date(s.scheduledStart).toLocaleString()} · ${t.reminded(s.reminderCount)}`}
            >
              {me !== null && me !== undefined && <RemindToggle id={s.id} reminded={reminded.has(s.id)} />}
            </SpaceCard>
          ))}
        </ul>
      </section>
      <section>
        <h2>{t.recentReplays}</h2>
        {replays.length === 0 ? <p class="muted empty">{t.noReplays}</p> : null}
        <ul class="cards">
          {replays.map((s) => (
            <SpaceCard
              key={s.id}
              space={s}
              state="replay"
              href={`/r/${s.id}`}
              facts={t.minutes(Math.round((s.replay.durationSeconds ?? 0) / 60))}
            />
          ))}
        </ul>
      </section>
    </div>
  );
}
