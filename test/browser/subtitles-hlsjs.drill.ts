/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type Hls from 'hls.js';
import type { Browser, Page } from 'playwright-core';
import { wordErrorRate } from '../../src/captions/wer.ts';
import { WhipSession } from '../../src/publish/whip-client.ts';
import { OpusEncoderMono } from '../../src/stage/codec.ts';
import { captionsSkip, SENTENCES, spokenScript } from '../captions/speech.ts';
import { CHROMIUM, launchChromium } from '../helpers/browser.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { servePlayerPage } from '../helpers/player-page.ts';
import { eventually } from '../helpers/eventually.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { optionalSuite, skipUnless } from '../helpers/skip.ts';

/**
 * The captions' WebVTT rendition as the web app's player reads it (issue 22: "ffmpeg or hls.js sees
 * the subtitle rendition"; ffprobe 5.1 cannot): flite sentences published over WHIP, on a loop, into a
 * live Space with captions on; hls.js in Debian's Chromium (player.html, unchanged) loads the
 * listener's multivariant playlist, lists the subtitle track as the playlist declares it, and once
 * the track is selected the audio element's TextTrack gets cues of the spoken words, timed where the
 * audio element plays them. A real-time recogniser: `npm test` runs this file alone (*.drill.ts).
 */
const skip =
  skipUnless({ available: existsSync(CHROMIUM), env: 'AMPHI_TEST_BROWSER', suite: 'subtitles in hls.js', install: 'chromium' }) ||
  captionsSkip('subtitles in hls.js');

const HOOK = { timeout: 60_000 };
const TEST = { timeout: 120_000 };
const SPOKEN = SENTENCES.slice(0, 2);
/** The pause before each sentence: the voice onsets in the played audio are found after it. */
const GAP_MS = 1500;

/** player.html's globals (top-level `const`s of its script, reachable by name in `page.evaluate`). */
declare const hls: Hls;
declare const audio: HTMLAudioElement;
declare const analyser: AnalyserNode;

interface SeenCue {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  /** The audio element's currentTime when the cue was first in its TextTrack. */
  readonly currentTime: number;
  readonly track: { readonly kind: string; readonly label: string; readonly language: string; readonly mode: string };
}

interface Watch {
  readonly cues: SeenCue[];
  /** The audio element's position and loudness (RMS of its last 50 ms), every 50 ms. */
  readonly samples: { readonly t: number; readonly rms: number }[];
}

/** Publishes `pcm` over and over in real time (20 ms Opus frames), until `stop`. */
function publishLoop(session: WhipSession, pcm: Float32Array): { stop: () => Promise<void> } {
  let running = true;
  const encoder = new OpusEncoderMono({ bitrateBps: 64_000, application: 'audio' });
  const frames = Math.ceil(pcm.length / 960);
  const done = (async () => {
    const started = performance.now();
    for (let n = 0; running; n++) {
      const frame = new Float32Array(960);
      frame.set(pcm.subarray((n % frames) * 960, ((n % frames) + 1) * 960));
      session.send(encoder.encode(frame));
      // Pacing a real-time stream, not waiting for a condition.
      const wait = started + (n + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    stop: () => {
      running = false;
      return done;
    },
  };
}

/** Records, in the page, every cue of the audio element's text tracks as it arrives, and the audio's loudness. */
function watchPage(page: Page): Promise<void> {
  return page.evaluate(() => {
    const watch: Watch = { cues: [], samples: [] };
    (globalThis as unknown as { watch: Watch }).watch = watch;
    const seen = new Set<string>();
    const buffer = new Float32Array(analyser.fftSize);
    setInterval(() => {
      analyser.getFloatTimeDomainData(buffer);
      const last = buffer.subarray(buffer.length - 2400);
      watch.samples.push({ t: audio.currentTime, rms: Math.sqrt(last.reduce((s, x) => s + x * x, 0) / last.length) });
      for (const track of Array.from(audio.textTracks)) {
        for (const cue of Array.from(track.cues ?? [])) {
          const text = (cue as VTTCue).text;
          const key = `${cue.startTime}:${text}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const { kind, label, language, mode } = track;
          watch.cues.push({
            start: cue.startTime,
            end: cue.endTime,
            text,
            currentTime: audio.currentTime,
            track: { kind, label, language, mode },
          });
        }
      }
    }, 50);
  });
}

/** Where a voice starts in the played audio (currentTime): loud after at least 0.8 s of quiet. */
function voiceOnsets(samples: Watch['samples']): number[] {
  const onsets: number[] = [];
  let quietSince: number | undefined;
  for (const { t, rms } of samples) {
    if (rms < 0.01) quietSince ??= t;
    else {
      if (quietSince !== undefined && t - quietSince >= 0.8) onsets.push(t);
      quietSince = undefined;
    }
  }
  return onsets;
}

/** hls.js's subtitle tracks, once it lists any. */
const listedTracks = (page: Page) =>
  page
    .evaluate(() =>
      hls.subtitleTracks.map((t) => ({
        name: t.name,
        lang: t.lang,
        groupId: t.groupId,
        autoselect: t.autoselect,
        default: t.default,
        type: t.type,
      })),
    )
    .then((list) => (list.length > 0 ? list : undefined));

/** What the page recorded, hls.js's errors and the audio element's text tracks. */
const pageState = (page: Page) =>
  page.evaluate(() => ({
    ...(globalThis as unknown as { watch: Watch }).watch,
    errors: (globalThis as unknown as { probe: () => { errors: string[] } }).probe().errors,
    tracks: Array.from(audio.textTracks).map(
      (t) => `${t.kind}/${t.label}/${t.language}/${t.mode}/${t.cues?.length ?? 'no'} cues`,
    ),
  }));

/**
 * Waits for a cue of a whole spoken sentence (WER < 0.34) starting within 1 s of a voice onset the
 * audio element played (the script loops: its first sentence may be cut by the recogniser loading its
 * model, or by the player joining mid-sentence). On time-out, says what the page had.
 */
async function spokenCue(page: Page): Promise<{ cue: SeenCue; sentence: string; onset: number }> {
  try {
    return await eventually(
      'a cue of a spoken sentence at a voice onset the audio element played',
      async () => {
        const { cues, samples } = await pageState(page);
        const onsets = voiceOnsets(samples);
        for (const cue of cues) {
          const sentence = SPOKEN.find((s) => wordErrorRate(s, cue.text) < 0.34);
          const onset = onsets.find((t) => Math.abs(t - cue.start) < 1);
          if (sentence !== undefined && onset !== undefined) return { cue, sentence, onset };
        }
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  } catch (error) {
    const { cues, samples, errors, tracks } = await pageState(page);
    const seen = { cues, onsets: voiceOnsets(samples), at: samples.at(-1), errors, tracks };
    throw new Error(`${(error as Error).message}; the page had ${JSON.stringify(seen)}`, { cause: error });
  }
}

optionalSuite('the subtitle rendition in hls.js', { skip, timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  let server: LiveServer;
  let pagesUrl: string;
  let browser: Browser;
  let playlistUrl: string;

  before(async () => {
    server = cleanup.use('server', await startLiveServer({ captions: { enabled: true, defaultOn: false, maxSpaces: 1 } }), (s) =>
      s.shutdown(),
    );
    pagesUrl = await servePlayerPage(cleanup);

    const { spaceId, host } = await server.liveSpace(0);
    assert.equal((await server.api('PUT', `/api/spaces/${spaceId}/captions`, host.token, { on: true })).status, 200);
    const stage = await server.stageToken(spaceId, host.token);
    const session = cleanup.use('WHIP session', await WhipSession.open({ url: stage.whipUrl, token: stage.token }), (s) =>
      s.close(),
    );
    await session.connected(5000);
    const publisher = publishLoop(session, spokenScript(SPOKEN, GAP_MS).pcm);
    cleanup.add('publisher', () => publisher.stop());
    playlistUrl = ((await server.api('POST', `/api/spaces/${spaceId}/join`)).json as { playlistUrl: string }).playlistUrl;
    const multivariant = await (await fetch(playlistUrl)).text();
    assert.match(multivariant, /^#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",.*URI="subs\.m3u8"$/m, multivariant);
    // hls.js lists the rendition even when the variant does not name its group; RFC 8216bis players
    // (Safari, AVPlayer) need the variant's SUBTITLES attribute to offer it.
    assert.match(multivariant, /^#EXT-X-STREAM-INF:.*,SUBTITLES="subs"/m, multivariant);
    browser = cleanup.use('chromium', await launchChromium(), (b) => b.close());
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  test(
    'hls.js lists the captions track; selected, its TextTrack gets the spoken words, on the audio timeline',
    TEST,
    async () => {
      const page = cleanup.use('page', await browser.newPage(), (p) => p.close());
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      await page.goto(`${pagesUrl}/?src=${encodeURIComponent(playlistUrl)}`);

      // The track as the multivariant playlist declares it (src/origin/playlist.ts).
      const tracks = await eventually('hls.js to list a subtitle track', () => listedTracks(page), {
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      assert.deepEqual(tracks, [
        { name: 'English (automatic)', lang: 'en', groupId: 'subs', autoselect: true, default: false, type: 'SUBTITLES' },
      ]);
      await watchPage(page);
      await page.evaluate(() => {
        hls.subtitleTrack = 0;
        hls.subtitleDisplay = true;
      });

      const { cue, sentence, onset } = await spokenCue(page);
      console.log(
        `hls.js subtitles: cue "${cue.text}" (WER ${wordErrorRate(sentence, cue.text).toFixed(2)}) at ${cue.start.toFixed(2)}-${cue.end.toFixed(2)} s; ` +
          `the voice played at ${onset.toFixed(2)} s (cue start ${Math.round((cue.start - onset) * 1000)} ms from it); ` +
          `the audio at ${cue.currentTime.toFixed(2)} s when the cue arrived (${Math.round((cue.currentTime - cue.end) * 1000)} ms after the cue's end)`,
      );
      assert.deepEqual(cue.track, { kind: 'subtitles', label: 'English (automatic)', language: 'en', mode: 'showing' });
      // On the audio's timeline: the cue arrives a few seconds at most from where the audio element
      // plays it (the rendition trails the audio by the recogniser's endpointing and waits for its
      // segment's end; the player plays behind live). With the onset check this pins the timeline: a
      // cue displaced by one loop of the script (about 10.7 s) could land on another onset of its
      // sentence, but not arrive within 6 s of its own end.
      assert.ok(
        Math.abs(cue.currentTime - cue.end) < 6,
        `the audio at ${cue.currentTime} s when the cue ${cue.start}-${cue.end} s arrived`,
      );
      const { errors } = await pageState(page);
      assert.deepEqual(
        errors.filter((e) => e.endsWith(':fatal')),
        [],
        'no fatal hls.js errors',
      );
      assert.deepEqual(consoleErrors, []);
    },
  );
});
