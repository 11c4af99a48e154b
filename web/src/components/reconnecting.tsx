import { strings } from '../strings.ts';

/**
 * Says that a connection is being restored (`attempt` set) and says nothing otherwise. The live
 * region is always in the page, empty when all is well, so that screen readers announce its words
 * when they appear (a region inserted with its text already in it is often not read).
 */
export function Reconnecting({ what, attempt }: { what: string; attempt: number | undefined }) {
  return (
    <p role="status" aria-live="polite" class="notice">
      {attempt === undefined ? '' : strings.player.reconnecting(what, attempt)}
    </p>
  );
}
