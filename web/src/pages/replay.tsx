import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, unwrap, type Space } from '../api.ts';
import { ClipButton } from '../components/clip-button.tsx';
import { DownloadLink } from '../components/download-link.tsx';
import { attachHls } from '../player.ts';
import { useMe } from '../session.ts';

interface Chapter {
  readonly start: number;
  readonly end: number;
  readonly speaker: { readonly id: string; readonly handle: string };
}

/** `m:ss` (or `h:mm:ss`) for a time in seconds. */
const clock = (seconds: number) => {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
};

/** A replay in an audio element: joined (a replay token), its playlist attached, its chapters loaded. */
export function useReplay(id: string) {
  const audio = useRef<HTMLAudioElement>(null);
  const [space, setSpace] = useState<Space>();
  const [playlistUrl, setPlaylistUrl] = useState<string>();
  const [chapters, setChapters] = useState<Chapter[]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    void (async () => {
      try {
        setSpace(unwrap(await api.GET('/api/spaces/{id}', { params: { path: { id } } })).space);
        const grant = unwrap(await api.POST('/api/spaces/{id}/join', { params: { path: { id } }, body: {} }));
        if ('ticket' in grant) throw new Error('The replay is very busy right now; try again in a minute.');
        setPlaylistUrl(grant.playlistUrl);
        const found = await api.GET('/api/spaces/{id}/chapters', { params: { path: { id } } });
        if (found.data !== undefined) setChapters(found.data.chapters);
      } catch (e) {
        setError(e instanceof ApiError ? e.message : String(e));
      }
    })();
  }, [id]);
  useEffect(() => {
    if (playlistUrl === undefined || audio.current === null) return;
    const pending = attachHls(audio.current, playlistUrl, false);
    return () => void pending.then((dispose) => dispose());
  }, [playlistUrl]);
  return { audio, space, chapters, error, setError };
}

/** A finished Space: play, seek, speed, chapters by speaker, download; its host may delete it. */
export function ReplayPage({ id }: { id: string }) {
  const me = useMe();
  const { audio, space, chapters, error, setError } = useReplay(id);
  const [now, setNow] = useState(0);
  const seek = (seconds: number) => {
    const element = audio.current;
    if (element === null) return;
    element.currentTime = seconds;
    void element.play();
  };
  const remove = async () => {
    if (!confirm('Delete this replay for everyone, for good? The Space stays listed; its recording goes.')) return;
    try {
      unwrap(await api.DELETE('/api/spaces/{id}/recording', { params: { path: { id } } }));
      location.assign(`/s/${id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const isHost = me !== null && me !== undefined && space?.host.id === me.id;
  return (
    <section class="space">
      <h1>{space?.title ?? 'Replay'}</h1>
      {error !== '' && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <audio ref={audio} controls aria-label="Replay" onTimeUpdate={(e) => setNow((e.target as HTMLAudioElement).currentTime)}>
        <track kind="chapters" src={`/api/spaces/${encodeURIComponent(id)}/chapters.vtt`} default />
      </audio>
      <div class="actions">
        <label>
          Speed{' '}
          <select onChange={(e) => audio.current && (audio.current.playbackRate = Number((e.target as HTMLSelectElement).value))}>
            {[0.75, 1, 1.25, 1.5, 2].map((r) => (
              <option key={r} value={r} selected={r === 1}>
                {r}×
              </option>
            ))}
          </select>
        </label>
        {space?.replay.available === true && <DownloadLink id={id} />}
        {me !== null && me !== undefined && (
          <ClipButton
            id={id}
            label="Clip 20 s from here"
            what={() => {
              const end = Math.min(now + 20, audio.current?.duration ?? now + 20);
              return { start: Math.max(0, end - 20), end };
            }}
          />
        )}
        {isHost && space.replay.available && (
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete replay
          </button>
        )}
      </div>
      {chapters.length > 0 && (
        <nav aria-label="Chapters">
          <h2>Chapters</h2>
          <ol class="chapters">
            {chapters.map((c) => (
              <li key={c.start}>
                <button
                  type="button"
                  aria-current={now >= c.start && now < c.end ? 'true' : undefined}
                  onClick={() => seek(c.start)}
                >
                  <span class="time">{clock(c.start)}</span> @{c.speaker.handle}
                </button>
              </li>
            ))}
          </ol>
        </nav>
      )}
    </section>
  );
}
