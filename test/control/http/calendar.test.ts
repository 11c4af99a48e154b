import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ICAL from 'ical.js';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/** The calendar's events as a real parser (Mozilla's ical.js) reads them. */
function parse(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  return {
    calendar,
    events: calendar.getAllSubcomponents('vevent').map((v) => {
      const e = new ICAL.Event(v);
      return {
        uid: e.uid,
        summary: e.summary,
        description: e.description,
        start: e.startDate.toJSDate().getTime(),
        end: e.endDate.toJSDate().getTime(),
        sequence: e.sequence,
        url: v.getFirstPropertyValue('url'),
        status: v.getFirstPropertyValue('status'),
      };
    }),
  };
}

describe('calendars: a Space as an event, a host as a feed', () => {
  let app: TestApp;
  let host: { id: string; token: string };
  before(async () => {
    app = await makeTestApp({ server: { publicUrl: 'https://amphi.example' } });
    host = await app.signUp('cal_host');
  });
  after(() => app.close());

  const raw = (url: string) => app.app.inject({ method: 'GET', url });
  const schedule = async (title: string, inMs: number) => {
    const at = app.clock.now() + inMs;
    const r = await app.call('POST', '/api/spaces', {
      token: host.token,
      body: { title, scheduledStart: new Date(at).toISOString() },
    });
    assert.equal(r.status, 201);
    return { id: r.json.space.id as string, at: Math.floor(at / 1000) * 1000 };
  };

  test('a scheduled Space: one event at its start, an hour long, with the title, host and page', async () => {
    const { id, at } = await schedule(
      'Launch night; with "quotes", commas, and a title long enough to fold — café ✓ 日本語',
      3_600_000,
    );
    const res = await raw(`/api/spaces/${id}/calendar.ics`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/calendar; charset=utf-8');
    assert.match(String(res.headers['content-disposition']), /^attachment; filename="Launch night.*\.ics"/);
    for (const line of res.body.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, `folded: ${line}`);
    const { calendar, events } = parse(res.body);
    assert.equal(calendar.getFirstPropertyValue('method'), 'PUBLISH');
    assert.equal(events.length, 1);
    const [e] = events;
    assert.equal(e!.uid, `${id}@amphi`);
    assert.equal(
      e!.summary,
      'Launch night; with "quotes", commas, and a title long enough to fold — café ✓ 日本語',
      'escaped and read back exactly',
    );
    assert.equal(e!.start, at);
    assert.equal(e!.end - e!.start, 3_600_000);
    assert.equal(e!.url, `https://amphi.example/s/${id}`, 'the configured public URL');
    assert.match(e!.description, /Hosted by @cal_host/);
    assert.equal(e!.status, 'CONFIRMED');
  });

  test('live and then ended: the same UID, a higher SEQUENCE, the times it really ran, the replay link', async () => {
    const { id } = await schedule('Runs', 600_000);
    const before = parse((await raw(`/api/spaces/${id}/calendar.ics`)).body).events[0]!;
    app.clock.advance(60_000);
    await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
    const startedAt = app.clock.now();
    const live = parse((await raw(`/api/spaces/${id}/calendar.ics`)).body).events[0]!;
    assert.equal(live.uid, before.uid);
    assert.ok(live.sequence > before.sequence, 'calendars replace the event');
    assert.equal(live.start, Math.floor(startedAt / 1000) * 1000, 'from when it went live, not when it was planned');
    assert.match(live.description, /Live now/);
    app.clock.advance(50 * 60_000);
    const still = parse((await raw(`/api/spaces/${id}/calendar.ics`)).body).events[0]!;
    assert.ok(still.end >= app.clock.now() + 15 * 60_000 - 1000, 'a long show stays on the calendar as it runs');
    app.clock.advance(40 * 60_000);
    await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    const ended = parse((await raw(`/api/spaces/${id}/calendar.ics`)).body).events[0]!;
    assert.ok(ended.sequence > live.sequence);
    assert.equal(ended.end - ended.start, 90 * 60_000, 'as long as it ran');
    assert.equal(ended.url, `https://amphi.example/r/${id}`, 'the replay');
  });

  test('a Space ended before it went live is CANCELLED at its planned time', async () => {
    const { id, at } = await schedule('Called off', 7_200_000);
    await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
    const e = parse((await raw(`/api/spaces/${id}/calendar.ics`)).body).events[0]!;
    assert.equal(e.status, 'CANCELLED');
    assert.equal(e.start, at);
  });

  test("a host's feed: their upcoming, live and ended Spaces, nobody else's", async () => {
    const other = await app.signUp('cal_other');
    await app.call('POST', '/api/spaces', { token: other.token, body: { title: 'Not theirs' } });
    const { id: upcoming } = await schedule('Next week', 7 * 86_400_000);
    const res = await raw('/api/accounts/by-handle/CAL_HOST/calendar.ics');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/calendar; charset=utf-8');
    const { calendar, events } = parse(res.body);
    assert.equal(calendar.getFirstPropertyValue('x-wr-calname'), '@cal_host on Amphi');
    const titles = events.map((e) => e.summary);
    assert.ok(titles.includes('Next week') && titles.includes('Runs') && titles.includes('Called off'), titles.join(', '));
    assert.ok(!titles.includes('Not theirs'));
    assert.ok(events.some((e) => e.uid === `${upcoming}@amphi`));
    assert.equal(new Set(events.map((e) => e.uid)).size, events.length, 'one event per Space');
  });

  test('unknown Spaces and hosts are 404 with a code; a malformed handle is 400', async () => {
    const space = await app.call('GET', '/api/spaces/sp_AAAAAAAAAAAA/calendar.ics');
    assert.equal(space.status, 404);
    assert.equal(space.json.error.code, 'SPACE_NOT_FOUND');
    const nobody = await app.call('GET', '/api/accounts/by-handle/nobody_here/calendar.ics');
    assert.equal(nobody.status, 404);
    assert.equal(nobody.json.error.code, 'ACCOUNT_NOT_FOUND');
    assert.equal((await app.call('GET', '/api/accounts/by-handle/a!/calendar.ics')).status, 400);
  });

  test('without a configured public URL, links point at the host the request came to', async () => {
    const bare = await makeTestApp();
    try {
      const h = await bare.signUp('bare_host');
      const r = await bare.call('POST', '/api/spaces', { token: h.token, body: { title: 'Here' } });
      const res = await bare.app.inject({
        method: 'GET',
        url: `/api/spaces/${r.json.space.id}/calendar.ics`,
        headers: { host: 'amphi.local:8080' },
      });
      assert.equal(parse(res.body).events[0]!.url, `http://amphi.local:8080/s/${r.json.space.id}`);
    } finally {
      await bare.close();
    }
  });
});
