import { useEffect, useState } from 'preact/hooks';
import { api, errorOf, type Account, type Profile } from '../api.ts';
import { field } from '../forms.ts';
import { strings } from '../strings.ts';
import { Avatar } from './avatar.tsx';
import { Alert, Status } from './messages.tsx';

const t = strings.profileForm;

/** The file as base64 (the API takes pictures in JSON, so the browser's session cookie protects it like any write). */
async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Display name, bio and picture of the signed-in account, with a link to its public page. */
export function ProfileForm({ me }: { me: Account }) {
  const [profile, setProfile] = useState<Profile>();
  const [notice, setNotice] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    void api.GET('/api/users/{handle}', { params: { path: { handle: me.handle } } }).then(({ data }) => setProfile(data?.user));
  }, [me.handle]);
  const done = (res: { data?: { user: Profile }; error?: unknown; response: Response }, ok: string) => {
    if (res.data === undefined) {
      setError(errorOf(res.error)?.message ?? String(res.response.status));
      return;
    }
    setProfile(res.data.user);
    setError('');
    setNotice(ok);
  };
  const save = async (event: SubmitEvent) => {
    event.preventDefault();
    const body = { displayName: field(event.currentTarget, 'displayName'), bio: field(event.currentTarget, 'bio') };
    done(await api.PATCH('/api/me/profile', { body }), t.saved);
  };
  const upload = async (event: Event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file === undefined) return;
    done(await api.PUT('/api/me/avatar', { body: { contentType: file.type, data: await base64Of(file) } }), t.pictureSaved);
  };
  const removePicture = async () => {
    await api.DELETE('/api/me/avatar');
    if (profile !== undefined) setProfile({ ...profile, avatarUrl: null });
  };
  if (profile === undefined) return null;
  return (
    <section class="card profile-form" aria-labelledby="profile-title">
      <h2 id="profile-title">{t.title}</h2>
      <div class="list-row">
        <Avatar
          handle={me.handle}
          displayName={profile.displayName ?? undefined}
          src={profile.avatarUrl ?? undefined}
          size="lg"
        />
        <a href={`/@${me.handle}`}>{t.viewPage}</a>
      </div>
      <form onSubmit={(e) => void save(e)}>
        <label>
          {t.displayName}
          <input name="displayName" maxLength={50} defaultValue={profile.displayName ?? ''} autoComplete="name" />
        </label>
        <label>
          {t.bio}
          <textarea name="bio" maxLength={300} rows={3} defaultValue={profile.bio ?? ''} />
        </label>
        <button type="submit" class="primary">
          {t.save}
        </button>
      </form>
      <label>
        {t.picture}
        <input type="file" accept="image/png,image/jpeg,image/webp" onChange={(e) => void upload(e)} />
      </label>
      {profile.avatarUrl !== null && (
        <button type="button" class="secondary" onClick={() => void removePicture()}>
          {t.removePicture}
        </button>
      )}
      <Alert text={error} />
      <Status text={notice} />
    </section>
  );
}
