import type { Spaces } from '../control/spaces.ts';
import { AmphiError } from '../errors.ts';
import type { StageAuthority } from '../stage/plane.ts';

/**
 * The embedded stage asks the control plane directly (its cached snapshot): no network hop. `live`
 * tells the stage whether to open the Space's room now or hold the session until the Space starts.
 */
export function stageAuthority(spaces: Spaces): StageAuthority {
  return {
    async standing(spaceId, accountId) {
      try {
        const member = await spaces.stageStanding(spaceId, accountId);
        const { space } = await spaces.snapshot(spaceId); // cached: stageStanding just read it
        return { ok: true, muted: member.muted, live: space.state === 'live' };
      } catch (error) {
        if (error instanceof AmphiError) return { ok: false, code: error.code };
        throw error;
      }
    },
  };
}
