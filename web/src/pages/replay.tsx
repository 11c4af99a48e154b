import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, unwrap, type Space } from '../api.ts';
import { ClipButton, type ClipWhat } from '../components/clip-button.tsx';
import { Avatar } from '../components/avatar.tsx';
import { AnalyticsView } from '../components/analytics-view.tsx';
import { DownloadLink } from '../components/download-link.tsx';
import { ReportButton } from '../components/report-button.tsx';
import { clock, ReplayBar } from '../components/replay-bar.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { Transcript } from '../components/transcript.tsx';
import { attachHls } from '../player.ts';
import { useMe } from '../session.ts';
import { strings } from '../strings.ts';
import { Alert, Status } from '../components/messages.tsx';

const t = strings.replay;

interface Chapter {
  readonly start: number;
  readonly end: number;
  readonly speaker: { readonly id: string; readonly handle: string };
  /** The first words said in it, where the replay has a transcript. */
  readonly excerpt?: string;
}

/**
 * `seconds` of the replay from where it is now (`now` until the element is there); near its end, its
 * last `seconds`: the length asked for is kept.
 */
function clipFromHere(element: HTMLAudioElement | null, now: number, seconds: number): ClipWhat {
  const from = element?.currentTime ?? now;
  const duration = element?.duration;
  const end = duration !== undefined && Number.isFinite(duration) ? Math.min(from + seconds, duration) : from + seconds;
  return { start: Math.max(0, end - seconds), end };
}

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
        if ('ticket' in grant) throw new Error(t.busy);
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
  return { audio, space, chapters, error, setError, playlistUrl };
}

/** A finished Space: play, seek, speed, chapters by speaker, its transcript, download; its host may delete it. */
export function ReplayPage({ id }: { id: string }) {
  const me = useMe();
  const { audio, space, chapters, error, setError, playlistUrl } = useReplay(id);
  const [now, setNow] = useState(0);
  /** Where a link asked the replay to start (`?t=<seconds>`, as search results link), applied once. */
  const startAt = useRef(Number(new URLSearchParams(location.search).get('t')) || 0);
  const seek = (seconds: number) => {
    const element = audio.current;
    if (element === null) return;
    element.currentTime = seconds;
    void element.play();
  };
  const remove = async () => {
    if (!confirm(t.confirmDelete)) return;
    try {
      unwrap(await api.DELETE('/api/spaces/{id}/recording', { params: { path: { id } } }));
      location.assign(`/s/${id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const isHost = me !== null && me !== undefined && space?.host.id === me.id;
  const [notice, setNotice] = useState('');
  return (
    <section class="space with-bar">
      <header class="space-hero state-ended">
        <div class="status">
          <StateBadge state="replay" />
          {space !== undefined && space.replay.durationSeconds !== null && (
            <span class="listeners">{clock(space.replay.durationSeconds ?? 0)}</span>
          )}
        </div>
        <h1>{space?.title ?? t.title}</h1>
        {space !== undefined && (
          <p class="host-line">
            <Avatar handle={space.host.handle} size="sm" />
            <a href={`/@${space.host.handle}`}>{strings.header.hostedBy(space.host.handle)}</a>
          </p>
        )}
      </header>
      <Alert text={error} />
      <Status text={notice} />
      <div class="actions">
        {space?.replay.available === true && <DownloadLink id={id} />}
        {me !== null && me !== undefined && (
          <ClipButton id={id} label={t.clipFromHere} seconds={20} what={(seconds) => clipFromHere(audio.current, now, seconds)} />
        )}
        {isHost && space.replay.available && (
          <button type="button" class="danger" onClick={() => void remove()}>
            {t.delete}
          </button>
        )}
        {me !== null && me !== undefined && !isHost && (
          <ReportButton target={{ kind: 'replay', spaceId: id }} onSent={setNotice} />
        )}
      </div>
      {isHost && <AnalyticsView spaceId={id} live={false} />}
      {chapters.length > 0 && (
        <nav aria-label={t.chapters} class="card">
          <h2>{t.chapters}</h2>
          <ol class="chapters">
            {chapters.map((c) => (
              <li key={c.start}>
                <button
                  type="button"
                  aria-current={now >= c.start && now < c.end ? 'true' : undefined}
                  onClick={() => seek(c.start)}
                >
                  <span class="time">{clock(c.start)}</span> @{c.speaker.handle}
                  {c.excerpt !== undefined && <span class="excerpt">“{c.excerpt}”</span>}
                </button>
              </li>
            ))}
          </ol>
        </nav>
      )}
      {space?.replay.available === true && <Transcript id={id} now={now} seek={seek} />}
      <ReplayBar audio={audio} now={now} title={space?.title} ready={playlistUrl !== undefined}>
        <audio
          ref={audio}
          aria-label={t.title}
          onLoadedMetadata={(e) => {
            if (startAt.current > 0) (e.target as HTMLAudioElement).currentTime = startAt.current;
            startAt.current = 0;
          }}
          onTimeUpdate={(e) => setNow((e.target as HTMLAudioElement).currentTime)}
        >
          <track kind="chapters" src={`/api/spaces/${encodeURIComponent(id)}/chapters.vtt`} default />
        </audio>
      </ReplayBar>
    </section>
  );
}
