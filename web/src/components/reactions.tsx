import { useEffect, useRef, useState } from 'preact/hooks';
import type { RoomStateView } from '../../../src/shared/room-state.ts';
import { api, type ReactionEmoji } from '../api.ts';
import { strings } from '../strings.ts';

const EMOJI: readonly ReactionEmoji[] = ['👏', '❤️', '😂', '🔥', '💯'];

/** The reaction buttons with their counts; new reactions float up for a moment. */
export function Reactions({ spaceId, room, signedIn }: { spaceId: string; room: RoomStateView; signedIn: boolean }) {
  const [floating, setFloating] = useState<{ key: number; emoji: string }[]>([]);
  const seen = useRef(new Map<string, number>());
  useEffect(() => {
    // New reactions since the last view float up for a moment (at most a few at once).
    const fresh: { key: number; emoji: string }[] = [];
    for (const r of room.reactions) {
      const before = seen.current.get(r.emoji);
      if (before !== undefined && r.count > before) fresh.push({ key: Math.random(), emoji: r.emoji });
      seen.current.set(r.emoji, r.count);
    }
    if (fresh.length === 0) return;
    setFloating((f) => [...f, ...fresh].slice(-6));
    const timer = setTimeout(() => setFloating((f) => f.filter((x) => !fresh.includes(x))), 2000);
    return () => clearTimeout(timer);
  }, [room.reactions]);
  const send = (emoji: ReactionEmoji) =>
    void api.POST('/api/spaces/{id}/reactions', { params: { path: { id: spaceId } }, body: { emoji } });
  return (
    <div class="reactions" role="group" aria-label={strings.reactions.region}>
      <div class="floating" aria-hidden="true">
        {floating.map((f) => (
          <span key={f.key}>{f.emoji}</span>
        ))}
      </div>
      {EMOJI.map((e) => (
        <button
          type="button"
          key={e}
          disabled={!signedIn || room.status !== 'live'}
          onClick={() => send(e)}
          aria-label={strings.reactions.react(e)}
          class="reaction"
        >
          {e} {room.reactions.find((r) => r.emoji === e)?.count ?? ''}
        </button>
      ))}
    </div>
  );
}
