import { useEffect, useState } from 'preact/hooks';
import { api, type Act } from '../api.ts';
import type { paths } from '../api-types.ts';
import { strings } from '../strings.ts';
import { Avatar } from './avatar.tsx';

const t = strings.moderation;
type Audience = paths['/api/spaces/{id}/audience']['get']['responses'][200]['content']['application/json'];

/**
 * Who listened (host and co-hosts): signed-in listeners by name, searchable and paged, each with
 * Remove (or Unban once removed); anonymous listeners as a count. Re-read every 5 s.
 */
export function AudienceList({ spaceId, act, tick }: { spaceId: string; act: Act; tick: number }) {
  const [q, setQ] = useState('');
  const [limit, setLimit] = useState(20);
  const [audience, setAudience] = useState<Audience>();
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const query = { limit, ...(q.trim() === '' ? {} : { q: q.trim() }) };
      const { data } = await api.GET('/api/spaces/{id}/audience', { params: { path: { id: spaceId }, query } });
      if (alive && data !== undefined) setAudience(data);
    };
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [spaceId, q, limit, tick]);
  const path = (accountId: string) => ({ params: { path: { id: spaceId, accountId } } });
  return (
    <section class="audience" aria-label={t.audience}>
      <h3>{t.audience}</h3>
      {audience !== undefined && <p class="muted">{t.audienceCount(audience.accounts, audience.anonymous)}</p>}
      <label>
        <span class="sr-only">{t.searchAudience}</span>
        <input
          type="search"
          placeholder={t.searchAudience}
          value={q}
          maxLength={40}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        />
      </label>
      {audience?.listeners.length === 0 && <p class="muted">{t.noListeners}</p>}
      <ul class="list">
        {audience?.listeners.map((l) => (
          <li key={l.id} class="list-row">
            <Avatar handle={l.handle} displayName={l.displayName ?? undefined} size="sm" />
            <span class="grow">
              <a href={`/@${l.handle}`}>{l.displayName ?? `@${l.handle}`}</a>
              {l.removed && <span class="badge ended"> {t.removed}</span>}
            </span>
            {l.removed ? (
              <button
                type="button"
                class="secondary small"
                onClick={() =>
                  void act(() =>
                    api.DELETE('/api/spaces/{id}/bans/{subject}', { params: { path: { id: spaceId, subject: l.id } } }),
                  )
                }
              >
                {t.unban(l.handle)}
              </button>
            ) : (
              <button
                type="button"
                class="danger small"
                onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/remove', path(l.id)))}
              >
                {t.remove(l.handle)}
              </button>
            )}
          </li>
        ))}
      </ul>
      {audience?.nextOffset !== null && audience !== undefined && (
        <button type="button" class="secondary" onClick={() => setLimit((n) => Math.min(100, n + 20))}>
          {t.more}
        </button>
      )}
    </section>
  );
}
