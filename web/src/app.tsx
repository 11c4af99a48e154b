import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { AdminPage } from './pages/admin.tsx';
import { AuthPage } from './pages/auth.tsx';
import { ClipPage } from './pages/clip.tsx';
import { EmbedPage } from './pages/embed.tsx';
import { HomePage } from './pages/home.tsx';
import { NewSpacePage } from './pages/new-space.tsx';
import { NoticesPage } from './pages/notices.tsx';
import { ReplayPage } from './pages/replay.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SpacePage } from './pages/space.tsx';
import { UserPage } from './pages/user.tsx';
import { navigate, onLinkClick, usePath } from './router.ts';
import { refreshMe, useMe } from './session.ts';
import { strings } from './strings.ts';

const t = strings.nav;

/** Whether the signed-in account is an operator (its profile says so): the header then links the report queue. */
function useAdmin(handle: string | undefined): boolean {
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    if (handle === undefined) {
      setAdmin(false);
      return;
    }
    void api.GET('/api/users/{handle}', { params: { path: { handle } } }).then(({ data }) => setAdmin(data?.user.admin === true));
  }, [handle]);
  return admin;
}

function route(path: string) {
  const space = /^\/s\/(sp_[A-Za-z0-9_-]{12})$/.exec(path);
  const replay = /^\/r\/(sp_[A-Za-z0-9_-]{12})$/.exec(path);
  const clip = /^\/c\/(cl_[A-Za-z0-9_-]{12})$/.exec(path);
  const user = /^\/@([A-Za-z0-9_]{1,40})$/.exec(path);
  if (path === '/') return <HomePage />;
  if (path === '/new') return <NewSpacePage />;
  if (path === '/settings') return <SettingsPage />;
  if (path === '/notices') return <NoticesPage />;
  if (path === '/admin') return <AdminPage />;
  if (path === '/signin' || path === '/signup') return <AuthPage mode={path === '/signin' ? 'signin' : 'signup'} />;
  if (space !== null) return <SpacePage id={space[1]!} />;
  if (replay !== null) return <ReplayPage id={replay[1]!} />;
  if (clip !== null) return <ClipPage id={clip[1]!} />;
  if (user !== null) return <UserPage handle={user[1]!} key={user[1]} />;
  return (
    <p>
      {strings.common.notFound} <a href="/">{strings.common.goHome}</a>.
    </p>
  );
}

export function App() {
  const path = decodeURIComponent(usePath());
  const me = useMe();
  const admin = useAdmin(me?.handle);
  const embed = /^\/embed\/(sp_[A-Za-z0-9_-]{12})$/.exec(path);
  if (embed !== null) return <EmbedPage id={embed[1]!} />; // framed by other sites: no header, no navigation
  const signOut = async () => {
    await api.DELETE('/api/sessions/current');
    await refreshMe();
    navigate('/');
  };
  return (
    <div onClick={onLinkClick}>
      <header class="top">
        <a href="/" class="brand">
          {t.brand}
        </a>
        <nav aria-label={t.main}>
          <a href="/new">{t.hostSpace}</a>
          {me === null && <a href="/signin">{t.signIn}</a>}
          {me === null && <a href="/signup">{t.signUp}</a>}
          {me !== null && me !== undefined && (
            <>
              <a href="/settings">{t.reminders}</a>
              <a href="/notices">{t.notices}</a>
              {admin && <a href="/admin">{t.admin}</a>}
              <a class="who" href={`/@${me.handle}`} title={t.profile}>
                @{me.handle}
              </a>
              <button type="button" class="link" onClick={() => void signOut()}>
                {t.signOut}
              </button>
            </>
          )}
        </nav>
      </header>
      <main id="main">{route(path)}</main>
    </div>
  );
}
