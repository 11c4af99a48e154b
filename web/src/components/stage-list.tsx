import type { RoomStateView } from '../../../src/shared/room-state.ts';
import { strings } from '../strings.ts';
import { Avatar } from './avatar.tsx';

const t = strings.stage;

/** A microphone with a stroke through it: this speaker is muted. */
function MutedIcon() {
  return (
    <svg class="muted-icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
      <path
        d="M12 3a3 3 0 0 0-3 3v5a3 3 0 0 0 5.1 2.1M15 9.3V6a3 3 0 0 0-5.7-1.3M19 11a7 7 0 0 1-1.2 3.9M5 11a7 7 0 0 0 11.3 5.5M12 18v3M3 3l18 18"
        fill="none"
        stroke="currentColor"
        stroke-width="2"
        stroke-linecap="round"
      />
    </svg>
  );
}

/** Who is on stage, as a grid of tiles: their avatar (ringed while they speak), their role, whether muted. */
export function StageList({ stage }: { stage: RoomStateView['stage'] }) {
  return (
    <section class="stage-section" aria-labelledby="stage-heading">
      <h2 id="stage-heading">{t.title}</h2>
      {stage.length === 0 && <p class="muted">{t.empty}</p>}
      <ul class="stage">
        {stage.map((m) => (
          <li key={m.id} class={m.speaking ? 'speaking' : ''}>
            <Avatar handle={m.handle} size="lg" speaking={m.speaking} />
            <span class="stage-name">@{m.handle}</span>
            <span class="stage-meta">
              <span class={`role role-${m.role}`}>{t.roles[m.role]}</span>
              {m.muted && (
                <span class="stage-muted">
                  <MutedIcon />
                  {m.mutedByHost ? t.mutedByHost : t.muted}
                </span>
              )}
            </span>
            {m.speaking && <span class="sr-only">{t.speaking}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
