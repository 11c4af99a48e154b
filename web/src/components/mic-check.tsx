import { useState } from 'preact/hooks';
import { meter } from '../audio.ts';
import { strings } from '../strings.ts';

/** The host's microphone check: a live level meter before going live. */
export function MicCheck() {
  const [level, setLevel] = useState<number>();
  const start = async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const read = meter(stream);
    const timer = setInterval(() => setLevel(read()), 100);
    setTimeout(() => {
      clearInterval(timer);
      for (const t of stream.getTracks()) t.stop();
    }, 10_000);
  };
  return (
    <div class="miccheck">
      <button type="button" class="secondary" onClick={() => void start()}>
        {strings.host.checkMic}
      </button>
      {level !== undefined && <meter aria-label={strings.host.micLevel} min={0} max={1} value={level} />}
    </div>
  );
}
