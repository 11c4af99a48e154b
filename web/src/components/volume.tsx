import { useEffect, useState } from 'preact/hooks';
import { setVolume as setOutputVolume } from '../audio.ts';
import { strings } from '../strings.ts';

const KEY = 'amphi.volume';

/** The volume the listener chose last time (0..1), 1 at first or when the browser keeps nothing. */
function remembered(): number {
  try {
    const value = Number(localStorage.getItem(KEY) ?? '1');
    return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 1;
  } catch {
    return 1;
  }
}

function remember(volume: number): void {
  try {
    localStorage.setItem(KEY, String(volume));
  } catch {
    // Storage refused (private mode, a sandboxed frame): the volume holds for this page only.
  }
}

/** A speaker, with waves while the volume is up. */
function SpeakerIcon({ volume }: { volume: number }) {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d="M4 9h4l5-4v14l-5-4H4z" fill="currentColor" />
      {volume > 0 && (
        <path d="M16 9.5a3.5 3.5 0 0 1 0 5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
      )}
      {volume > 0.5 && (
        <path d="M18.5 7a7 7 0 0 1 0 10" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
      )}
      {volume === 0 && <path d="M16 9l5 6M21 9l-5 6" stroke="currentColor" stroke-width="2" stroke-linecap="round" />}
    </svg>
  );
}

/**
 * The "Volume" slider: sets the volume of what the page plays (the player's element goes through the
 * page's Web Audio graph, whose output gain this is), and remembers it for the next visit.
 */
export function VolumeControl() {
  const [volume, setVolume] = useState(remembered);
  useEffect(() => setOutputVolume(volume), [volume]);
  return (
    <label class="volume">
      <SpeakerIcon volume={volume} />
      <span class="sr-only">{strings.player.volume}</span>
      <input
        type="range"
        min={0}
        max={1}
        step={0.05}
        value={volume}
        aria-valuetext={`${Math.round(volume * 100)}%`}
        style={{ '--fill': `${volume * 100}%` }}
        onInput={(e) => {
          const value = Number((e.target as HTMLInputElement).value);
          setVolume(value);
          remember(value);
        }}
      />
    </label>
  );
}
