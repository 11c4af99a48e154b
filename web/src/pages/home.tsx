import { useEffect, useState } from 'preact/hooks';
import { api, type Account } from '../api.ts';
import { RemindToggle } from '../components/remind-toggle.tsx';
import { SpaceList } from '../components/space-list.tsx';
import { TranscriptResults } from '../components/transcript-search.tsx';
import { field } from '../forms.ts';
import { navigate } from '../router.ts';
import { useMe } from '../session.ts';
import { strings } from '../strings.ts';

const t = strings.home;
const s = strings.search;

/** The scheduled Spaces the signed-in account set reminders for (empty when signed out). */
function useReminders(me: Account | null | undefined): ReadonlySet<string> {
  const [ids, setIds] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => {
    if (me === null || me === undefined) {
      setIds(new Set());
      return;
    }
    let alive = true;
    void api.GET('/api/me/reminders').then(({ data }) => {
      if (alive && data !== undefined) setIds(new Set(data.spaceIds));
    });
    return () => {
      alive = false;
    };
  }, [me?.id]);
  return ids;
}

interface Search {
  readonly q: string;
  readonly tag: string;
  /** `&in=transcripts`: the phrase in replays' transcripts rather than Spaces' titles. */
  readonly inTranscripts: boolean;
}

/** The search as the address says it (`/?q=…&tag=…&in=transcripts`), so a search is a link like any other. */
function useSearch(): Search {
  const read = (): Search => {
    const p = new URLSearchParams(location.search);
    return {
      q: p.get('q') ?? '',
      tag: (p.get('tag') ?? '').replace(/^#/, ''),
      inTranscripts: p.get('in') === 'transcripts',
    };
  };
  const [search, setSearch] = useState(read);
  useEffect(() => {
    const update = () => setSearch(read());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return search;
}

function SearchForm({ q, tag, inTranscripts }: Search) {
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget;
    const params = new URLSearchParams();
    for (const key of ['q', 'tag']) {
      const value = field(form, key).trim();
      if (value !== '') params.set(key, value);
    }
    if (field(form, 'in') === 'transcripts') params.set('in', 'transcripts');
    navigate(params.size === 0 ? '/' : `/?${params}`);
  };
  return (
    <form role="search" class="search inline-form" onSubmit={submit} aria-label={s.label}>
      <label class="grow">
        <span class="sr-only">{s.label}</span>
        <input name="q" type="search" placeholder={s.placeholder} defaultValue={q} key={`q${q}`} maxLength={100} />
      </label>
      <label>
        <span class="sr-only">{s.topic}</span>
        <input
          name="tag"
          placeholder={`#${s.topic.toLowerCase()}`}
          defaultValue={tag}
          key={`t${tag}`}
          maxLength={25}
          pattern="#?[A-Za-z0-9][A-Za-z0-9\-]{0,23}"
        />
      </label>
      <label class="inline">
        <input name="in" type="checkbox" value="transcripts" defaultChecked={inTranscripts} key={`i${inTranscripts}`} />{' '}
        {s.inTranscripts}
      </label>
      <button type="submit" class="primary">
        {s.submit}
      </button>
      {(q !== '' || tag !== '' || inTranscripts) && (
        <a class="button secondary" href="/">
          {s.clear}
        </a>
      )}
    </form>
  );
}

export function HomePage() {
  const me = useMe();
  const reminded = useReminders(me);
  const search = useSearch();
  const { q, tag, inTranscripts } = search;
  const verified = new URLSearchParams(location.search).get('email') === 'verified'; // from the link in the e-mail
  const searching = q !== '' || tag !== '';
  const filter = { q: q === '' ? undefined : q, tag: tag === '' ? undefined : tag };
  const remind = (space: { id: string; state: string }) =>
    space.state === 'scheduled' && me !== null && me !== undefined ? (
      <RemindToggle id={space.id} reminded={reminded.has(space.id)} />
    ) : null;
  return (
    <div class="home">
      {verified && (
        <p role="status" class="notice">
          {t.emailVerified}
        </p>
      )}
      <SearchForm {...search} />
      {inTranscripts ? (
        q.trim() === '' ? (
          <p class="muted empty">{s.transcriptNeedsWords}</p>
        ) : (
          <TranscriptResults q={q.trim()} />
        )
      ) : searching ? (
        <SpaceList
          level={1}
          title={s.results([q, tag === '' ? '' : `#${tag}`].filter(Boolean).join(' '))}
          filter={filter}
          empty={s.none}
          card={remind}
        />
      ) : (
        <>
          <SpaceList level={1} title={t.liveNow} filter={{ state: 'live' }} empty={t.nobodyLive} refreshMs={5000} />
          <SpaceList
            title={t.scheduled}
            filter={{ state: 'scheduled' }}
            empty={t.nothingScheduled}
            refreshMs={5000}
            card={remind}
          />
          <SpaceList title={s.past} filter={{ state: 'ended' }} empty={t.noReplays} refreshMs={15000} />
        </>
      )}
    </div>
  );
}
