import { useEffect, useState } from 'preact/hooks';
import type { RoomStateView } from '../../../src/shared/room-state.ts';
import { api, type Act, type Space, type SpeakRequest } from '../api.ts';
import { field } from '../forms.ts';
import { captionsOf } from '../captions.ts';
import { Avatar } from './avatar.tsx';
import { CaptionsToggle } from './captions-toggle.tsx';
import { MicCheck } from './mic-check.tsx';
import { strings } from '../strings.ts';

const t = strings.host;

interface HostPanelProps {
  readonly space: Space;
  readonly room: RoomStateView;
  readonly isHost: boolean;
  readonly act: Act;
}

/** Host and co-host controls: go live, captions, requests, the stage, the pinned link, the end. */
export function HostPanel({ space, room, isHost, act }: HostPanelProps) {
  const path = { params: { path: { id: space.id } } };
  return (
    <section class="card host" aria-label={t.region}>
      <h2>{t.title}</h2>
      {room.status === 'scheduled' && isHost && (
        <div class="actions">
          <MicCheck />
          <button type="button" class="primary" onClick={() => void act(() => api.POST('/api/spaces/{id}/start', path))}>
            {t.goLive}
          </button>
        </div>
      )}
      {room.status === 'scheduled' && isHost && <RescheduleForm id={space.id} act={act} />}
      {room.status === 'live' && <CaptionsToggle spaceId={space.id} on={captionsOf(room)?.on} />}
      <SpeakRequests space={space} act={act} />
      <StageModeration id={space.id} stage={room.stage} isHost={isHost} act={act} />
      <InviteForm id={space.id} act={act} />
      <PinForm id={space.id} act={act} />
      {isHost && room.status !== 'ended' && (
        <button type="button" class="danger" onClick={() => void act(() => api.POST('/api/spaces/{id}/end', path))}>
          {t.end}
        </button>
      )}
    </section>
  );
}

/** Pending requests to speak, polled (moderators only, and they are few), each to accept or decline. */
function SpeakRequests({ space, act }: { space: Space; act: Act }) {
  const [requests, setRequests] = useState<SpeakRequest[]>([]);
  const id = space.id;
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const { data } = await api.GET('/api/spaces/{id}/requests', { params: { path: { id } } });
      if (alive && data !== undefined) setRequests(data.requests);
    };
    void load();
    const timer = setInterval(() => void load(), 1000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [id, space.version]);
  const member = (accountId: string) => ({ params: { path: { id, accountId } } });
  return (
    <>
      <h3>{t.requests}</h3>
      {requests.length === 0 ? <p class="muted">{t.noRequests}</p> : null}
      <ul class="list">
        {requests.map((r) => (
          <li key={r.id} class="list-row">
            <Avatar handle={r.handle} size="sm" />
            <span class="grow">@{r.handle}</span>
            <button
              type="button"
              onClick={() => void act(() => api.POST('/api/spaces/{id}/requests/{accountId}/accept', member(r.id)))}
            >
              {t.accept(r.handle)}
            </button>{' '}
            <button
              type="button"
              onClick={() => void act(() => api.POST('/api/spaces/{id}/requests/{accountId}/decline', member(r.id)))}
            >
              {t.decline}
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

/** Everyone on stage but the host: mute, move to the audience, remove, make or unmake co-host. */
function StageModeration({ id, stage, isHost, act }: { id: string; stage: RoomStateView['stage']; isHost: boolean; act: Act }) {
  const member = (accountId: string) => ({ params: { path: { id, accountId } } });
  return (
    <>
      <h3>{t.stage}</h3>
      <ul class="list">
        {stage
          .filter((m) => m.role !== 'host')
          .map((m) => (
            <li key={m.id} class="list-row">
              <Avatar handle={m.handle} size="sm" />
              <span class="grow">
                @{m.handle} <span class="muted">({strings.stage.roles[m.role]})</span>
              </span>
              {!m.muted && (
                <button
                  type="button"
                  onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/mute', member(m.id)))}
                >
                  {t.mute}
                </button>
              )}{' '}
              <button
                type="button"
                onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/audience', member(m.id)))}
              >
                {t.toAudience}
              </button>{' '}
              <button
                type="button"
                onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/remove', member(m.id)))}
              >
                {t.remove}
              </button>{' '}
              {isHost &&
                (m.role === 'cohost' ? (
                  <button
                    type="button"
                    onClick={() => void act(() => api.DELETE('/api/spaces/{id}/members/{accountId}/cohost', member(m.id)))}
                  >
                    {t.unmakeCohost}
                  </button>
                ) : (
                  <button
                    type="button"
                    onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/cohost', member(m.id)))}
                  >
                    {t.makeCohost}
                  </button>
                ))}
            </li>
          ))}
      </ul>
    </>
  );
}

/** Invites a listener, by handle, to speak. */
function InviteForm({ id, act }: { id: string; act: Act }) {
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        const handle = field(e.target, 'handle').replace(/^@/, '');
        void act(async () => {
          const found = await api.GET('/api/accounts/by-handle/{handle}', { params: { path: { handle } } });
          if (found.data === undefined) return found;
          return api.POST('/api/spaces/{id}/invitations', { params: { path: { id } }, body: { accountId: found.data.id } });
        });
      }}
    >
      <label>
        {t.invite}
        <input name="handle" placeholder="@handle" required pattern="@?[A-Za-z0-9_]{3,30}" />
      </label>
      <button type="submit">{t.inviteButton}</button>
    </form>
  );
}

/** Pins a link above the stage for everyone. */
/** A revised start: the audience waiting at the doors sees it at once, calendars on their next refresh. */
function RescheduleForm({ id, act }: { id: string; act: Act }) {
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        const local = field(e.target, 'start'); // the host's local time, as the input gives it
        const scheduledStart = new Date(local).toISOString();
        void act(() => api.PATCH('/api/spaces/{id}', { params: { path: { id } }, body: { scheduledStart } }));
      }}
    >
      <label>
        {t.moveStart}
        <input name="start" type="datetime-local" required />
      </label>
      <button type="submit">{t.move}</button>
    </form>
  );
}

function PinForm({ id, act }: { id: string; act: Act }) {
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        const url = field(e.target, 'url');
        void act(() => api.PUT('/api/spaces/{id}/pin', { params: { path: { id } }, body: { url } }));
      }}
    >
      <label>
        {t.pin}
        <input name="url" type="url" placeholder="https://…" required />
      </label>
      <button type="submit">{t.pinButton}</button>
    </form>
  );
}
