import { useState } from 'preact/hooks';
import { api, ApiError, unwrap } from '../api.ts';
import { field } from '../forms.ts';
import { navigate } from '../router.ts';
import { refreshMe } from '../session.ts';
import { strings } from '../strings.ts';

const t = strings.auth;

export function AuthPage({ mode }: { mode: 'signin' | 'signup' }) {
  const [error, setError] = useState('');
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const body = { handle: field(event.target, 'handle'), password: field(event.target, 'password') };
    try {
      unwrap(mode === 'signin' ? await api.POST('/api/sessions', { body }) : await api.POST('/api/accounts', { body }));
      await refreshMe();
      navigate(new URLSearchParams(location.search).get('next') ?? '/');
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <section class="card narrow">
      <h1>{mode === 'signin' ? t.signIn : t.createAccount}</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          {t.handle}
          <input name="handle" autocomplete="username" required pattern="[A-Za-z0-9_]{3,30}" />
        </label>
        <label>
          {t.password}
          <input
            name="password"
            type="password"
            autocomplete={mode === 'signin' ? 'current-password' : 'new-password'}
            required
            minLength={8}
          />
        </label>
        {error !== '' && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" class="primary block">
          {mode === 'signin' ? t.signIn : t.signUp}
        </button>
      </form>
      <p class="switch">{mode === 'signin' ? <a href="/signup">{t.toSignUp}</a> : <a href="/signin">{t.toSignIn}</a>}</p>
    </section>
  );
}
