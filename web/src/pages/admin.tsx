import { useEffect, useState } from 'preact/hooks';
import { api, errorOf, type QueuedReport } from '../api.ts';
import { AuditLog } from '../components/audit-log.tsx';
import { field } from '../forms.ts';
import { strings } from '../strings.ts';
import { Alert, Status } from '../components/messages.tsx';

const t = strings.admin;
const DECISIONS = Object.keys(t.choices) as (keyof typeof t.choices)[];

/** One open report and the form that decides it, with the statement of reasons the reported party reads. */
function ReportCard({ report, decided }: { report: QueuedReport; decided: (message: string) => void }) {
  const [error, setError] = useState('');
  const decide = async (event: SubmitEvent) => {
    event.preventDefault();
    const decision = field(event.currentTarget, 'decision') as (typeof DECISIONS)[number];
    const statement = field(event.currentTarget, 'statement');
    const res = await api.POST('/api/admin/reports/{id}/decision', {
      params: { path: { id: report.id } },
      body: { decision, statement },
    });
    if (res.data === undefined) setError(errorOf(res.error)?.message ?? String(res.response.status));
    else decided(t.decided);
  };
  const reasons = strings.report.reasons as Record<string, string>;
  return (
    <li class="card report-card">
      <p>
        <strong>{strings.notices.about(report.kind, reasons[report.reason] ?? report.reason)}</strong>
      </p>
      <p class="muted small">
        {new Date(report.createdAt).toLocaleString()} · {t.reporter(`@${report.reporter.handle}`)} · {t.subject}:{' '}
        <a href={`/@${report.subject.handle}`}>@{report.subject.handle}</a>
        {report.spaceId !== null && (
          <>
            {' '}
            · <a href={`/s/${report.spaceId}`}>{report.spaceId}</a>
          </>
        )}
      </p>
      {report.details !== '' && <blockquote>{report.details}</blockquote>}
      <form onSubmit={(e) => void decide(e)}>
        <label>
          {t.decision}
          <select name="decision">
            {DECISIONS.map((d) => (
              <option key={d} value={d}>
                {t.choices[d]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.statement}
          <textarea name="statement" required maxLength={2000} rows={3} />
        </label>
        <Alert text={error} />
        <button type="submit" class="primary">
          {t.decide}
        </button>
      </form>
    </li>
  );
}

/** The operators' page: the open reports, oldest first, each to decide; the operator-wide audit log. */
export function AdminPage() {
  const [reports, setReports] = useState<QueuedReport[] | null>();
  const [notice, setNotice] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    void api.GET('/api/admin/reports', { params: { query: { status: 'open', limit: 50 } } }).then(({ data }) => {
      if (alive) setReports(data?.reports ?? null);
    });
    return () => {
      alive = false;
    };
  }, [tick]);
  if (reports === undefined) return <p class="loading">{strings.common.loading}</p>;
  if (reports === null) return <p class="empty">{t.only}</p>;
  const audit = async (offset: number) => (await api.GET('/api/admin/audit', { params: { query: { limit: 30, offset } } })).data;
  return (
    <div class="admin">
      <h1>{t.title}</h1>
      <Status text={notice} />
      <section>
        <h2>{t.queue}</h2>
        {reports.length === 0 && <p class="muted empty">{t.empty}</p>}
        <ul class="cards">
          {reports.map((r) => (
            <ReportCard
              key={r.id}
              report={r}
              decided={(m) => {
                setNotice(m);
                setTick((n) => n + 1);
              }}
            />
          ))}
        </ul>
      </section>
      <AuditLog title={t.audit} source={`admin${tick}`} load={audit} />
    </div>
  );
}
