import { useState } from 'preact/hooks';
import { meter } from '../audio.ts';

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
      <button type="button" onClick={() => void start()}>
        Check my microphone
      </button>
      {level !== undefined && <meter aria-label="Microphone level" min={0} max={1} value={level} />}
    </div>
  );
}
