import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';
import type { operations } from '../api-types.ts';
import { strings } from '../strings.ts';
import { clock } from './replay-bar.tsx';

const s = strings.search;

type Hit = operations['searchTranscripts']['responses'][200]['content']['application/json']['results'][number];

/** Where a hit leads: its replay, started at the line (`?t=` in seconds). */
export const hitHref = (hit: Hit) => `/r/${hit.spaceId}?t=${hit.startMs / 1000}`;

/** The line with each occurrence of the phrase (any case) in `<mark>`. */
function Highlighted({ text, phrase }: { text: string; phrase: string }) {
  const needle = phrase.trim().toLowerCase();
  if (needle === '') return <>{text}</>;
  const parts: (string | { mark: string })[] = [];
  const lower = text.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    if (at > from) parts.push(text.slice(from, at));
    parts.push({ mark: text.slice(at, at + needle.length) });
    from = at + needle.length;
  }
  if (from < text.length) parts.push(text.slice(from));
  return <>{parts.map((p, i) => (typeof p === 'string' ? p : <mark key={i}>{p.mark}</mark>))}</>;
}

/** The replays' transcript lines that hold the phrase (`GET /api/transcripts/search`), paged by "Show more". */
export function TranscriptResults({ q }: { q: string }) {
  const [hits, setHits] = useState<Hit[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [loaded, setLoaded] = useState(false);
  const page = async (offset: number) => {
    const { data } = await api.GET('/api/transcripts/search', { params: { query: { q, offset } } });
    return data;
  };
  useEffect(() => {
    let alive = true;
    setLoaded(false);
    setHits([]);
    setNext(null);
    void page(0).then((data) => {
      if (!alive || data === undefined) return;
      setHits(data.results);
      setNext(data.nextOffset);
      setLoaded(true);
    });
    return () => {
      alive = false;
    };
  }, [q]);
  const more = async () => {
    if (next === null) return;
    const data = await page(next);
    if (data === undefined) return;
    setHits((h) => [...h, ...data.results]);
    setNext(data.nextOffset);
  };
  return (
    <section class="transcript-results">
      <h1>{s.inTranscriptsResults(q)}</h1>
      {loaded && hits.length === 0 ? <p class="muted empty">{s.noTranscriptHits}</p> : null}
      <ul class="list">
        {hits.map((hit) => (
          <li key={`${hit.spaceId}:${hit.startMs}`} class="list-row transcript-hit">
            <a href={hitHref(hit)}>
              <span class="transcript-hit-title">{hit.title}</span> <span class="time">{clock(hit.startMs / 1000)}</span>
            </a>
            <p class="transcript-hit-text">
              <Highlighted text={hit.text} phrase={q} />
            </p>
            <p class="muted">{strings.home.hostedBy(hit.host.handle)}</p>
          </li>
        ))}
      </ul>
      {next !== null && (
        <button type="button" class="secondary" onClick={() => void more()}>
          {s.more}
        </button>
      )}
    </section>
  );
}
