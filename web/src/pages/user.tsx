import { useEffect, useState } from 'preact/hooks';
import { api, errorOf, type Profile } from '../api.ts';
import { Avatar } from '../components/avatar.tsx';
import { ReportButton } from '../components/report-button.tsx';
import { SpaceList } from '../components/space-list.tsx';
import { useMe } from '../session.ts';
import { strings } from '../strings.ts';
import { Status } from '../components/messages.tsx';

const t = strings.profile;

/** A host's page (`/@handle`): who they are, a follow button, their live, upcoming and past Spaces. */
export function UserPage({ handle }: { handle: string }) {
  const me = useMe();
  const [user, setUser] = useState<Profile | null>();
  const [notice, setNotice] = useState('');
  useEffect(() => {
    let alive = true;
    void api.GET('/api/users/{handle}', { params: { path: { handle } } }).then(({ data }) => {
      if (alive) setUser(data?.user ?? null);
    });
    return () => {
      alive = false;
    };
  }, [handle, me?.id]);
  if (user === undefined) return <p class="loading">{strings.common.loading}</p>;
  if (user === null) return <p class="empty">{t.notFound}</p>;
  const mine = me?.id === user.id;
  const follow = async () => {
    const on = !user.following;
    const options = { params: { path: { handle } } };
    const res = on
      ? await api.PUT('/api/users/{handle}/follow', options)
      : await api.DELETE('/api/users/{handle}/follow', options);
    if (res.data !== undefined) setUser({ ...user, ...res.data });
    else setNotice(errorOf(res.error)?.message ?? String(res.response.status));
  };
  const block = async () => {
    const res = await api.PUT('/api/me/blocks/{accountId}', { params: { path: { accountId: user.id } } });
    setNotice(res.response.ok ? t.blocked : (errorOf(res.error)?.message ?? String(res.response.status)));
  };
  return (
    <div class="user-page">
      <section class="card profile-card">
        <Avatar handle={user.handle} displayName={user.displayName ?? undefined} src={user.avatarUrl ?? undefined} size="lg" />
        <div class="grow">
          <h1>{user.displayName ?? `@${user.handle}`}</h1>
          {user.displayName !== null && <p class="muted">@{user.handle}</p>}
          {user.bio !== null && <p class="bio">{user.bio}</p>}
          <p class="muted">{t.followers(user.followers)}</p>
          <Status text={notice} />
          <div class="actions">
            {me === null && (
              <p class="muted">
                <a href={`/signin?next=/@${user.handle}`}>{strings.common.signIn}</a>
                {t.signInToFollow}
              </p>
            )}
            {me !== null && me !== undefined && !mine && (
              <>
                <button
                  type="button"
                  class={user.following ? 'secondary' : 'primary'}
                  aria-pressed={user.following}
                  onClick={() => void follow()}
                >
                  {user.following ? t.following : t.follow}
                </button>
                <ReportButton target={{ kind: 'user', accountId: user.id }} label={t.report} onSent={setNotice} />
                <button type="button" class="link" onClick={() => void block()}>
                  {t.block}
                </button>
              </>
            )}
            {mine && (
              <p class="muted">
                {t.yourPage} <a href="/settings">{t.edit}</a>
              </p>
            )}
          </div>
          {!mine && <p class="muted small">{t.followHint}</p>}
        </div>
      </section>
      <SpaceList title={t.live} filter={{ host: user.handle, state: 'live' }} empty={t.noneLive} refreshMs={10000} />
      <SpaceList title={t.upcoming} filter={{ host: user.handle, state: 'scheduled' }} empty={t.noneUpcoming} />
      <SpaceList title={t.past} filter={{ host: user.handle, state: 'ended' }} empty={t.nonePast} />
    </div>
  );
}
