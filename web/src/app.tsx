import { api } from './api.ts';
import { AuthPage } from './pages/auth.tsx';
import { ClipPage } from './pages/clip.tsx';
import { EmbedPage } from './pages/embed.tsx';
import { HomePage } from './pages/home.tsx';
import { NewSpacePage } from './pages/new-space.tsx';
import { ReplayPage } from './pages/replay.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SpacePage } from './pages/space.tsx';
import { navigate, onLinkClick, usePath } from './router.ts';
import { refreshMe, useMe } from './session.ts';

export function App() {
  const path = usePath();
  const me = useMe();
  const space = /^\/s\/(sp_[A-Za-z0-9_-]{12})$/.exec(path);
  const replay = /^\/r\/(sp_[A-Za-z0-9_-]{12})$/.exec(path);
  const clip = /^\/c\/(cl_[A-Za-z0-9_-]{12})$/.exec(path);
  const embed = /^\/embed\/(sp_[A-Za-z0-9_-]{12})$/.exec(path);
  if (embed !== null) return <EmbedPage id={embed[1]!} />; // framed by other sites: no header, no navigation
  let page;
  if (path === '/') page = <HomePage />;
  else if (path === '/new') page = <NewSpacePage />;
  else if (path === '/settings') page = <SettingsPage />;
  else if (path === '/signin' || path === '/signup') page = <AuthPage mode={path === '/signin' ? 'signin' : 'signup'} />;
  else if (space !== null) page = <SpacePage id={space[1]!} />;
  else if (replay !== null) page = <ReplayPage id={replay[1]!} />;
  else if (clip !== null) page = <ClipPage id={clip[1]!} />;
  else
    page = (
      <p>
        This page does not exist. <a href="/">Go home</a>.
      </p>
    );
  const signOut = async () => {
    await api.DELETE('/api/sessions/current');
    await refreshMe();
    navigate('/');
  };
  return (
    <div onClick={onLinkClick}>
      <header class="top">
        <a href="/" class="brand">
          Amphi
        </a>
        <nav aria-label="Main">
          <a href="/new">Host a Space</a>
          {me === null && <a href="/signin">Sign in</a>}
          {me === null && <a href="/signup">Sign up</a>}
          {me !== null && me !== undefined && (
            <>
              <a href="/settings">Reminders</a>
              <span class="who">@{me.handle}</span>
              <button type="button" class="link" onClick={() => void signOut()}>
                Sign out
              </button>
            </>
          )}
        </nav>
      </header>
      <main id="main">{page}</main>
    </div>
  );
}
