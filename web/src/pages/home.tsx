import { useEffect, useState } from 'preact/hooks';
import { api, type Account, type Space } from '../api.ts';
import { RemindToggle } from '../components/remind-toggle.tsx';
import { useMe } from '../session.ts';

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

export function HomePage() {
  const live = useSpaces('live');
  const scheduled = useSpaces('scheduled');
  const ended = useSpaces('ended');
  const me = useMe();
  const reminded = useReminders(me);
  const verified = new URLSearchParams(location.search).get('email') === 'verified'; // from the link in the e-mail
  return (
    <>
      {verified && (
        <p role="status" class="notice">
          Your e-mail address is confirmed: reminders will reach it.
        </p>
      )}
      <section>
        <h1>Live now</h1>
        {live.length === 0 ? <p class="muted">Nobody is live right now.</p> : null}
        <ul class="cards">
          {live.map((s) => (
            <li key={s.id} class="card">
              <span class="badge live">Live</span> <a href={`/s/${s.id}`}>{s.title}</a>
              <p class="muted">
                @{s.host.handle} · {s.listenerCount} listening · {s.stage.length} on stage
              </p>
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h2>Scheduled</h2>
        {scheduled.length === 0 ? <p class="muted">Nothing scheduled.</p> : null}
        <ul class="cards">
          {scheduled.map((s) => (
            <li key={s.id} class="card">
              <a href={`/s/${s.id}`}>{s.title}</a>
              <p class="muted">
                @{s.host.handle} · {s.scheduledStart === null ? 'starting soon' : new Date(s.scheduledStart).toLocaleString()} ·{' '}
                {s.reminderCount} reminded
              </p>
              {me !== null && me !== undefined && <RemindToggle id={s.id} reminded={reminded.has(s.id)} />}
            </li>
          ))}
        </ul>
      </section>
      <section>
        <h2>Recent replays</h2>
        <ul class="cards">
          {ended
            .filter((s) => s.replay.available)
            .map((s) => (
              <li key={s.id} class="card">
                <a href={`/r/${s.id}`}>{s.title}</a>
                <p class="muted">
                  @{s.host.handle} · {Math.round((s.replay.durationSeconds ?? 0) / 60)} min
                </p>
              </li>
            ))}
        </ul>
      </section>
    </>
  );
}
