import type { Spaces } from '../control/spaces.ts';
import { AmphiError } from '../errors.ts';
import type { StageAuthority } from '../stage/plane.ts';

/** The embedded stage asks the control plane directly (its cached snapshot): no network hop. */
export function stageAuthority(spaces: Spaces): StageAuthority {
  return {
    async standing(spaceId, accountId) {
      try {
        const member = await spaces.stageStanding(spaceId, accountId);
        return { ok: true, muted: member.muted };
      } catch (error) {
        if (error instanceof AmphiError) return { ok: false, code: error.code };
        throw error;
      }
    },
  };
}
