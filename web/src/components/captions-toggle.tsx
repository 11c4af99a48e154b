import { useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { setCaptions } from '../captions.ts';
import { strings } from '../strings.ts';
import { Alert, Status } from './messages.tsx';

const t = strings.host;

/**
 * The host's (or a co-host's) live captions switch: `on` as the room state last said (unknown to a
 * host who does not follow it), then as the server answered. Refusals (no recogniser here, too many
 * Spaces captioned already) are shown as an alert.
 */
export function CaptionsToggle({ spaceId, on: seen }: { spaceId: string; on: boolean | undefined }) {
  const [answered, setAnswered] = useState<boolean>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const on = answered ?? seen ?? false;
  const toggle = async () => {
    setBusy(true);
    try {
      setAnswered((await setCaptions(spaceId, !on)).on);
      setError('');
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="captions-toggle">
      <h3>{strings.captions.title}</h3>
      <Status text={t.captionsState(on)} />
      <Alert text={error} />
      <button type="button" disabled={busy} onClick={() => void toggle()}>
        {on ? t.captionsOff : t.captionsOn}
      </button>
    </div>
  );
}
