import { useEffect, useRef } from 'preact/hooks';
import { useListening, type Listening } from './use-listening.ts';
import { useSpace, type SpaceModel } from './use-space.ts';

/**
 * A Space and its listener together, as a page plays it: the player recovers by itself only while
 * the room state says live, stops when the Space ends (the page still follows it to its replay), and
 * a listener waiting at the doors starts playing the moment it goes live.
 */
export function useSpaceListening(id: string, report: (message: string) => void): SpaceModel & { listening: Listening } {
  const live = useRef(true);
  /** Whether it went live: before, a listener who plays waits at the doors and starts by itself. */
  const started = useRef(false);
  const listening = useListening(
    id,
    report,
    () => live.current,
    () => started.current,
  );
  const model = useSpace(id, listening.grants);
  const status = model.room?.status;
  live.current = status !== 'ended';
  started.current = status !== undefined && status !== 'scheduled';
  useEffect(() => {
    // The program is over; the page still follows the room to the replay. Someone still at the doors
    // (the Space ended without going live) is let go.
    if (status === 'ended') {
      if (listening.atDoors) listening.stop();
      else listening.finish();
    }
    if (status === 'live') listening.started(); // those waiting at the doors start playing now
  }, [status]);
  return { ...model, listening };
}
