import { useEffect, useState } from 'preact/hooks';
import { api, errorOf } from '../api.ts';
import { field } from '../forms.ts';
import { currentSubscription, pushSupported, subscribeThisBrowser, unsubscribeThisBrowser } from '../push.ts';
import { useMe } from '../session.ts';

type EmailSettings = { email: string; verified: boolean; remindersByEmail: boolean } | null;
type Hook = { id: string; url: string; createdAt: string };

/** Where reminders reach you (e-mail, this browser) and, for hosts, webhooks. */
export function SettingsPage() {
  const me = useMe();
  if (me === null) {
    return (
      <p>
        <a href="/signin?next=/settings">Sign in</a> to choose where your reminders go.
      </p>
    );
  }
  return (
    <section class="card narrow">
      <h1>Reminders</h1>
      <p class="muted">When a Space you asked to be reminded of goes live, Amphi tells you here:</p>
      <EmailSection />
      <PushSection />
      <WebhookSection />
    </section>
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
      setMessage(res.data.email.verified ? '' : `We sent a link to ${email}: open it to confirm the address.`);
    } else setMessage(errorOf(res.error)?.message ?? `Could not save (${res.response.status})`);
  };
  const state =
    settings === undefined || settings === null
      ? 'No address yet.'
      : !settings.verified
        ? `${settings.email}: waiting for you to open the link we sent.`
        : settings.remindersByEmail
          ? `${settings.email}: confirmed; reminders go there.`
          : `${settings.email}: you unsubscribed. Save it again to get reminders by e-mail.`;
  return (
    <form onSubmit={(e) => void save(e)} aria-labelledby="email-heading">
      <h2 id="email-heading">By e-mail</h2>
      <p class="muted email-state">{state}</p>
      <label>
        E-mail address
        <input name="email" type="email" required maxLength={254} autoComplete="email" />
      </label>
      <button type="submit">Save</button>
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
        <h2>In this browser</h2>
        <p class="muted">This browser cannot show notifications from this page (it needs HTTPS or localhost).</p>
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
      <h2>In this browser</h2>
      <button type="button" aria-pressed={on === true} disabled={on === undefined} onClick={() => void toggle()}>
        {on === true ? '🔔 Notifications on in this browser' : 'Notify me in this browser'}
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
    } else setMessage(errorOf(res.error)?.message ?? `Could not add (${res.response.status})`);
  };
  const remove = async (id: string) => {
    await api.DELETE('/api/me/webhooks/{webhookId}', { params: { path: { webhookId: id } } });
    await load();
  };
  return (
    <form onSubmit={(e) => void add(e)} aria-labelledby="hooks-heading">
      <h2 id="hooks-heading">Webhooks (for hosts)</h2>
      <p class="muted">Your Spaces' go-live and end, POSTed signed (Standard Webhooks) to your own service.</p>
      <ul>
        {hooks.map((h) => (
          <li key={h.id}>
            <code>{h.url}</code>{' '}
            <button type="button" class="link" onClick={() => void remove(h.id)}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <label>
        Webhook URL
        <input name="url" type="url" required maxLength={2000} placeholder="https://example.org/amphi" />
      </label>
      <button type="submit">Add webhook</button>
      {secret !== '' && (
        <p role="status" class="notice">
          Signing secret (shown once): <code>{secret}</code>
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
