import { useEffect, useState } from 'preact/hooks';
import { api, errorOf } from '../api.ts';
import { strings } from '../strings.ts';

/**
 * "Remind me" as a toggle button (`aria-pressed`): it shows whether a reminder is set and undoes it on a
 * second press. The state shown is the server's answer, never a guess: a refused change says why.
 */
export function RemindToggle({ id, reminded, onChange }: { id: string; reminded: boolean; onChange?: (on: boolean) => void }) {
  const [on, setOn] = useState(reminded);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  useEffect(() => setOn(reminded), [reminded]); // the parent learned something newer
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    const params = { params: { path: { id } } };
    const res = on ? await api.DELETE('/api/spaces/{id}/reminder', params) : await api.PUT('/api/spaces/{id}/reminder', params);
    setBusy(false);
    if (!res.response.ok) {
      setError(errorOf(res.error)?.message ?? strings.remind.failed(res.response.status));
      return;
    }
    setOn(!on);
    onChange?.(!on);
  };
  return (
    <span class="remind">
      <button
        type="button"
        class={on ? 'secondary toggled' : 'secondary'}
        aria-pressed={on}
        disabled={busy}
        onClick={() => void toggle()}
      >
        {on ? strings.remind.set : strings.remind.remindMe}
      </button>
      {on && <span class="muted">{strings.remind.pressAgain}</span>}{' '}
      <a href={`/api/spaces/${encodeURIComponent(id)}/calendar.ics`} download>
        {strings.remind.addToCalendar}
      </a>
      {error !== undefined && (
        <span role="alert" class="error">
          {' '}
          {error}
        </span>
      )}
    </span>
  );
}
