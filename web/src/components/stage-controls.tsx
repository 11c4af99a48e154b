import { useState } from 'preact/hooks';
import type { RoomStateView } from '../../../src/shared/room-state.ts';
import { api, unwrap, type Account, type Act, type Relation } from '../api.ts';
import { joinStage, type StageConnection } from '../whip.ts';

export interface StageSession {
  /** The caller's WHIP connection while they are on stage. */
  readonly connection: StageConnection | undefined;
  readonly join: () => Promise<void>;
  readonly leave: (toAudience: boolean) => Promise<void>;
}

/**
 * Being on stage: a stage credential, the microphone, a WHIP connection. On stage you hear the
 * others directly with low latency, so the listener's player is stopped first (`beforeJoin`).
 */
export function useStageSession(
  id: string,
  me: Account | null | undefined,
  act: Act,
  beforeJoin: () => void,
  report: (message: string) => void,
): StageSession {
  const [connection, setConnection] = useState<StageConnection>();
  const join = async () => {
    try {
      const grant = unwrap(await api.POST('/api/spaces/{id}/stage', { params: { path: { id } } }));
      const microphone = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      beforeJoin();
      setConnection(await joinStage(grant.whipUrl, grant.token, microphone));
    } catch (e) {
      report(e instanceof Error ? e.message : String(e));
    }
  };
  const leave = async (toAudience: boolean) => {
    await connection?.close();
    setConnection(undefined);
    if (toAudience && me)
      await act(() => api.POST('/api/spaces/{id}/members/{accountId}/audience', { params: { path: { id, accountId: me.id } } }));
  };
  return { connection, join, leave };
}

interface StageControlsProps {
  readonly id: string;
  readonly room: RoomStateView;
  readonly relation: Relation;
  readonly me: Account | null | undefined;
  readonly session: StageSession;
  readonly act: Act;
}

/**
 * The caller's way to and on the stage: ask to speak (or cancel), answer an invitation, join with
 * the microphone, mute, leave. Being on stage is read from the room state (it reaches a playing
 * listener through the edge); requests and invitations from the relation.
 */
export function StageControls({ id, room, relation, me, session, act }: StageControlsProps) {
  const path = { params: { path: { id } } };
  const mine = me ? room.stage.find((m) => m.id === me.id) : undefined;
  const offStage = mine === undefined;
  const stage = session.connection;
  return (
    <div class="actions">
      {offStage && relation.role === 'listener' && !relation.requestPending && room.status === 'live' && (
        <button type="button" onClick={() => void act(() => api.POST('/api/spaces/{id}/requests', path))}>
          ✋ Request to speak
        </button>
      )}
      {offStage && relation.requestPending && (
        <button type="button" onClick={() => void act(() => api.DELETE('/api/spaces/{id}/requests/me', path))}>
          Cancel request
        </button>
      )}
      {offStage && relation.invited && (
        <>
          <button type="button" onClick={() => void act(() => api.POST('/api/spaces/{id}/invitations/me/accept', path))}>
            Accept invitation to speak
          </button>
          <button type="button" onClick={() => void act(() => api.POST('/api/spaces/{id}/invitations/me/decline', path))}>
            Decline
          </button>
        </>
      )}
      {mine !== undefined && stage === undefined && (
        <button type="button" class="primary" onClick={() => void session.join()}>
          🎙 Join the stage (microphone)
        </button>
      )}
      {mine !== undefined && stage !== undefined && (
        <>
          <button
            type="button"
            aria-pressed={mine.muted}
            onClick={() => {
              stage.setMuted(!mine.muted);
              const route = mine.muted
                ? '/api/spaces/{id}/members/{accountId}/unmute'
                : '/api/spaces/{id}/members/{accountId}/mute';
              void act(() => api.POST(route, { params: { path: { id, accountId: mine.id } } }));
            }}
          >
            {mine.muted ? 'Unmute' : 'Mute'}
          </button>
          <button type="button" onClick={() => void session.leave(mine.role !== 'host')}>
            Leave the stage
          </button>
        </>
      )}
    </div>
  );
}
