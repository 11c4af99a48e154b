import type { Listening } from '../use-listening.ts';
import { Reconnecting } from './reconnecting.tsx';

interface PlayerProps {
  readonly listening: Listening;
  /** Whether Play is offered (not once the Space ended, nor to someone on stage). */
  readonly canPlay: boolean;
  readonly shareUrl: string;
  readonly report: (message: string) => void;
}

/** The listener's audio element, its buttons (Play, Stop, Share), and a word while it reconnects by itself. */
export function Player({ listening, canPlay, shareUrl, report }: PlayerProps) {
  return (
    <>
      <audio ref={listening.audio} />
      <Reconnecting what="" attempt={listening.reconnecting} />
      <div class="actions">
        {canPlay && listening.grants === undefined && (
          <button type="button" class="primary" onClick={() => void listening.play()}>
            ▶ Play
          </button>
        )}
        {listening.playing && (
          <button type="button" onClick={listening.stop}>
            ■ Stop
          </button>
        )}
        {listening.atDoors && (
          <button type="button" onClick={listening.stop}>
            Leave
          </button>
        )}
        <button type="button" onClick={() => void navigator.clipboard?.writeText(shareUrl).then(() => report('Link copied.'))}>
          Share
        </button>
      </div>
    </>
  );
}
