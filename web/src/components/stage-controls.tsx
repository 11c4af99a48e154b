import { useEffect, useState } from 'preact/hooks';
import type { RoomStateView } from '../../../src/shared/room-state.ts';
import { api, errorOf, unwrap, type Account, type Act, type Relation } from '../api.ts';
import { Refusal, type LinkStatus } from '../reconnect.ts';
import { Reconnecting } from './reconnecting.tsx';
import { joinStage, type StageConnection, type StageGrant } from '../whip.ts';
import { strings } from '../strings.ts';

export interface StageSession {
  /** The caller's WHIP connection while they are on stage (reconnecting by itself after a drop). */
  readonly connection: StageConnection | undefined;
  /** Set while the connection is being restored: the attempt under way, counting from 1. */
  readonly reconnecting: number | undefined;
  readonly join: () => Promise<void>;
  readonly leave: (toAudience: boolean) => Promise<void>;
}

/**
 * Being on stage: a stage credential, the microphone, a WHIP connection. On stage you hear the
 * others directly with low latency, so the listener's player is stopped first (`beforeJoin`).
 * The connection rides through a server restart by itself (`joinStage`), asking for a fresh
 * credential each time; it stops when the credential is refused (moved to the audience, removed,
 * the Space ended) or when `onStage` turns false (the room state says the caller left the stage).
 */
export function useStageSession(
  id: string,
  me: Account | null | undefined,
  act: Act,
  beforeJoin: () => void,
  report: (message: string) => void,
  onStage: boolean,
): StageSession {
  const [connection, setConnection] = useState<StageConnection>();
  const [reconnecting, setReconnecting] = useState<number>();
  const credential = async (): Promise<StageGrant> => {
    const res = await api.POST('/api/spaces/{id}/stage', { params: { path: { id } } });
    const status = res.response.status;
    // Not allowed any more (signed out, moved to the audience, removed, the Space ended): stop.
    if (status >= 400 && status < 500 && status !== 408 && status !== 429)
      throw new Refusal(errorOf(res.error)?.message ?? `The stage refused (${status})`);
    return unwrap(res);
  };
  const onStatus = (status: LinkStatus) => {
    setReconnecting(status.kind === 'reconnecting' ? status.attempt : undefined);
    if (status.kind !== 'stopped') return;
    setConnection(undefined);
    report(status.reason);
  };
  const join = async () => {
    try {
      const grant = unwrap(await api.POST('/api/spaces/{id}/stage', { params: { path: { id } } }));
      const microphone = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      beforeJoin();
      setConnection(await joinStage(grant, credential, microphone, onStatus));
    } catch (e) {
      report(e instanceof Error ? e.message : String(e));
    }
  };
  const leave = async (toAudience: boolean) => {
    await connection?.close();
    setConnection(undefined);
    setReconnecting(undefined);
    if (toAudience && me)
      await act(() => api.POST('/api/spaces/{id}/members/{accountId}/audience', { params: { path: { id, accountId: me.id } } }));
  };
  useEffect(() => {
    if (onStage || connection === undefined) return;
    // Moved to the audience, removed, or the Space ended: nothing to reconnect to, and the stage
    // closed the session itself.
    void connection.close(false);
    setConnection(undefined);
    setReconnecting(undefined);
  }, [onStage, connection]);
  useEffect(() => () => void connection?.close(), [connection]);
  return { connection, reconnecting, join, leave };
}

const t = strings.stageControls;

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
    <>
      <Reconnecting what={t.toStage} attempt={session.reconnecting} />
      <div class="actions">
        {offStage && relation.role === 'listener' && !relation.requestPending && room.status === 'live' && (
          <button type="button" onClick={() => void act(() => api.POST('/api/spaces/{id}/requests', path))}>
            {t.request}
          </button>
        )}
        {offStage && relation.requestPending && (
          <button type="button" onClick={() => void act(() => api.DELETE('/api/spaces/{id}/requests/me', path))}>
            {t.cancelRequest}
          </button>
        )}
        {offStage && relation.invited && (
          <>
            <button type="button" onClick={() => void act(() => api.POST('/api/spaces/{id}/invitations/me/accept', path))}>
              {t.acceptInvite}
            </button>
            <button type="button" onClick={() => void act(() => api.POST('/api/spaces/{id}/invitations/me/decline', path))}>
              {t.decline}
            </button>
          </>
        )}
        {mine !== undefined && stage === undefined && (
          <button type="button" class="primary" onClick={() => void session.join()}>
            {t.join}
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
              {mine.muted ? t.unmute : t.mute}
            </button>
            <button type="button" onClick={() => void session.leave(mine.role !== 'host')}>
              {t.leave}
            </button>
          </>
        )}
      </div>
    </>
  );
}
