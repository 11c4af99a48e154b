import { useState } from 'preact/hooks';
import { api, ApiError, unwrap } from '../api.ts';
import { field } from '../forms.ts';
import { navigate } from '../router.ts';
import { useMe } from '../session.ts';
import { strings } from '../strings.ts';

const t = strings.newSpace;

export function NewSpacePage() {
  const me = useMe();
  const [error, setError] = useState('');
  if (me === null) {
    return (
      <p>
        <a href="/signin?next=/new">{strings.common.signIn}</a>
        {t.signInFirst}
      </p>
    );
  }
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const when = field(form, 'when');
    try {
      const { space } = unwrap(
        await api.POST('/api/spaces', {
          body: {
            title: field(form, 'title'),
            ...(when === '' ? {} : { scheduledStart: new Date(when).toISOString() }),
            allowAnonymous: field(form, 'anonymous') === 'on',
          },
        }),
      );
      navigate(`/s/${space.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <section class="card narrow">
      <h1>{t.title}</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          {t.fieldTitle}
          <input name="title" required maxLength={120} />
        </label>
        <label>
          {t.fieldWhen}
          <input name="when" type="datetime-local" />
        </label>
        <label class="inline">
          <input name="anonymous" type="checkbox" checked /> {t.anonymous}
        </label>
        {error !== '' && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" class="primary block">
          {t.create}
        </button>
      </form>
    </section>
  );
}
