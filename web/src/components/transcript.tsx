import { useEffect, useState } from 'preact/hooks';
import { strings } from '../strings.ts';
import { clock } from './replay-bar.tsx';

const t = strings.captions;

/** One line of a replay's transcript (`GET /api/spaces/:id/transcript`), on the replay's timeline. */
export interface TranscriptLine {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
}

/** The replay's transcript lines: undefined while loading, empty where the Space was not captioned. */
export function useTranscript(id: string): readonly TranscriptLine[] | undefined {
  const [lines, setLines] = useState<readonly TranscriptLine[]>();
  useEffect(() => {
    let alive = true;
    void (async () => {
      const res = await fetch(`/api/spaces/${encodeURIComponent(id)}/transcript`, { credentials: 'same-origin' });
      const body = res.ok ? ((await res.json()) as { lines?: TranscriptLine[] }) : {};
      if (alive) setLines(body.lines ?? []);
    })().catch(() => alive && setLines([]));
    return () => {
      alive = false;
    };
  }, [id]);
  return lines;
}

/**
 * A replay's automatic transcript, beside its player: each line a button that plays from its start
 * (the line being heard is marked), and the whole as WebVTT or plain text. Says so when there is none.
 */
export function Transcript({ id, now, seek }: { id: string; now: number; seek: (seconds: number) => void }) {
  const lines = useTranscript(id);
  if (lines === undefined) return null;
  const base = `/api/spaces/${encodeURIComponent(id)}/transcript`;
  return (
    <section class="card transcript" aria-label={t.transcript}>
      <h2>{t.transcript}</h2>
      {lines.length === 0 ? (
        <p class="muted">{t.noTranscript}</p>
      ) : (
        <>
          <p class="muted">{t.transcriptMachineMade}</p>
          <p class="actions">
            <a href={`${base}.vtt`} download>
              {t.downloadVtt}
            </a>
            <a href={`${base}.txt`} download>
              {t.downloadText}
            </a>
          </p>
          <ol>
            {lines.map((l) => (
              <li key={l.startMs}>
                <button
                  type="button"
                  data-start-ms={l.startMs}
                  aria-current={now * 1000 >= l.startMs && now * 1000 < l.endMs ? 'true' : undefined}
                  onClick={() => seek(l.startMs / 1000)}
                >
                  <span class="time">{clock(l.startMs / 1000)}</span> <span>{l.text}</span>
                </button>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
