import { useEffect, useState } from 'preact/hooks';
import { api, errorOf } from '../api.ts';
import { field } from '../forms.ts';
import { currentSubscription, pushSupported, subscribeThisBrowser, unsubscribeThisBrowser } from '../push.ts';
import { useMe } from '../session.ts';
import { BlocksList } from '../components/blocks-list.tsx';
import { ProfileForm } from '../components/profile-form.tsx';
import { strings } from '../strings.ts';

const t = strings.settings;

type EmailSettings = { email: string; verified: boolean; remindersByEmail: boolean } | null;
type Hook = { id: string; url: string; createdAt: string };

/** Where reminders reach you (e-mail, this browser) and, for hosts, webhooks. */
export function SettingsPage() {
  const me = useMe();
  if (me === null) {
    return (
      <p>
        <a href="/signin?next=/settings">{strings.common.signIn}</a>
        {t.signInFirst}
      </p>
    );
  }
  return (
    <div class="narrow settings">
      {me !== undefined && <ProfileForm me={me} />}
      <section class="card">
        <h1>{t.title}</h1>
        <p class="muted">{t.intro}</p>
        <EmailSection />
        <PushSection />
        <WebhookSection />
      </section>
      <BlocksList />
    </div>
  );
}

function EmailSection() {
  const [settings, setSettings] = useState<EmailSettings | undefined>();
  const [message, setMessage] = useState('');
  useEffect(() => {
    void api.GET('/api/me/email').then(({ data }) => setSettings(data?.email ?? null));
  }, []);
  const save = async (event: SubmitEvent) => {
    event.preventDefault();
    const email = field(event.target, 'email');
    const res = await api.PUT('/api/me/email', { body: { email } });
    if (res.data !== undefined) {
      setSettings(res.data.email);
      setMessage(res.data.email.verified ? '' : t.sent(email));
    } else setMessage(errorOf(res.error)?.message ?? t.couldNotSave(res.response.status));
  };
  const state =
    settings === undefined || settings === null
      ? t.noAddress
      : !settings.verified
        ? t.unverified(settings.email)
        : settings.remindersByEmail
          ? t.confirmed(settings.email)
          : t.unsubscribed(settings.email);
  return (
    <form onSubmit={(e) => void save(e)} aria-labelledby="email-heading">
      <h2 id="email-heading">{t.byEmail}</h2>
      <p class="muted email-state">{state}</p>
      <label>
        {t.emailField}
        <input name="email" type="email" required maxLength={254} autoComplete="email" />
      </label>
      <button type="submit" class="primary">
        {t.save}
      </button>
      {message !== '' && (
        <p role="status" class="notice">
          {message}
        </p>
      )}
    </form>
  );
}

function PushSection() {
  const [on, setOn] = useState<boolean | undefined>();
  const [message, setMessage] = useState('');
  useEffect(() => {
    void currentSubscription().then((s) => setOn(s !== null));
  }, []);
  if (!pushSupported()) {
    return (
      <>
        <h2>{t.inBrowser}</h2>
        <p class="muted">{t.noPush}</p>
      </>
    );
  }
  const toggle = async () => {
    setMessage('');
    try {
      if (on === true) await unsubscribeThisBrowser();
      else await subscribeThisBrowser();
      setOn(!on);
    } catch (e) {
      setMessage(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <>
      <h2>{t.inBrowser}</h2>
      <button
        type="button"
        class="secondary"
        aria-pressed={on === true}
        disabled={on === undefined}
        onClick={() => void toggle()}
      >
        {on === true ? t.pushOn : t.pushOff}
      </button>
      {message !== '' && (
        <p role="alert" class="error">
          {message}
        </p>
      )}
    </>
  );
}

function WebhookSection() {
  const [hooks, setHooks] = useState<Hook[]>([]);
  const [secret, setSecret] = useState('');
  const [message, setMessage] = useState('');
  const load = async () => setHooks((await api.GET('/api/me/webhooks')).data?.webhooks ?? []);
  useEffect(() => void load(), []);
  const add = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const res = await api.POST('/api/me/webhooks', { body: { url: field(form, 'url') } });
    if (res.data !== undefined) {
      setSecret(res.data.webhook.secret);
      setMessage('');
      form.reset();
      await load();
    } else setMessage(errorOf(res.error)?.message ?? t.couldNotAdd(res.response.status));
  };
  const remove = async (id: string) => {
    await api.DELETE('/api/me/webhooks/{webhookId}', { params: { path: { webhookId: id } } });
    await load();
  };
  return (
    <form onSubmit={(e) => void add(e)} aria-labelledby="hooks-heading">
      <h2 id="hooks-heading">{t.webhooks}</h2>
      <p class="muted">{t.webhooksIntro}</p>
      <ul class="list">
        {hooks.map((h) => (
          <li key={h.id} class="list-row">
            <code class="grow">{h.url}</code>
            <button type="button" class="link" onClick={() => void remove(h.id)}>
              {t.remove}
            </button>
          </li>
        ))}
      </ul>
      <label>
        {t.webhookUrl}
        <input name="url" type="url" required maxLength={2000} placeholder="https://example.org/amphi" />
      </label>
      <button type="submit" class="primary">
        {t.addWebhook}
      </button>
      {secret !== '' && (
        <p role="status" class="notice">
          {t.secret}
          <code>{secret}</code>
        </p>
      )}
      {message !== '' && (
        <p role="alert" class="error">
          {message}
        </p>
      )}
    </form>
  );
}
