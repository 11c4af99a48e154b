import { useState } from 'preact/hooks';
import { ApiError, unwrap, type Act } from '../api.ts';
import { CatchUpControl } from '../components/catch-up-control.tsx';
import { ClipButton } from '../components/clip-button.tsx';
import { Doors } from '../components/doors.tsx';
import { HostPanel } from '../components/host-panel.tsx';
import { LiveCaptionsArea } from '../components/live-captions.tsx';
import { ModerationPanel } from '../components/moderation-panel.tsx';
import { ReportButton } from '../components/report-button.tsx';
import { Player } from '../components/player.tsx';
import { Reactions } from '../components/reactions.tsx';
import { RemindToggle } from '../components/remind-toggle.tsx';
import { SpaceHeader } from '../components/space-header.tsx';
import { StageControls, useStageSession } from '../components/stage-controls.tsx';
import { StageList } from '../components/stage-list.tsx';
import { WaitingCard } from '../components/waiting-card.tsx';
import { captionsOf } from '../captions.ts';
import { useMe } from '../session.ts';
import { strings } from '../strings.ts';
import { useSpaceListening } from '../use-space-listening.ts';

const t = strings.space;

/**
 * A Space for everyone: listeners play it (and, while they do, follow the room state through their
 * edge), speakers join the stage, hosts and co-hosts get their controls.
 */
export function SpacePage({ id }: { id: string }) {
  const me = useMe();
  const [notice, setNotice] = useState('');
  const { space, room, degradation, relation, reload, error, listening } = useSpaceListening(id, setNotice);
  const act: Act = async (run) => {
    try {
      unwrap(await run());
      setNotice('');
      reload();
    } catch (e) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };
  const ended = room?.status === 'ended';
  // Unknown until both are loaded: only a room state that leaves the caller out ends their stage session.
  const onStage = room === undefined || !me || (!ended && room.stage.some((m) => m.id === me.id));
  const stage = useStageSession(id, me, act, listening.stop, setNotice, onStage);

  if (space === undefined || room === undefined) return <p class="loading">{error === '' ? strings.common.loading : error}</p>;
  const signedIn = me !== null && me !== undefined;
  const moderator = relation?.role === 'host' || relation?.role === 'cohost';
  const canPlay = room.status !== 'ended' && stage.connection === undefined;
  // In the room state the edge serves while the listener plays; the API's view has none.
  const captions = captionsOf(room);
  return (
    <section class="space with-bar">
      <SpaceHeader space={space} room={room} degradation={degradation} />
      {notice !== '' && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      {listening.door !== undefined && <WaitingCard door={listening.door} />}
      {room.status === 'live' && captions?.on === true && <LiveCaptionsArea captions={captions} />}
      {room.status === 'scheduled' && <Doors host={space.host.handle} room={room} atDoors={listening.atDoors} />}
      {room.status === 'scheduled' &&
        (relation !== undefined && relation.role === 'listener' ? (
          <p class="remind-row">
            <RemindToggle id={space.id} reminded={relation.reminded} />
          </p>
        ) : me === null ? (
          <p class="remind-row">
            <a href={`/signin?next=/s/${space.id}`}>{strings.common.signIn}</a>
            {t.signInToRemind}
            <a href={`/api/spaces/${encodeURIComponent(space.id)}/calendar.ics`} download>
              {t.addToCalendarLower}
            </a>
            .
          </p>
        ) : null)}
      {canPlay && room.status === 'live' && 'MediaSource' in window && listening.grants === undefined && (
        <CatchUpControl id={space.id} play={(rate, startAt) => void listening.play(rate, startAt)} />
      )}
      {signedIn && room.status === 'live' && (
        <div class="actions">
          <ClipButton id={space.id} label={t.clipLast} seconds={30} what={(seconds) => ({ last: seconds })} />
        </div>
      )}
      <StageList stage={room.stage} />
      {!ended && <Reactions spaceId={space.id} room={room} signedIn={signedIn} />}
      {me === null && room.status === 'live' && (
        <p class="muted">
          <a href={`/signin?next=/s/${space.id}`}>{strings.common.signIn}</a>
          {t.signInToReact}
        </p>
      )}
      {relation !== undefined && room.status !== 'ended' && (
        <StageControls id={id} room={room} relation={relation} me={me} session={stage} act={act} />
      )}
      {/* An ended Space has no live controls: what remains is the audience, the audit log and the figures. */}
      {moderator && !ended && <HostPanel space={space} room={room} isHost={relation.role === 'host'} act={act} />}
      {moderator && <ModerationPanel space={space} room={room} isHost={relation.role === 'host'} act={act} />}
      {signedIn && me.id !== space.host.id && (
        <ReportButton
          target={{ kind: ended && room.replay.available ? 'replay' : 'space', spaceId: space.id }}
          onSent={setNotice}
        />
      )}
      <Player
        bar
        listening={listening}
        canPlay={canPlay}
        roomStatus={room.status}
        onStage={stage.connection !== undefined}
        title={room.title}
        spaceId={space.id}
        shareUrl={`${location.origin}/s/${space.id}`}
        report={setNotice}
      />
    </section>
  );
}
