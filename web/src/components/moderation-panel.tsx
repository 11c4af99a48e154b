import type { RoomStateView } from '../../../src/shared/room-state.ts';
import { api, type Act, type Space } from '../api.ts';
import { field } from '../forms.ts';
import { strings } from '../strings.ts';
import { AnalyticsView } from './analytics-view.tsx';
import { AudienceList } from './audience-list.tsx';
import { AuditLog } from './audit-log.tsx';

const t = strings.moderation;

/** Hand the Space to a co-host (host only, before the end). */
function Handover({ space, room, act }: { space: Space; room: RoomStateView; act: Act }) {
  const cohosts = room.stage.filter((m) => m.role === 'cohost');
  if (cohosts.length === 0) return <p class="muted small">{t.noCohost}</p>;
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const accountId = field(event.currentTarget, 'accountId');
    void act(() => api.POST('/api/spaces/{id}/handover', { params: { path: { id: space.id } }, body: { accountId } }));
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <label class="grow">
        {t.handover}
        <select name="accountId">
          {cohosts.map((c) => (
            <option key={c.id} value={c.id}>
              @{c.handle}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="secondary">
        {t.handoverButton}
      </button>
      <p class="muted small">{t.handoverHint}</p>
    </form>
  );
}

/** The host's settings: topics, and whether co-hosts may end the Space. */
function Settings({ space, act }: { space: Space; act: Act }) {
  const path = { params: { path: { id: space.id } } };
  const saveTopics = (event: SubmitEvent) => {
    event.preventDefault();
    const text = field(event.currentTarget, 'tags');
    const tags = text
      .split(/[\s,]+/)
      .filter(Boolean)
      .slice(0, 5);
    void act(() => api.PATCH('/api/spaces/{id}', { ...path, body: { tags } }));
  };
  return (
    <>
      <label class="inline">
        <input
          type="checkbox"
          checked={space.cohostsMayEnd}
          onChange={(e) =>
            void act(() =>
              api.PATCH('/api/spaces/{id}', { ...path, body: { cohostsMayEnd: (e.target as HTMLInputElement).checked } }),
            )
          }
        />
        {t.cohostsMayEnd}
      </label>
      <form class="inline-form" onSubmit={saveTopics}>
        <label class="grow">
          {t.topics}
          <input
            name="tags"
            defaultValue={space.tags.map((tag) => `#${tag}`).join(' ')}
            key={space.tags.join(' ')}
            maxLength={130}
          />
        </label>
        <button type="submit" class="secondary">
          {t.saveTopics}
        </button>
      </form>
    </>
  );
}

/**
 * What the host and co-hosts see beyond the stage: the audience (remove, unban), the hand-over and
 * the host's settings while the Space runs, the audit log and the analytics (also after the end).
 */
export function ModerationPanel({ space, room, isHost, act }: { space: Space; room: RoomStateView; isHost: boolean; act: Act }) {
  const ended = room.status === 'ended';
  const audit = async (offset: number) =>
    (await api.GET('/api/spaces/{id}/audit', { params: { path: { id: space.id }, query: { limit: 20, offset } } })).data;
  return (
    <section class="card moderation" aria-label={t.region}>
      <h2>{t.region}</h2>
      {isHost && !ended && <Handover space={space} room={room} act={act} />}
      {isHost && !ended && <Settings space={space} act={act} />}
      {!isHost && !ended && space.cohostsMayEnd && (
        <button
          type="button"
          class="danger"
          onClick={() => void act(() => api.POST('/api/spaces/{id}/end', { params: { path: { id: space.id } } }))}
        >
          {t.endSpace}
        </button>
      )}
      <AudienceList spaceId={space.id} act={act} tick={space.version} />
      <AnalyticsView spaceId={space.id} live={!ended} />
      <AuditLog title={t.audit} source={space.id} load={audit} />
    </section>
  );
}
