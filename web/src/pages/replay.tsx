import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, unwrap, type Space } from '../api.ts';
import { DownloadLink } from '../components/download-link.tsx';
import { attachHls } from '../player.ts';

/** A finished Space: play, seek, speed, download. */
export function ReplayPage({ id }: { id: string }) {
  const audio = useRef<HTMLAudioElement>(null);
  const [space, setSpace] = useState<Space>();
  const [playlistUrl, setPlaylistUrl] = useState<string>();
  const [error, setError] = useState('');
  useEffect(() => {
    void (async () => {
      try {
        setSpace(unwrap(await api.GET('/api/spaces/{id}', { params: { path: { id } } })).space);
        const grant = unwrap(await api.POST('/api/spaces/{id}/join', { params: { path: { id } }, body: {} }));
        if ('ticket' in grant) throw new Error('The replay is very busy right now; try again in a minute.');
        setPlaylistUrl(grant.playlistUrl);
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
  return (
    <section class="space">
      <h1>{space?.title ?? 'Replay'}</h1>
      {error !== '' && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <audio ref={audio} controls aria-label="Replay" />
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
      </div>
    </section>
  );
}
