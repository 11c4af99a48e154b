import { useEffect, useRef, useState } from 'preact/hooks';
import { roomStateOf, type RoomStateView } from '../../src/shared/room-state.ts';
import { api, type Relation, type Space } from './api.ts';
import type { ListenerGrant } from './listener-grant.ts';
import { followRoomState } from './room-state.ts';
import { useMe } from './session.ts';

export interface SpaceModel {
  /** The Space as last loaded from the API: its fixed parts (id, host, schedule). */
  readonly space: Space | undefined;
  /** What changes while it runs (stage, status, listeners, reactions): read this, not `space`. */
  readonly room: RoomStateView | undefined;
  /** The server's shedding level while following the edge (0 = nothing shed). */
  readonly degradation: number;
  /** The signed-in caller's relation to the Space. */
  readonly relation: Relation | undefined;
  /** After the caller's own action: what it changed, now (the relation; the view unless playing). */
  readonly reload: () => void;
  readonly error: string;
}

const POLL_MS = 1000;

/**
 * The Space as the page shows it. Until the listener plays (and for hosts and speakers, who do not),
 * the public view (cached 1 s) and the caller's relation are polled from the API. While the listener
 * plays (`grants` set), the room state is followed through their edge instead, and the API is not
 * asked on a timer at all: the relation is reloaded only after the caller's own actions.
 */
export function useSpace(id: string, grants: ListenerGrant | undefined): SpaceModel {
  const me = useMe();
  const signedIn = me !== null && me !== undefined;
  const [space, setSpace] = useState<Space>();
  const [room, setRoom] = useState<RoomStateView>();
  const [degradation, setDegradation] = useState(0);
  const [relation, setRelation] = useState<Relation>();
  const [error, setError] = useState('');
  const playing = grants !== undefined;
  /** Read by the loaders: no API poll may slip in (or land) after a render that plays. */
  const followingEdge = useRef(playing);
  followingEdge.current = playing;
  /** Loaders of the current render's Space and caller; a stale answer (another Space) is dropped. */
  const loaders = useRef({ space: async () => {}, relation: async () => {} });
  useEffect(() => {
    let alive = true;
    const path = { params: { path: { id } } };
    loaders.current = {
      space: async () => {
        const res = await api.GET('/api/spaces/{id}', path);
        if (!alive) return;
        if (res.data === undefined) {
          setError('This Space does not exist.');
          return;
        }
        setSpace(res.data.space);
        if (followingEdge.current) return; // an answer that was under way: the edge's room state is newer
        setRoom(roomStateOf(res.data.space));
        setDegradation(0);
      },
      relation: async () => {
        if (!signedIn) return;
        const res = await api.GET('/api/spaces/{id}/me', path);
        if (alive && res.data !== undefined) setRelation(res.data);
      },
    };
    return () => {
      alive = false;
    };
  }, [id, signedIn]);

  useEffect(() => {
    if (playing) return; // the edge carries the room state now
    const load = () => {
      if (!followingEdge.current) void Promise.all([loaders.current.space(), loaders.current.relation()]);
    };
    load();
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [id, signedIn, playing]);

  useEffect(() => {
    if (grants === undefined) return;
    const stop = new AbortController();
    void followRoomState(
      grants,
      ({ degradation: level, ...state }) => {
        setRoom(state);
        setDegradation(level);
        // An ended Space whose replay is ready changes no more: stop asking.
        return !(state.status === 'ended' && state.replay.available);
      },
      stop.signal,
    );
    return () => stop.abort();
  }, [grants]);

  const reload = () => {
    void loaders.current.relation();
    if (!playing) void loaders.current.space();
  };
  return { space, room, degradation, relation, reload, error };
}
