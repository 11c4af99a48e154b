import type { RoomStateView } from '../../../src/shared/room-state.ts';

/** Who is on stage, who is speaking now, who is muted. */
export function StageList({ stage }: { stage: RoomStateView['stage'] }) {
  return (
    <>
      <h2>On stage</h2>
      <ul class="stage">
        {stage.map((m) => (
          <li key={m.id} class={m.speaking ? 'speaking' : ''}>
            <span class="dot" aria-hidden="true" />@{m.handle} <span class="muted">{m.role === 'speaker' ? '' : m.role}</span>
            {m.muted && <span class="muted"> · muted{m.mutedByHost ? ' by host' : ''}</span>}
            {m.speaking && <span class="sr-only"> is speaking</span>}
          </li>
        ))}
      </ul>
    </>
  );
}
