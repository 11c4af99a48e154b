import { useEffect, useState } from 'preact/hooks';
import type { RoomStateView } from '../../../src/shared/room-state.ts';
import { api, type Act, type Space, type SpeakRequest } from '../api.ts';
import { field } from '../forms.ts';
import { MicCheck } from './mic-check.tsx';

interface HostPanelProps {
  readonly space: Space;
  readonly room: RoomStateView;
  readonly isHost: boolean;
  readonly act: Act;
}

/** Host and co-host controls: go live, requests, the stage, the pinned link, the end. */
export function HostPanel({ space, room, isHost, act }: HostPanelProps) {
  const path = { params: { path: { id: space.id } } };
  return (
    <section class="card host" aria-label="Host controls">
      <h2>Host controls</h2>
      {room.status === 'scheduled' && isHost && (
        <div class="actions">
          <MicCheck />
          <button type="button" class="primary" onClick={() => void act(() => api.POST('/api/spaces/{id}/start', path))}>
            Go live
          </button>
        </div>
      )}
      {room.status === 'scheduled' && isHost && <RescheduleForm id={space.id} act={act} />}
      <SpeakRequests space={space} act={act} />
      <StageModeration id={space.id} stage={room.stage} isHost={isHost} act={act} />
      <InviteForm id={space.id} act={act} />
      <PinForm id={space.id} act={act} />
      {isHost && room.status !== 'ended' && (
        <button type="button" class="danger" onClick={() => void act(() => api.POST('/api/spaces/{id}/end', path))}>
          End the Space
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
      <h3>Requests to speak</h3>
      {requests.length === 0 ? <p class="muted">No requests.</p> : null}
      <ul>
        {requests.map((r) => (
          <li key={r.id}>
            @{r.handle}{' '}
            <button
              type="button"
              onClick={() => void act(() => api.POST('/api/spaces/{id}/requests/{accountId}/accept', member(r.id)))}
            >
              Accept @{r.handle}
            </button>{' '}
            <button
              type="button"
              onClick={() => void act(() => api.POST('/api/spaces/{id}/requests/{accountId}/decline', member(r.id)))}
            >
              Decline
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
      <h3>Stage</h3>
      <ul>
        {stage
          .filter((m) => m.role !== 'host')
          .map((m) => (
            <li key={m.id}>
              @{m.handle} ({m.role}){' '}
              {!m.muted && (
                <button
                  type="button"
                  onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/mute', member(m.id)))}
                >
                  Mute
                </button>
              )}{' '}
              <button
                type="button"
                onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/audience', member(m.id)))}
              >
                Move to audience
              </button>{' '}
              <button
                type="button"
                onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/remove', member(m.id)))}
              >
                Remove
              </button>{' '}
              {isHost &&
                (m.role === 'cohost' ? (
                  <button
                    type="button"
                    onClick={() => void act(() => api.DELETE('/api/spaces/{id}/members/{accountId}/cohost', member(m.id)))}
                  >
                    Unmake co-host
                  </button>
                ) : (
                  <button
                    type="button"
                    onClick={() => void act(() => api.POST('/api/spaces/{id}/members/{accountId}/cohost', member(m.id)))}
                  >
                    Make co-host
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
        Invite a listener to speak
        <input name="handle" placeholder="@handle" required pattern="@?[A-Za-z0-9_]{3,30}" />
      </label>
      <button type="submit">Invite</button>
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
        Move the start to
        <input name="start" type="datetime-local" required />
      </label>
      <button type="submit">Move</button>
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
        Pin a link
        <input name="url" type="url" placeholder="https://…" required />
      </label>
      <button type="submit">Pin</button>
    </form>
  );
}
