import { Captions } from '../captions/captions.ts';
export type { Captions } from '../captions/captions.ts';
import { captionsMetrics } from '../captions/metrics.ts';
import type { Config } from '../config/schema.ts';
import { captionsRoutes, type CaptionsToggle } from '../control/http/captions-routes.ts';
import type { App } from '../control/http/types.ts';
import type { ControlPlane } from '../control/plane.ts';
import { TranscriptIndex } from '../control/transcripts.ts';
import { OriginPlane, type OriginDeps } from '../origin/plane.ts';
import { saveTranscript } from '../origin/transcript.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { ListenerFailures } from '../lib/typed-emitter.ts';
import type { StagePlane } from '../stage/plane.ts';
import type { CaptionsChoices } from '../storage/captions-store.ts';
import type { Metrics } from './metrics.ts';

/**
 * Live captions on a node that runs the stage (`captions.*`), with their metrics. The stage's close
 * ends every room, and so every recogniser thread (`followStage`).
 */
export function liveCaptions(parts: {
  readonly config: Readonly<Config>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly failures: ListenerFailures;
  readonly metrics: Metrics;
}): Captions {
  const captions = new Captions({
    ...parts.config.captions,
    clock: parts.clock,
    log: parts.log.child({ plane: 'captions' }),
    onListenerError: parts.failures.for('captions.recogniser'),
  });
  captionsMetrics(parts.metrics.registry, captions);
  return captions;
}

/**
 * Every stage room is offered to captions, and leaves them when its program ends: for good (`final`,
 * the Space ended) its transcript is flushed and handed on (`captions.events` `transcript`); else
 * (the node stops, the Space moves) the lines so far are held.
 */
export function followStage(captions: Captions, stage: StagePlane, choices: CaptionsChoices, log: Logger): void {
  stage.events.on('room', (room) => {
    captions.attach(room);
    room.program.on('end', ({ final }) => (final ? void captions.end(room.spaceId) : captions.detach(room.spaceId)));
    // The host's toggle from before this room opened here (a restart, a failover) is applied again.
    choices.chosen(room.spaceId).then(
      (on) => on !== undefined && captions.restore(room.spaceId, on),
      (error: unknown) => log.warn({ spaceId: room.spaceId, err: error }, "captions: the host's choice could not be read"),
    );
  });
}

/** The toggle on the node that holds the Space: applied here, then kept for the next node or start. */
export function localToggle(captions: Captions, choices: CaptionsChoices, clock: Clock): CaptionsToggle {
  return {
    async set(spaceId, on) {
      const view = captions.set(spaceId, on);
      await choices.choose(spaceId, on, clock.now());
      return view;
    },
  };
}

/** A room-state source with the Space's captions added (`captions`: on, automatic, the last lines). */
export function withCaptions(
  captions: Captions,
  source: (spaceId: string) => Promise<object>,
): (spaceId: string) => Promise<object> {
  return async (spaceId) => ({ ...(await source(spaceId)), captions: captions.view(spaceId) });
}

/**
 * The origin, with the WebVTT subtitle rendition of every captioned live Space (`subs.m3u8`), and the
 * transcript of each captioned Space written beside its recording when its program ends
 * (`transcript.json`: queued for the bucket like `recording.json`, deleted with the replay).
 */
export function captionedOrigin(captions: Captions, deps: Omit<OriginDeps, 'subtitles'>): OriginPlane {
  captions.events.on('transcript', ({ spaceId, lines }) => {
    const saved = saveTranscript(deps.storage, deps.log, spaceId, lines);
    if (saved !== undefined) captions.events.emit('transcript.saved', { spaceId, lines: saved.lines });
  });
  return new OriginPlane({ ...deps, subtitles: captions });
}

/**
 * `PUT /api/spaces/:id/captions` on the API app; and each transcript written here indexed in the
 * database for `GET /api/transcripts/search`.
 */
export function mountCaptions(app: App, plane: ControlPlane, config: Readonly<Config>, captions: Captions, clock: Clock): void {
  captionsRoutes(app, { plane, config }, localToggle(captions, plane.spaces.store.captionsChoices(), clock));
  const index = new TranscriptIndex(plane.spaces.store, app.log.child({ plane: 'control', part: 'transcripts' }));
  captions.events.on('transcript.saved', ({ spaceId, lines }) => void index.index(spaceId, lines));
}
