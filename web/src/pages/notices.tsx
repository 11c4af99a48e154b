import { useEffect, useState } from 'preact/hooks';
import { api, type ReportNotice } from '../api.ts';
import { strings } from '../strings.ts';

const t = strings.notices;
type Notices = { statements: ReportNotice[]; myReports: ReportNotice[] };

function NoticeItem({ n, mine }: { n: ReportNotice; mine: boolean }) {
  const reasons = strings.report.reasons as Record<string, string>;
  return (
    <li class="card notice-card">
      <p>
        <strong>{n.decision === null ? t.open : (t.decision[n.decision] ?? n.decision)}</strong>
        <span class="muted small"> · {new Date(n.decidedAt ?? n.createdAt).toLocaleString()}</span>
      </p>
      <p class="muted">
        {t.about(n.kind, reasons[n.reason] ?? n.reason)}
        {n.spaceId !== null && (
          <>
            {' '}
            (<a href={`/s/${n.spaceId}`}>{n.spaceId}</a>)
          </>
        )}
      </p>
      {n.statement !== null && (
        <p>
          <span class="muted">{t.reasonsLabel}</span>
          {n.statement}
        </p>
      )}
      {mine && n.details !== '' && <blockquote>{n.details}</blockquote>}
    </li>
  );
}

/** Decisions about the signed-in account with their statements of reasons, and the outcome of its reports. */
export function NoticesPage() {
  const [notices, setNotices] = useState<Notices | null>();
  useEffect(() => {
    void api.GET('/api/me/notices', { params: { query: { limit: 50 } } }).then(({ data }) => setNotices(data ?? null));
  }, []);
  if (notices === undefined) return <p class="loading">{strings.common.loading}</p>;
  if (notices === null)
    return (
      <p>
        <a href="/signin?next=/notices">{strings.common.signIn}</a>
      </p>
    );
  return (
    <div class="notices">
      <h1>{t.title}</h1>
      <section>
        <h2>{t.statements}</h2>
        {notices.statements.length === 0 && <p class="muted empty">{t.noStatements}</p>}
        <ul class="cards">
          {notices.statements.map((n) => (
            <NoticeItem key={n.id} n={n} mine={false} />
          ))}
        </ul>
      </section>
      <section>
        <h2>{t.myReports}</h2>
        {notices.myReports.length === 0 && <p class="muted empty">{t.noReports}</p>}
        <ul class="cards">
          {notices.myReports.map((n) => (
            <NoticeItem key={n.id} n={n} mine />
          ))}
        </ul>
      </section>
    </div>
  );
}
