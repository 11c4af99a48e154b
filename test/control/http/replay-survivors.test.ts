import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClipRange, RecordingFile, RecordingFiles } from '../../../src/control/http/types.ts';
import { sharedPageHead } from '../../../src/control/http/share.ts';
import type { App } from '../../../src/lib/http-app.ts';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';
import { withRecordingFiles } from '../../helpers/recording-app.ts';

/**
 * Tests written for mutants of the replay and sharing code (clips, chapters, the podcast feed, the
 * calendars; `MUTATE_SCOPE=control-replay`) that survived the suite (Stryker, README "Mutation
 * testing"): each fails with its mutant and passes without it. The clip, feed and share routes were
 * dropped from that run to fit an hour; their tests here go with them. The recordings are a fake
 * `RecordingFiles`: what the control routes make of what the origin answers.
 */

/** A finished recording of `size` bytes and `durationMs` (the feed reads only these). */
const recording = (size: number, durationMs: number): RecordingFile => ({
  size,
  durationMs,
  etag: `"r${size}"`,
  read: () => (async function* () {})(),
});

/** The clip file every cut makes: ten bytes, 0..9. */
const CLIP_BYTES = Uint8Array.from({ length: 10 }, (_, i) => i);
/** Where a fake recording ends, for `{last}` clips: 100 s. */
const RECORDED_MS = 100_000;

function fakeFiles() {
  const opened = new Map<string, RecordingFile>();
  const chapters = new Map<string, { startMs: number; endMs: number; speaker: string; excerpt?: string }[]>();
  const cuttable = new Set<string>();
  const cuts: { spaceId: string; clipId: string; range: ClipRange }[] = [];
  const clips = new Map<string, Uint8Array>();
  const files: RecordingFiles = {
    open: (id) => Promise.resolve(opened.get(id)),
    chapters: (id) => Promise.resolve(chapters.get(id)),
    cutClip: (spaceId, clipId, range) => {
      cuts.push({ spaceId, clipId, range });
      if (!cuttable.has(spaceId)) return Promise.resolve(undefined);
      clips.set(clipId, CLIP_BYTES);
      return Promise.resolve(
        'lastMs' in range
          ? { startMs: RECORDED_MS - range.lastMs, endMs: RECORDED_MS }
          : { startMs: range.fromMs, endMs: range.toMs },
      );
    },
    clip: (_spaceId, clipId) => Promise.resolve(clips.get(clipId)),
  };
  return { files, opened, chapters, cuttable, cuts, clips };
}

/** A test app with fake recording files and a host, made before a suite's tests and closed after them. */
interface Fixture {
  test_: TestApp;
  app: App;
  fake: ReturnType<typeof fakeFiles>;
  host: { id: string; token: string };
}

async function openFixture(handle: string, config: Parameters<typeof makeTestApp>[0]): Promise<Fixture> {
  const test_ = await makeTestApp(config);
  const fake = fakeFiles();
  const app = await withRecordingFiles(test_, fake.files);
  return { test_, app, fake, host: await test_.signUp(handle) };
}

async function closeFixture(f: Fixture): Promise<void> {
  await f.app.close();
  await f.test_.close();
}

describe('replay and sharing routes: what the mutants showed untested', () => {
  let test_: TestApp, app: App, fake: ReturnType<typeof fakeFiles>, host: Fixture['host'];
  let fixture: Fixture;
  before(async () => {
    fixture = await openFixture('rs_host', {
      server: { publicUrl: 'https://amphi.example' },
      rateLimits: {
        authPerAddress: { capacity: 10_000, refillPerSecond: 1000 },
        clipsPerAccount: { capacity: 2, refillPerSecond: 0.001 },
      },
    });
    ({ test_, app, fake, host } = fixture);
  });
  after(() => closeFixture(fixture));

  const inject = (
    method: 'GET' | 'POST',
    url: string,
    o: { token?: string; body?: object; headers?: Record<string, string> } = {},
  ) =>
    app.inject({
      method,
      url,
      headers: { ...o.headers, ...(o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }) },
      ...(o.body === undefined ? {} : { payload: o.body }),
    });
  /** A Space of the host's, started, and ended unless `live`. */
  const space = async (title: string, o: { live?: boolean; anonymous?: boolean; token?: string } = {}) => {
    const token = o.token ?? host.token;
    const id = (await test_.call('POST', '/api/spaces', { token, body: { title, allowAnonymous: o.anonymous ?? true } })).json
      .space.id as string;
    await test_.call('POST', `/api/spaces/${id}/start`, { token });
    if (!(o.live ?? false)) await test_.call('POST', `/api/spaces/${id}/end`, { token });
    return id;
  };

  test(
    'a clip: the range asked ({start, end} or {last}) in ms, its view with page and audio URLs, 201',
    { timeout: 30_000 },
    async () => {
      const id = await space('Clipped');
      fake.cuttable.add(id);
      const clipper = await test_.signUp('rs_clipper');
      const made = await inject('POST', `/api/spaces/${id}/clips`, { token: clipper.token, body: { start: 12.5, end: 30 } });
      assert.equal(made.statusCode, 201, made.body);
      const clip = made.json().clip;
      assert.equal(fake.cuts.at(-1)!.clipId, clip.id);
      assert.deepEqual(fake.cuts.at(-1)!.range, { fromMs: 12_500, toMs: 30_000 });
      assert.deepEqual(clip, {
        id: clip.id,
        spaceId: id,
        start: 12.5,
        end: 30,
        durationSeconds: 17.5,
        createdAt: new Date(test_.clock.now()).toISOString(),
        pageUrl: `https://amphi.example/c/${clip.id}`,
        audioUrl: `https://amphi.example/api/clips/${clip.id}/audio.m4a`,
      });
      const last = await inject('POST', `/api/spaces/${id}/clips`, { token: clipper.token, body: { last: 20 } });
      assert.equal(last.statusCode, 201, last.body);
      assert.deepEqual(fake.cuts.at(-1)!.range, { lastMs: 20_000 });
      assert.deepEqual([last.json().clip.start, last.json().clip.end], [80, 100]);
      const read = await inject('GET', `/api/clips/${clip.id}`);
      assert.equal(read.statusCode, 200, read.body);
      assert.deepEqual(read.json(), {
        clip,
        space: { id, title: 'Clipped', host: { handle: 'rs_host' } },
      });
    },
  );

  test('clip bodies: last is 5 to 60 s, start and end at least 0, nothing else', { timeout: 30_000 }, async () => {
    const id = await space('Bounds');
    fake.cuttable.add(id);
    const clipper = await test_.signUp('rs_bounds');
    for (const body of [{ last: 4 }, { last: 61 }, { start: -1, end: 10 }, { start: 0, end: -1 }, { last: 10, extra: 1 }]) {
      const res = await inject('POST', `/api/spaces/${id}/clips`, { token: clipper.token, body });
      assert.equal(res.statusCode, 400, JSON.stringify(body));
    }
    const edge = await inject('POST', `/api/spaces/${id}/clips`, { token: clipper.token, body: { last: 5 } });
    assert.equal(edge.statusCode, 201, edge.body);
  });

  test('who may clip: signed in, a Space with a recording, within the rate limit', { timeout: 30_000 }, async () => {
    const id = await space('Limited');
    fake.cuttable.add(id);
    const anonymous = await inject('POST', `/api/spaces/${id}/clips`, { body: { last: 10 } });
    assert.equal(anonymous.statusCode, 401);
    const clipper = await test_.signUp('rs_limited');
    for (let i = 0; i < 2; i++) {
      assert.equal(
        (await inject('POST', `/api/spaces/${id}/clips`, { token: clipper.token, body: { last: 10 } })).statusCode,
        201,
      );
    }
    const third = await inject('POST', `/api/spaces/${id}/clips`, { token: clipper.token, body: { last: 10 } });
    assert.deepEqual([third.statusCode, third.json().error.code], [429, 'RATE_LIMITED']);
    const other = await test_.signUp('rs_other');
    const scheduled = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'Not yet' } })).json.space.id;
    const early = await inject('POST', `/api/spaces/${scheduled}/clips`, { token: other.token, body: { last: 10 } });
    assert.deepEqual([early.statusCode, early.json().error.code], [409, 'RECORDING_NOT_AVAILABLE']);
    const uncut = await space('Nothing recorded');
    const none = await inject('POST', `/api/spaces/${uncut}/clips`, { token: other.token, body: { last: 10 } });
    assert.deepEqual([none.statusCode, none.json().error.code], [409, 'RECORDING_NOT_AVAILABLE']);
    const bare = await test_.call('POST', `/api/spaces/${id}/clips`, { token: other.token, body: { last: 10 } });
    assert.deepEqual([bare.status, bare.json.error.code], [409, 'RECORDING_NOT_AVAILABLE'], 'a node without recordings');
  });

  test(
    "a clip's audio: the whole file or one range, private, its id as the ETag; gone or unknown is 404",
    { timeout: 30_000 },
    async () => {
      const id = await space('Heard');
      fake.cuttable.add(id);
      const clipId = (await inject('POST', `/api/spaces/${id}/clips`, { token: host.token, body: { last: 30 } })).json().clip.id;
      const whole = await inject('GET', `/api/clips/${clipId}/audio.m4a`);
      assert.equal(whole.statusCode, 200);
      assert.deepEqual([...whole.rawPayload], [...CLIP_BYTES]);
      assert.equal(whole.headers['content-type'], 'audio/mp4');
      assert.equal(whole.headers['accept-ranges'], 'bytes');
      assert.equal(whole.headers.etag, `"${clipId}"`);
      assert.equal(whole.headers['cache-control'], 'private, max-age=3600');
      const part = await inject('GET', `/api/clips/${clipId}/audio.m4a`, { headers: { range: 'bytes=2-4' } });
      assert.equal(part.statusCode, 206);
      assert.equal(part.headers['content-range'], 'bytes 2-4/10');
      assert.deepEqual([...part.rawPayload], [2, 3, 4]);
      const past = await inject('GET', `/api/clips/${clipId}/audio.m4a`, { headers: { range: 'bytes=20-' } });
      assert.equal(past.statusCode, 416);
      assert.equal(past.headers['content-range'], 'bytes */10');
      fake.clips.delete(clipId);
      const gone = await inject('GET', `/api/clips/${clipId}/audio.m4a`);
      assert.deepEqual([gone.statusCode, gone.json().error.code], [404, 'CLIP_NOT_FOUND']);
      const bare = await test_.call('GET', `/api/clips/${clipId}/audio.m4a`);
      assert.deepEqual([bare.status, bare.json.error.code], [404, 'CLIP_NOT_FOUND'], 'a node without recordings');
      const unknown = await inject('GET', '/api/clips/cl_AAAAAAAAAAAA');
      assert.deepEqual([unknown.statusCode, unknown.json().error.code], [404, 'CLIP_NOT_FOUND']);
    },
  );

  test("a sign-in-only Space's clip is for signed-in listeners only", { timeout: 30_000 }, async () => {
    const id = await space('Members', { anonymous: false });
    fake.cuttable.add(id);
    const clipId = (await inject('POST', `/api/spaces/${id}/clips`, { token: host.token, body: { last: 30 } })).json().clip.id;
    assert.equal((await inject('GET', `/api/clips/${clipId}`)).statusCode, 401);
    assert.equal((await inject('GET', `/api/clips/${clipId}/audio.m4a`)).statusCode, 401);
    assert.equal((await inject('GET', `/api/clips/${clipId}`, { token: host.token })).statusCode, 200);
    const head = sharedPageHead({ plane: test_.plane, live: test_.live });
    assert.equal(await head(`/c/${clipId}`, 'https://amphi.example'), undefined, 'the shared page shows what any visitor may');
  });
});

describe('chapters, feeds and shared links: what the mutants showed untested', () => {
  let test_: TestApp, app: App, fake: ReturnType<typeof fakeFiles>, host: Fixture['host'];
  let fixture: Fixture;
  before(async () => {
    fixture = await openFixture('rf_host', { server: { publicUrl: 'https://amphi.example' } });
    ({ test_, app, fake, host } = fixture);
  });
  after(() => closeFixture(fixture));

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  const space = async (title: string, o: { live?: boolean; anonymous?: boolean } = {}) => {
    const id = (
      await test_.call('POST', '/api/spaces', { token: host.token, body: { title, allowAnonymous: o.anonymous ?? true } })
    ).json.space.id as string;
    await test_.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    if (!(o.live ?? false)) await test_.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    return id;
  };

  test(
    "chapters: a live Space's are cached 5 s, a replay's an hour; unknown speakers are someone; cues are numbered",
    { timeout: 30_000 },
    async () => {
      const live = await space('On air', { live: true });
      const ended = await space('Done');
      for (const id of [live, ended]) {
        fake.chapters.set(id, [
          { startMs: 0, endMs: 4000, speaker: host.id },
          { startMs: 4000, endMs: 9000, speaker: 'ac_gone', excerpt: 'who was that' },
        ]);
      }
      const json = await get(`/api/spaces/${live}/chapters`);
      assert.equal(json.statusCode, 200);
      assert.equal(json.headers['cache-control'], 'private, max-age=5');
      assert.deepEqual(json.json().chapters, [
        { start: 0, end: 4, speaker: { id: host.id, handle: 'rf_host' } },
        { start: 4, end: 9, speaker: { id: 'ac_gone', handle: 'someone' }, excerpt: 'who was that' },
      ]);
      assert.equal((await get(`/api/spaces/${live}/chapters.vtt`)).headers['cache-control'], 'private, max-age=5');
      assert.equal((await get(`/api/spaces/${ended}/chapters`)).headers['cache-control'], 'private, max-age=3600');
      const vtt = await get(`/api/spaces/${ended}/chapters.vtt`);
      assert.equal(vtt.headers['content-type'], 'text/vtt; charset=utf-8');
      assert.equal(vtt.headers['cache-control'], 'private, max-age=3600');
      assert.match(vtt.body, /\n1\n00:00:00\.000 --> 00:00:04\.000\n@rf_host\n/);
      assert.match(vtt.body, /\n2\n00:00:04\.000 --> 00:00:09\.000\n@someone: “who was that”\n/);
    },
  );

  test(
    'chapters: none recorded is 409; a sign-in-only replay asks anonymous callers to sign in',
    { timeout: 30_000 },
    async () => {
      const none = await space('No chapters');
      const missing = await get(`/api/spaces/${none}/chapters`);
      assert.deepEqual([missing.statusCode, missing.json().error.code], [409, 'RECORDING_NOT_AVAILABLE']);
      const bare = await test_.call('GET', `/api/spaces/${none}/chapters`);
      assert.deepEqual([bare.status, bare.json.error.code], [409, 'RECORDING_NOT_AVAILABLE'], 'a node without recordings');
      const members = await space('Members', { anonymous: false });
      fake.chapters.set(members, [{ startMs: 0, endMs: 4000, speaker: host.id }]);
      assert.equal((await get(`/api/spaces/${members}/chapters`)).statusCode, 401);
      assert.equal((await get(`/api/spaces/${members}/chapters.vtt`)).statusCode, 401);
    },
  );
});

describe('podcast, calendars and shared links: what the mutants showed untested', () => {
  const BASE = 'https://amphi.example';
  let test_: TestApp, app: App, fake: ReturnType<typeof fakeFiles>, host: Fixture['host'];
  let fixture: Fixture;
  before(async () => {
    fixture = await openFixture('pf_host', { server: { publicUrl: BASE } });
    ({ test_, app, fake, host } = fixture);
  });
  after(() => closeFixture(fixture));

  const get = (url: string) => app.inject({ method: 'GET', url });

  test("the podcast feed's channel and episode: every field a podcast app reads", { timeout: 30_000 }, async () => {
    const id = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'Pod' } })).json.space.id as string;
    await test_.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    test_.clock.advance(61_000);
    await test_.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    const endedAt = test_.clock.now();
    fake.opened.set(id, recording(5000, 61_500));
    const deleted = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'Deleted' } })).json.space
      .id as string;
    await test_.call('POST', `/api/spaces/${deleted}/start`, { token: host.token });
    await test_.call('POST', `/api/spaces/${deleted}/end`, { token: host.token });
    fake.opened.set(deleted, recording(6000, 10_000));
    assert.equal((await test_.call('DELETE', `/api/spaces/${deleted}/recording`, { token: host.token })).status, 200);
    test_.clock.advance(5000);
    const res = await get('/api/accounts/by-handle/pf_host/replays.rss');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    const xml = res.body;
    for (const part of [
      '<link>https://amphi.example/</link>',
      '<description>Replays of the live audio Spaces @pf_host hosted on Amphi.</description>',
      `<lastBuildDate>${new Date(test_.clock.now()).toUTCString()}</lastBuildDate>`,
      '<generator>Amphi</generator>',
      '<language>en</language>',
      '<ttl>60</ttl>',
      '<copyright>@pf_host</copyright>',
      '<atom:link href="https://amphi.example/api/accounts/by-handle/pf_host/replays.rss" rel="self" type="application/rss+xml"/>',
      `<pubDate>${new Date(endedAt).toUTCString()}</pubDate>`,
      `<description><![CDATA[A live audio Space hosted by @pf_host. https://amphi.example/r/${id}]]></description>`,
      '<itunes:duration>01:02</itunes:duration>',
    ]) {
      assert.ok(xml.includes(part), `${part} in\n${xml}`);
    }
    assert.ok(!xml.includes('Deleted'), 'a deleted replay is no episode');
    const bare = await test_.app.inject({ method: 'GET', url: '/api/accounts/by-handle/pf_host/replays.rss' });
    assert.equal(bare.statusCode, 200, 'a node without recordings: a feed without episodes');
    assert.ok(!bare.body.includes('<item>'));
  });

  test(
    'calendars: cache lifetimes, the stamp, each state in words, the calendar refresh interval',
    { timeout: 30_000 },
    async () => {
      const at = test_.clock.now() + 3_600_000;
      const soon = (
        await test_.call('POST', '/api/spaces', {
          token: host.token,
          body: { title: 'Soon', scheduledStart: new Date(at).toISOString() },
        })
      ).json.space.id as string;
      const one = await get(`/api/spaces/${soon}/calendar.ics`);
      assert.equal(one.headers['cache-control'], 'public, max-age=60');
      const unfold = (ics: string) => ics.replaceAll('\r\n ', '');
      const stamp = new Date(test_.clock.now())
        .toISOString()
        .replaceAll(/[-:]/g, '')
        .replace(/\.\d{3}/, '');
      assert.match(unfold(one.body), new RegExp(`\r\nDTSTAMP:${stamp}\r\n`));
      assert.match(
        unfold(one.body),
        /DESCRIPTION:A live audio Space: listen in the browser\\, no app needed\. Hosted by @pf_host/,
      );
      const live = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'Live' } })).json.space
        .id as string;
      await test_.call('POST', `/api/spaces/${live}/start`, { token: host.token });
      assert.match(unfold((await get(`/api/spaces/${live}/calendar.ics`)).body), /DESCRIPTION:Live now\. Hosted by/);
      await test_.call('POST', `/api/spaces/${live}/end`, { token: host.token });
      assert.match(
        unfold((await get(`/api/spaces/${live}/calendar.ics`)).body),
        /DESCRIPTION:Ended: the replay is at the link\. Hosted/,
      );
      await test_.call('POST', `/api/spaces/${soon}/end`, { token: host.token });
      assert.match(unfold((await get(`/api/spaces/${soon}/calendar.ics`)).body), /DESCRIPTION:Cancelled\. Hosted by/);
      const feed = await get('/api/accounts/by-handle/pf_host/calendar.ics');
      assert.equal(feed.headers['cache-control'], 'public, max-age=300');
      assert.match(feed.body, /\r\nPRODID:-\/\/Amphi\/\/Amphi\/\/EN\r\n/);
      assert.match(feed.body, /\r\nX-PUBLISHED-TTL:PT1H\r\n/);
    },
  );
});

/** An event's start and end (ms), and its status, from an iCalendar file of one event. */
function eventTimes(ics: string) {
  const at = (name: string) => {
    const [, y, mo, d, h, mi, sec] = new RegExp(`\r\n${name}:(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})(\\d{2})Z`).exec(ics) ?? [];
    return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  };
  return { start: at('DTSTART'), end: at('DTEND'), status: /\r\nSTATUS:(\w+)/.exec(ics)?.[1] };
}

test(
  'calendar event times: live, an hour or a quarter past now; ended, as it ran; overdue or called off, an hour at its plan',
  { timeout: 60_000 },
  async () => {
    const cal = await makeTestApp();
    try {
      const host = await cal.signUp('times_host');
      const event = async (id: string) =>
        eventTimes((await cal.app.inject({ method: 'GET', url: `/api/spaces/${id}/calendar.ics` })).body);
      const live = (await cal.call('POST', '/api/spaces', { token: host.token, body: { title: 'Live' } })).json.space
        .id as string;
      await cal.call('POST', `/api/spaces/${live}/start`, { token: host.token });
      const startedAt = cal.clock.now();
      assert.deepEqual(await event(live), { start: startedAt, end: startedAt + 3_600_000, status: 'CONFIRMED' });
      cal.clock.advance(50 * 60_000);
      assert.equal((await event(live)).end, cal.clock.now() + 15 * 60_000, 'a quarter of an hour past now');
      await cal.call('POST', `/api/spaces/${live}/end`, { token: host.token });
      assert.deepEqual(await event(live), { start: startedAt, end: cal.clock.now(), status: 'CONFIRMED' });
      const planned = cal.clock.now() + 3_600_000;
      const late = (
        await cal.call('POST', '/api/spaces', {
          token: host.token,
          body: { title: 'Late', scheduledStart: new Date(planned).toISOString() },
        })
      ).json.space.id as string;
      cal.clock.advance(2.5 * 3_600_000); // ends 1.5 h after its plan: called off, it keeps the hour
      assert.deepEqual(
        await event(late),
        { start: planned, end: planned + 3_600_000, status: 'CONFIRMED' },
        'overdue, not started',
      );
      await cal.call('POST', `/api/spaces/${late}/end`, { token: host.token });
      assert.deepEqual(await event(late), { start: planned, end: planned + 3_600_000, status: 'CANCELLED' }, 'called off');
    } finally {
      await cal.close();
    }
  },
);

describe('shared links: what the mutants showed untested', () => {
  const BASE = 'https://amphi.example';
  let test_: TestApp, app: App, fake: ReturnType<typeof fakeFiles>, host: Fixture['host'];
  let fixture: Fixture;
  before(async () => {
    fixture = await openFixture('sh_host', { server: { publicUrl: BASE } });
    ({ test_, app, fake, host } = fixture);
  });
  after(() => closeFixture(fixture));
  const head = (path: string) => sharedPageHead({ plane: test_.plane, live: test_.live })(path, BASE);
  const oembed = (query: string) => test_.call('GET', `/api/oembed?${query}`);

  test("a clip's shared page: its Space's title, its length, its own audio, no oEmbed", { timeout: 30_000 }, async () => {
    const id = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'Fish & <chips>' } })).json.space
      .id as string;
    await test_.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await test_.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    fake.cuttable.add(id);
    const made = await app.inject({
      method: 'POST',
      url: `/api/spaces/${id}/clips`,
      headers: { authorization: `Bearer ${host.token}` },
      payload: { start: 10, end: 29.6 },
    });
    const clipId = made.json().clip.id as string;
    assert.equal(
      await head(`/c/${clipId}`),
      [
        '<title>Clip: Fish &amp; &lt;chips&gt; · Amphi</title>',
        '<meta property="og:type" content="music.song" />',
        '<meta property="og:site_name" content="Amphi" />',
        '<meta property="og:title" content="Clip: Fish &amp; &lt;chips&gt;" />',
        `<meta property="og:description" content="20 s from @sh_host's Space on Amphi" />`,
        `<meta property="og:url" content="${BASE}/c/${clipId}" />`,
        `<meta property="og:image" content="${BASE}/og.png" />`,
        '<meta property="og:image:width" content="1200" />',
        '<meta property="og:image:height" content="630" />',
        `<meta property="og:audio" content="${BASE}/api/clips/${clipId}/audio.m4a" />`,
        '<meta property="og:audio:type" content="audio/mp4" />',
        '<meta name="twitter:card" content="summary_large_image" />',
        '<meta name="twitter:title" content="Clip: Fish &amp; &lt;chips&gt;" />',
        `<meta name="twitter:description" content="20 s from @sh_host's Space on Amphi" />`,
        `<meta name="twitter:image" content="${BASE}/og.png" />`,
        `<meta name="description" content="20 s from @sh_host's Space on Amphi" />`,
      ].join('\n    '),
    );
    assert.equal(await head('/c/cl_AAAAAAAAAAAA'), undefined, 'an unknown clip');
  });

  test("a Space's shared page: the oEmbed link; other paths and unknown Spaces have none", { timeout: 30_000 }, async () => {
    const id = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'Say "hi"' } })).json.space
      .id as string;
    const page = (await head(`/s/${id}`)) ?? '';
    const oembedUrl = `${BASE}/api/oembed?url=${encodeURIComponent(`${BASE}/s/${id}`)}&format=json`.replaceAll('&', '&amp;');
    assert.ok(page.includes('<meta property="og:type" content="website" />'), page);
    assert.ok(page.includes('<meta property="og:description" content="Starting soon · hosted by @sh_host on Amphi" />'), page);
    assert.ok(
      page.endsWith(`<link rel="alternate" type="application/json+oembed" href="${oembedUrl}" title="Say &quot;hi&quot;" />`),
      page,
    );
    assert.ok((await head(`/embed/${id}`))?.includes(`content="${BASE}/s/${id}"`));
    for (const path of [`/x/s/${id}`, `/s/${id}/more`, `/q/${id}`, '/s/sp_AAAAAAAAAAAA', `/c/${id}`]) {
      assert.equal(await head(path), undefined, path);
    }
    await test_.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    await test_.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    const ended = await head(`/r/${id}`);
    assert.ok(ended?.includes('content="Ended · hosted by @sh_host on Amphi"'), ended);
  });

  test('oEmbed: the provider, the thumbnail, sizes capped at the player, the query checked', { timeout: 30_000 }, async () => {
    const id = (await test_.call('POST', '/api/spaces', { token: host.token, body: { title: 'Sized' } })).json.space.id as string;
    const url = encodeURIComponent(`${BASE}/s/${id}`);
    const big = await oembed(`url=${url}&maxwidth=1000&maxheight=1000`);
    assert.equal(big.status, 200, JSON.stringify(big.json));
    assert.deepEqual([big.json.width, big.json.height, big.json.provider_name, big.json.provider_url], [480, 180, 'Amphi', BASE]);
    assert.deepEqual(
      [big.json.thumbnail_url, big.json.thumbnail_width, big.json.thumbnail_height],
      [`${BASE}/og.png`, 1200, 630],
    );
    for (const query of [
      `url=${url}&maxwidth=0`,
      `url=${url}&maxheight=10001`,
      `url=${url}&other=1`,
      `url=${BASE}/s/${'x'.repeat(2048)}`,
    ]) {
      assert.equal((await oembed(query)).status, 400, query);
    }
  });
});
