import { useEffect, useState } from 'preact/hooks';
import type { AuditEntry } from '../api.ts';
import { strings } from '../strings.ts';

const t = strings.moderation;

/** One page of an audit log and where the next starts (`nextOffset`), as the API answers. */
type Load = (offset: number) => Promise<{ entries: AuditEntry[]; nextOffset: number | null } | undefined>;

/**
 * An audit log, newest first: who did what to whom, when. Re-read every `refreshMs` (the first page)
 * and paged with "Show more". Used for one Space (host and co-hosts) and operator-wide (admins).
 */
export function AuditLog({
  title,
  source,
  load,
  refreshMs = 5000,
}: {
  title: string;
  source: string;
  load: Load;
  refreshMs?: number;
}) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  useEffect(() => {
    let alive = true;
    const first = async () => {
      const page = await load(0);
      if (!alive || page === undefined) return;
      setEntries(page.entries);
      setNext(page.nextOffset);
    };
    void first();
    const timer = setInterval(() => void first(), refreshMs);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [source]); // `load` is new on each render; `source` names what it reads
  const more = async () => {
    if (next === null) return;
    const page = await load(next);
    if (page === undefined) return;
    setEntries((e) => [...e, ...page.entries.filter((n) => !e.some((o) => o.id === n.id))]);
    setNext(page.nextOffset);
  };
  return (
    <section class="audit" aria-label={title}>
      <h3>{title}</h3>
      {entries.length === 0 ? <p class="muted">{t.noAudit}</p> : null}
      {/* Scrolls once long: focusable, so a keyboard can scroll it too. */}
      <ol class="list audit-list" tabIndex={0} aria-label={title}>
        {entries.map((e) => (
          <li key={e.id} class="list-row">
            <time class="muted small" dateTime={e.at}>
              {new Date(e.at).toLocaleTimeString()}
            </time>
            <span class="grow">
              {t.auditLine(e.actor.handle, e.action, e.target === null ? null : (e.target.handle ?? e.target.id))}
              {e.detail !== null && e.action !== 'settings' && <span class="muted small"> · {e.detail}</span>}
            </span>
          </li>
        ))}
      </ol>
      {next !== null && (
        <button type="button" class="secondary" onClick={() => void more()}>
          {t.more}
        </button>
      )}
    </section>
  );
}
