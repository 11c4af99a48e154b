import { useEffect, useRef, useState, type MutableRef } from 'preact/hooks';
import { joinThroughDoor, newClientId, type DoorState } from './admission.ts';
import { api, ApiError, errorOf, unwrap, type Grant } from './api.ts';
import { ListenerGrant } from './listener-grant.ts';
import type { LivePlayback } from './live-playback.ts';
import type { CatchUp } from './catch-up.ts';
import { attachCatchUp, attachHls, attachStream, canPlayStream } from './player.ts';
import { Refusal } from './reconnect.ts';

export interface Listening {
  readonly audio: MutableRef<HTMLAudioElement | null>;
  /** Set once admitted, until the listener stops: the grant the player and the room-state loop share. */
  readonly grants: ListenerGrant | undefined;
  /** Whether the player runs (it stops by itself when the Space ends; the grant then stays). */
  readonly playing: boolean;
  /** Where the listener stands at the door while joining (in line, or proving work). */
  readonly door: DoorState | undefined;
  /** Set while the player recovers by itself (a server restart, a lost network): the attempt, from 1. */
  readonly reconnecting: number | undefined;
  /** In, before the start: the player starts by itself when the Space goes live (`started`). */
  readonly atDoors: boolean;
  /** The Space went live: a listener waiting at the doors starts playing now. */
  readonly started: () => void;
  /** Joins and plays live; with `catchUpRate`, from the start (or `startAt` s in) at that speed until it reaches live. */
  readonly play: (catchUpRate?: number, startAt?: number) => Promise<void>;
  /** Set while catching up (and once caught up): how far behind live, at what speed. */
  readonly catchUp: CatchUp | undefined;
  readonly stop: () => void;
  /** The Space ended: the player stops, the room state is still followed (until the replay is ready). */
  readonly finish: () => void;
}

/**
 * Listening to a Space: through the door (a token now, or a kept place in line, or a proof of work
 * first), then the player, until the listener stops or leaves the page. Errors go to `report`.
 * Before the start (`hasStarted()` false) the doors are open: the listener is admitted, the room state
 * is followed through the edge (so they count among those waiting, and learn of the go-live within a
 * poll), and the player starts by itself when the page calls `started()`.
 * The player recovers by itself while `isLive()` (the room state says live), and says so
 * (`reconnecting`); it stops when the Space ends (`finish`) or the edge refuses for good.
 */
export function useListening(
  id: string,
  report: (message: string) => void,
  isLive: () => boolean,
  hasStarted: () => boolean,
): Listening {
  const audio = useRef<HTMLAudioElement>(null);
  /** The join in progress (in line, proving, playing): aborted when the listener stops or leaves. */
  const joining = useRef<AbortController>();
  const release = useRef<() => void>();
  const [grants, setGrants] = useState<ListenerGrant>();
  const [playing, setPlaying] = useState(false);
  const [door, setDoor] = useState<DoorState>();
  const [reconnecting, setReconnecting] = useState<number>();
  const [atDoors, setAtDoors] = useState(false);
  const [catchUp, setCatchUp] = useState<CatchUp>();
  /** Opens the doors' gate: set while a listener waits for the start. */
  const gate = useRef<() => void>();
  useEffect(
    () => () => {
      joining.current?.abort();
      release.current?.();
    },
    [],
  );

  const play = async (catchUpRate?: number, startAt = 0): Promise<void> => {
    if (joining.current !== undefined) return; // already in line or joining: one place per page
    const controller = new AbortController();
    joining.current = controller;
    const signal = controller.signal;
    let refused: string | undefined;
    const client = newClientId();
    const renew = renewer(id, client, signal);
    try {
      const grant = new ListenerGrant(await joinThroughDoor(id, setDoor, signal, client), renew);
      setDoor(undefined);
      if (!hasStarted()) {
        // In before the start: follow the room state (the grants) and wait for the go-live.
        setGrants(grant);
        setAtDoors(true);
        await opened(gate, signal);
        if (signal.aborted) return;
        setAtDoors(false);
        // A long wait may have outlived the token (the room-state loop renews on 401; this is sooner).
        if (Date.parse(grant.current.expiresAt) - Date.now() < 30_000) await grant.renew(grant.current);
      }
      if (audio.current === null) return; // the page was left meanwhile
      const live: LivePlayback = {
        grants: grant,
        isLive,
        onStatus: (status) => {
          if (signal.aborted) return;
          setReconnecting(status.kind === 'reconnecting' ? status.attempt : undefined);
          if (status.kind !== 'stopped') return;
          refused = status.reason;
          if (release.current === undefined) return; // still starting: handled below
          // Refused for good: an ended Space is still followed (to its replay); otherwise listening stops.
          if (isLive()) stop();
          else finish();
          report(status.reason);
        },
      };
      // The held stream where the browser can play it (one request for the whole listen); LL-HLS otherwise.
      const catchUp = catchUpRate === undefined ? undefined : { rate: catchUpRate, startAt, onState: setCatchUp };
      const dispose = await attachPlayer(audio.current, live, catchUp);
      if (signal.aborted) {
        dispose(); // stopped while the player started
        return;
      }
      release.current = dispose;
      setGrants(grant);
      setPlaying(true);
      if (refused !== undefined) live.onStatus({ kind: 'stopped', reason: refused });
    } catch (e) {
      if (signal.aborted) return;
      joining.current = undefined;
      setDoor(undefined);
      // Failed after the doors (a renewal, the player): back to Play, not stuck "in".
      setGrants(undefined);
      setAtDoors(false);
      report(e instanceof ApiError ? e.message : String(e));
    }
  };

  const finish = () => {
    release.current?.();
    release.current = undefined;
    setPlaying(false);
    setReconnecting(undefined);
    setCatchUp(undefined);
  };
  const stop = () => {
    joining.current?.abort();
    joining.current = undefined;
    finish();
    setGrants(undefined);
    setDoor(undefined);
    setAtDoors(false);
  };
  const started = () => gate.current?.();
  return { audio, grants, playing, door, reconnecting, atDoors, started, catchUp, play, stop, finish };
}

/** Waits at the doors until the page opens the gate (the Space went live) or the listener leaves. */
async function opened(gate: MutableRef<(() => void) | undefined>, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    gate.current = resolve;
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  gate.current = undefined;
}

/**
 * How an admitted listener's token is renewed: with the token (never queued); one that expired, or the
 * listener cap reached, joins again through the door; a refusal for good (removed, gone) stops.
 */
function renewer(id: string, client: string, signal: AbortSignal): (current: Grant) => Promise<Grant> {
  return async (current: Grant): Promise<Grant> => {
    const res = await api.POST('/api/spaces/{id}/join', {
      params: { path: { id } },
      body: { token: current.token, client },
    });
    // A token that already expired (or the listener cap reached) cannot be renewed: join again through the door.
    if (res.response.status === 401) return joinThroughDoor(id, () => undefined, signal, client);
    // Removed, or the Space is gone: no renewal will ever be granted.
    if (res.response.status === 403 || res.response.status === 404)
      throw new Refusal(errorOf(res.error)?.message ?? `Join refused (${res.response.status})`);
    const renewed = unwrap(res);
    if ('ticket' in renewed) throw new Error('renewal was queued'); // admitted listeners are renewed, never queued
    return renewed;
  };
}

/** The player for this listen: catching up (hls.js on `dvr.m3u8`), else the held stream where the browser plays it, else LL-HLS. */
function attachPlayer(
  element: HTMLAudioElement,
  live: LivePlayback,
  catchUp: { rate: number; startAt: number; onState: (state: CatchUp) => void } | undefined,
): Promise<() => void> {
  if (catchUp !== undefined) return attachCatchUp(element, live.grants, catchUp.rate, catchUp.onState, catchUp.startAt);
  return canPlayStream() ? attachStream(element, live) : attachHls(element, live.grants.current.playlistUrl, true, live);
}
