import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, unwrap, type Space } from '../api.ts';
import { meter } from '../audio.ts';
import { joinThroughDoor, type DoorState } from '../admission.ts';
import { attachHls, attachStream, canPlayStream } from '../player.ts';
import { useMe } from '../session.ts';
import { joinStage, type StageConnection } from '../whip.ts';
import { HostPanel } from './host-panel.tsx';

type Relation = {
  role: string;
  muted: boolean;
  mutedByHost: boolean;
  requestPending: boolean;
  invited: boolean;
  reminded: boolean;
};

/** Polls the public view (cached 1 s) and the caller's relation to the Space. */
function useSpace(id: string): { space: Space | undefined; relation: Relation | undefined; reload: () => void; error: string } {
  const [space, setSpace] = useState<Space>();
  const [relation, setRelation] = useState<Relation>();
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  const me = useMe();
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const res = await api.GET('/api/spaces/{id}', { params: { path: { id } } });
      if (!alive) return;
      if (res.data !== undefined) setSpace(res.data.space);
      else setError('This Space does not exist.');
      if (me !== null && me !== undefined) {
        const rel = await api.GET('/api/spaces/{id}/me', { params: { path: { id } } });
        if (alive && rel.data !== undefined) setRelation(rel.data);
      }
    };
    void load();
    const timer = setInterval(() => void load(), 1000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [id, me, tick]);
  return { space, relation, reload: () => setTick((t) => t + 1), error };
}

/** A wait in words: seconds, then minutes. */
const formatEta = (seconds: number) =>
  seconds < 90 ? `${Math.max(1, Math.round(seconds))} s` : `${Math.round(seconds / 60)} min`;

export function SpacePage({ id }: { id: string }) {
  const { space, relation, reload, error } = useSpace(id);
  const me = useMe();
  const audio = useRef<HTMLAudioElement>(null);
  /** The join in progress (in line, proving, playing): aborted when the listener stops or leaves. */
  const joining = useRef<AbortController>();
  useEffect(() => () => joining.current?.abort(), []);
  const [listening, setListening] = useState<(() => void) | undefined>();
  const [stage, setStage] = useState<StageConnection>();
  const [notice, setNotice] = useState('');
  const [waiting, setWaiting] = useState<{ position: number; etaSeconds: number }>();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => () => listening?.(), [listening]);

  if (space === undefined) return <p>{error === '' ? 'Loading…' : error}</p>;
  const act = async (run: () => Promise<{ error?: unknown; data?: unknown; response: Response }>) => {
    try {
      unwrap(await run());
      setNotice('');
      reload();
    } catch (e) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };
  const path = { params: { path: { id } } };
  const play = async (): Promise<void> => {
    if (joining.current !== undefined) return; // already in line or joining: one place per page
    const door = new AbortController();
    joining.current = door;
    const showDoor = (state: DoorState) => setWaiting(state.kind === 'waiting' ? state : { position: 0, etaSeconds: 0 });
    try {
      // Through the door: a token now, or a kept place in line (polled, no error), or a proof of work first.
      const grant = await joinThroughDoor(id, showDoor, door.signal);
      setWaiting(undefined);
      if (audio.current === null) return; // the page was left meanwhile
      // The held stream where the browser can play it (one request for the whole listen); LL-HLS otherwise.
      const dispose = canPlayStream()
        ? await attachStream(audio.current, grant, async (current) => {
            const res = await api.POST('/api/spaces/{id}/join', { ...path, body: { token: current.token } });
            // A token that already expired cannot be renewed: join again through the door.
            if (res.response.status === 401) return joinThroughDoor(id, () => undefined, door.signal);
            const renewed = unwrap(res);
            if ('ticket' in renewed) throw new Error('renewal was queued'); // admitted listeners are renewed, never queued
            return renewed;
          })
        : await attachHls(audio.current, grant.playlistUrl, true);
      setListening(() => () => {
        door.abort();
        dispose();
      });
    } catch (e) {
      if (door.signal.aborted) return;
      joining.current = undefined;
      setWaiting(undefined);
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };
  const stopListening = () => {
    listening?.();
    setListening(undefined);
    joining.current?.abort();
    joining.current = undefined;
  };
  const goOnStage = async () => {
    try {
      const grant = unwrap(await api.POST('/api/spaces/{id}/stage', path));
      const microphone = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      stopListening(); // on stage you hear the others directly, with low latency
      setStage(await joinStage(grant.whipUrl, grant.token, microphone));
    } catch (e) {
      setNotice(e instanceof Error ? e.message : String(e));
    }
  };
  const leaveStage = async (move: boolean) => {
    await stage?.close();
    setStage(undefined);
    if (move && me)
      await act(() => api.POST('/api/spaces/{id}/members/{accountId}/audience', { params: { path: { id, accountId: me.id } } }));
  };
  const mine = me ? space.stage.find((m) => m.id === me.id) : undefined;
  const moderator = relation?.role === 'host' || relation?.role === 'cohost';
  const shareUrl = `${location.origin}/s/${space.id}`;
  const startsIn = space.scheduledStart === null ? undefined : Math.max(0, Date.parse(space.scheduledStart) - now);
  return (
    <section class="space">
      <h1>{space.title}</h1>
      <p class="status" aria-live="polite">
        {space.state === 'live' && <span class="badge live">Live</span>}
        {space.state === 'scheduled' && (
          <span class="badge">
            {startsIn === undefined ? 'Starting soon' : startsIn === 0 ? 'Starting…' : `Starts in ${formatDuration(startsIn)}`}
          </span>
        )}
        {space.state === 'ended' && (
          <span class="badge">
            Ended
            {space.replay.available && (
              <>
                {' '}
                · <a href={`/r/${space.id}`}>Play the replay</a>
              </>
            )}
          </span>
        )}{' '}
        hosted by @{space.host.handle} · {space.listenerCount} listening
      </p>
      {space.pinnedLink !== null && (
        <p class="pinned">
          📌{' '}
          <a href={space.pinnedLink} rel="noopener noreferrer" target="_blank">
            {space.pinnedLink}
          </a>
        </p>
      )}
      <audio ref={audio} />
      <div class="actions">
        {space.state !== 'ended' && stage === undefined && listening === undefined && (
          <button type="button" class="primary" onClick={() => void play()}>
            ▶ Play
          </button>
        )}
        {listening !== undefined && (
          <button type="button" onClick={stopListening}>
            ■ Stop
          </button>
        )}
        <button type="button" onClick={() => void navigator.clipboard?.writeText(shareUrl).then(() => setNotice('Link copied.'))}>
          Share
        </button>
      </div>
      {notice !== '' && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      {waiting !== undefined && (
        <div role="status" class="card waiting" aria-live="polite">
          <h2>{waiting.position === 0 ? 'Checking the door…' : 'You are in line'}</h2>
          {waiting.position === 0 ? (
            <p>A lot of people are joining at once; your browser is doing a short check before you are let in.</p>
          ) : (
            <p>
              The Space is very popular right now. People ahead of you: <strong>{waiting.position}</strong>, about{' '}
              <strong>{formatEta(waiting.etaSeconds)}</strong>. Keep this page open: you will be let in by yourself.
            </p>
          )}
        </div>
      )}
      <h2>On stage</h2>
      <ul class="stage">
        {space.stage.map((m) => (
          <li key={m.id} class={m.speaking ? 'speaking' : ''}>
            <span class="dot" aria-hidden="true" />@{m.handle} <span class="muted">{m.role === 'speaker' ? '' : m.role}</span>
            {m.muted && <span class="muted"> · muted{m.mutedByHost ? ' by host' : ''}</span>}
            {m.speaking && <span class="sr-only"> is speaking</span>}
          </li>
        ))}
      </ul>
      <Reactions space={space} signedIn={me !== null && me !== undefined} />
      {me === null && space.state === 'live' && (
        <p>
          <a href={`/signin?next=/s/${space.id}`}>Sign in</a> to react or ask to speak.
        </p>
      )}
      {relation !== undefined && space.state !== 'ended' && (
        <div class="actions">
          {relation.role === 'listener' && !relation.requestPending && space.state === 'live' && (
            <button type="button" onClick={() => void act(() => api.POST('/api/spaces/{id}/requests', path))}>
              ✋ Request to speak
            </button>
          )}
          {relation.requestPending && (
            <button type="button" onClick={() => void act(() => api.DELETE('/api/spaces/{id}/requests/me', path))}>
              Cancel request
            </button>
          )}
          {relation.invited && (
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
            <button type="button" class="primary" onClick={() => void goOnStage()}>
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
                  void act(() =>
                    api.POST(
                      mine.muted ? '/api/spaces/{id}/members/{accountId}/unmute' : '/api/spaces/{id}/members/{accountId}/mute',
                      {
                        params: { path: { id, accountId: mine.id } },
                      },
                    ),
                  );
                }}
              >
                {mine.muted ? 'Unmute' : 'Mute'}
              </button>
              <button type="button" onClick={() => void leaveStage(mine.role !== 'host')}>
                Leave the stage
              </button>
            </>
          )}
        </div>
      )}
      {moderator && <HostPanel space={space} isHost={relation.role === 'host'} act={act} />}
    </section>
  );
}

function Reactions({ space, signedIn }: { space: Space; signedIn: boolean }) {
  const emoji = ['👏', '❤️', '😂', '🔥', '💯'];
  const [floating, setFloating] = useState<{ key: number; emoji: string }[]>([]);
  const seen = useRef(new Map<string, number>());
  useEffect(() => {
    // New reactions since the last view float up for a moment (at most a few at once).
    const fresh: { key: number; emoji: string }[] = [];
    for (const r of space.reactions) {
      const before = seen.current.get(r.emoji);
      if (before !== undefined && r.count > before) fresh.push({ key: Math.random(), emoji: r.emoji });
      seen.current.set(r.emoji, r.count);
    }
    if (fresh.length === 0) return;
    setFloating((f) => [...f, ...fresh].slice(-6));
    const timer = setTimeout(() => setFloating((f) => f.filter((x) => !fresh.includes(x))), 2000);
    return () => clearTimeout(timer);
  }, [space.reactions]);
  const send = (e: string) =>
    void api.POST('/api/spaces/{id}/reactions', { params: { path: { id: space.id } }, body: { emoji: e as '👏' } });
  return (
    <div class="reactions" aria-label="Reactions">
      <div class="floating" aria-hidden="true">
        {floating.map((f) => (
          <span key={f.key}>{f.emoji}</span>
        ))}
      </div>
      {emoji.map((e) => (
        <button
          type="button"
          key={e}
          disabled={!signedIn || space.state !== 'live'}
          onClick={() => send(e)}
          aria-label={`React ${e}`}
        >
          {e} {space.reactions.find((r) => r.emoji === e)?.count ?? ''}
        </button>
      ))}
    </div>
  );
}

/** The host's microphone check: a live level meter before going live. */
export function MicCheck() {
  const [level, setLevel] = useState<number>();
  const start = async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const read = meter(stream);
    const timer = setInterval(() => setLevel(read()), 100);
    setTimeout(() => {
      clearInterval(timer);
      for (const t of stream.getTracks()) t.stop();
    }, 10_000);
  };
  return (
    <div class="miccheck">
      <button type="button" onClick={() => void start()}>
        Check my microphone
      </button>
      {level !== undefined && <meter aria-label="Microphone level" min={0} max={1} value={level} />}
    </div>
  );
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}
