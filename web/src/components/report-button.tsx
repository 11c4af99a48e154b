import { useState } from 'preact/hooks';
import { api, errorOf, type ReportBody } from '../api.ts';
import { field } from '../forms.ts';
import { strings } from '../strings.ts';
import { Alert } from './messages.tsx';

const t = strings.report;
const REASONS = Object.keys(t.reasons) as (keyof typeof t.reasons)[];

/**
 * "Report": a disclosure with a reason and optional details, sent to the operators' queue. What
 * happens next reaches the reporter under Notices (the outcome) and the reported party (a statement
 * of reasons), so the button says so once sent.
 */
export function ReportButton(props: {
  readonly target: Omit<ReportBody, 'reason' | 'details'>;
  readonly label?: string;
  readonly onSent?: (message: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  const send = async (event: SubmitEvent) => {
    event.preventDefault();
    const details = field(event.currentTarget, 'details').trim();
    const body = {
      ...props.target,
      reason: field(event.currentTarget, 'reason') as ReportBody['reason'],
      ...(details === '' ? {} : { details }),
    };
    const res = await api.POST('/api/reports', { body });
    if (res.response.status !== 201) {
      setError(errorOf(res.error)?.message ?? String(res.response.status));
      return;
    }
    setOpen(false);
    setError('');
    props.onSent?.(t.sent);
  };
  const label = props.label ?? t.open;
  if (!open)
    return (
      <button type="button" class="link report" onClick={() => setOpen(true)}>
        {label}
      </button>
    );
  return (
    <form class="card report-form" onSubmit={(e) => void send(e)} aria-label={label}>
      <label>
        {t.reason}
        <select name="reason" required>
          {REASONS.map((r) => (
            <option key={r} value={r}>
              {t.reasons[r]}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t.details}
        <textarea name="details" maxLength={1000} rows={3} />
      </label>
      <Alert text={error} />
      <div class="actions">
        <button type="submit" class="danger">
          {t.send}
        </button>
        <button type="button" class="secondary" onClick={() => setOpen(false)}>
          {strings.common.cancel}
        </button>
      </div>
    </form>
  );
}
