import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, unwrap } from '../api.ts';
import { Avatar } from '../components/avatar.tsx';
import { strings } from '../strings.ts';

type ClipInfo = NonNullable<Awaited<ReturnType<typeof loadClip>>>;

const loadClip = async (id: string) => unwrap(await api.GET('/api/clips/{clipId}', { params: { path: { clipId: id } } }));

/** A clip's own page: what it is of, its audio, the way to the whole replay, and a link to share. */
export function ClipPage({ id }: { id: string }) {
  const [info, setInfo] = useState<ClipInfo>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  useEffect(() => {
    loadClip(id).then(setInfo, (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [id]);
  if (info === undefined) return <p class="loading">{error === '' ? strings.common.loading : error}</p>;
  const { clip, space } = info;
  const minute = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  return (
    <section class="space clip card">
      <h1>{space.title}</h1>
      <p class="host-line">
        <Avatar handle={space.host.handle} size="sm" />
        <span class="muted">{strings.clip.summary(Math.round(clip.durationSeconds), space.host.handle, minute(clip.start))}</span>
      </p>
      <audio controls aria-label={strings.clip.audio} src={`/api/clips/${encodeURIComponent(clip.id)}/audio.m4a`} />
      <div class="actions">
        <a class="button secondary" href={`/s/${space.id}`}>
          {strings.clip.wholeSpace}
        </a>
        <button
          type="button"
          onClick={() =>
            void navigator.clipboard
              ?.writeText(`${location.origin}/c/${clip.id}`)
              .then(() => setNotice(strings.common.linkCopied))
          }
        >
          {strings.common.share}
        </button>
      </div>
      {notice !== '' && <p role="status">{notice}</p>}
    </section>
  );
}
