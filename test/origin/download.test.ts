import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { attachment } from '../../src/control/http/recording-routes.ts';
import type { App } from '../../src/lib/http-app.ts';
import { RecordingDownloads } from '../../src/origin/download.ts';
import type { RecordingManifest } from '../../src/origin/track.ts';
import { makeTestApp, type TestApp } from '../helpers/app.ts';
import { MemoryMediaStorage } from '../helpers/media-storage.ts';
import { withRecordingFiles } from '../helpers/recording-app.ts';
import { pino } from 'pino';

/**
 * `GET /api/spaces/:id/recording.m4a` through `app.inject`, over a recording laid out by hand so
 * every byte's place is known: init (64 bytes), s0 (1000), s1 (a gap: its file exists and must not
 * be served), s2 (1500), s3 (800). The file is init + s0 + s2 + s3, 3,364 bytes; the boundaries are
 * at 64, 1,064 and 2,564.
 */
const SIZES = { init: 64, s0: 1000, s1: 777, s2: 1500, s3: 800 } as const;
const SIZE = SIZES.init + SIZES.s0 + SIZES.s2 + SIZES.s3;

/** Bytes that differ from piece to piece and from place to place, so a wrong offset shows. */
function bytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const pieces = {
  init: bytes(1, SIZES.init),
  s0: bytes(2, SIZES.s0),
  s1: bytes(3, SIZES.s1),
  s2: bytes(4, SIZES.s2),
  s3: bytes(5, SIZES.s3),
};
const expected = Buffer.concat([pieces.init, pieces.s0, pieces.s2, pieces.s3]);

function manifest(ended: boolean): RecordingManifest {
  const segment = (msn: number, durationMs: number, gap = false) => ({
    msn,
    durationMs,
    programDateTimeMs: Date.UTC(2026, 10, 1, 12) + msn * 2000,
    ...(gap ? { gap: true as const } : {}),
  });
  return {
    version: 1,
    partTargetMs: 500,
    segmentTargetMs: 2000,
    segments: [segment(0, 2000), segment(1, 2000, true), segment(2, 2000), segment(3, 1240)],
    ended,
    nextFragment: 17,
    nextDecodeTime: 7240 * 48,
  };
}

function store(storage: MemoryMediaStorage, spaceId: string, ended: boolean): void {
  storage.write(spaceId, 'init.mp4', pieces.init);
  for (const name of ['s0', 's1', 's2', 's3'] as const) storage.create(spaceId, `${name}.m4s`, pieces[name]);
  storage.write(spaceId, 'recording.json', JSON.stringify(manifest(ended)));
}

/** Counts reads per file, to see which pieces a request touched. */
class CountingStorage extends MemoryMediaStorage {
  readonly reads: string[] = [];
  override read(spaceId: string, name: string): Uint8Array | undefined {
    this.reads.push(name);
    return super.read(spaceId, name);
  }
}

describe('recording download (one file made by the server)', () => {
  let amphi: TestApp;
  let app: App;
  let host: { id: string; token: string };
  const storage = new CountingStorage();
  const files = new RecordingDownloads({ storage, log: pino({ level: 'silent' }) });
  let ended: string;

  /** A Space made by `host` through the API, started and possibly ended. */
  async function space(title: string, state: 'live' | 'ended', body: Record<string, unknown> = {}): Promise<string> {
    const created = await amphi.call('POST', '/api/spaces', { token: host.token, body: { title, ...body } });
    const id = created.json.space.id as string;
    assert.equal((await amphi.call('POST', `/api/spaces/${id}/start`, { token: host.token })).status, 200);
    if (state === 'ended') assert.equal((await amphi.call('POST', `/api/spaces/${id}/end`, { token: host.token })).status, 200);
    return id;
  }

  const get = (id: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
    app.inject({ method, url: `/api/spaces/${id}/recording.m4a`, headers });

  before(async () => {
    amphi = await makeTestApp();
    app = await withRecordingFiles(amphi, files);
    host = await amphi.signUp('download_host');
    ended = await space('Morning: café & code', 'ended');
    store(storage, ended, true);
  });
  after(async () => {
    await app.close();
    await amphi.close();
  });

  test('the whole file is init then every segment that is not a gap, with download headers', async () => {
    const res = await get(ended);
    assert.equal(res.statusCode, 200);
    assert.equal(res.rawPayload.length, SIZE);
    assert.ok(res.rawPayload.equals(expected), 'init + s0 + s2 + s3, in order, the gap left out');
    assert.equal(res.headers['content-type'], 'audio/mp4');
    assert.equal(res.headers['content-length'], String(SIZE));
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.match(String(res.headers.etag), /^"[A-Za-z0-9_-]{22}"$/);
    assert.equal(
      res.headers['content-disposition'],
      `attachment; filename="Morning cafe code.m4a"; filename*=UTF-8''Morning%3A%20caf%C3%A9%20%26%20code.m4a`,
    );
    assert.equal((await files.open(ended))?.durationMs, 2000 + 2000 + 1240, 'the listed duration of what is served');
  });

  test('ranges: the first byte, the last byte, across segment boundaries, a suffix, an open end', async () => {
    const cases: [range: string, start: number, end: number][] = [
      ['bytes=0-0', 0, 0],
      [`bytes=${SIZE - 1}-${SIZE - 1}`, SIZE - 1, SIZE - 1],
      [`bytes=${SIZE - 1}-99999999`, SIZE - 1, SIZE - 1],
      ['bytes=60-70', 60, 70], // init into s0
      ['bytes=1000-2600', 1000, 2600], // s0, all of s2 past the gap, into s3
      ['bytes=1064-2563', 1064, 2563], // exactly s2
      ['bytes=-500', SIZE - 500, SIZE - 1],
      ['bytes=100-', 100, SIZE - 1],
      ['bytes=-99999', 0, SIZE - 1],
      [' bytes = 5-9 ', 5, 9],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(ended, { range });
      assert.equal(res.statusCode, 206, range);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${SIZE}`, range);
      assert.equal(res.headers['content-length'], String(end - start + 1), range);
      assert.ok(res.rawPayload.equals(expected.subarray(start, end + 1)), `${range}: the bytes at ${start}-${end}`);
    }
  });

  test('unsatisfiable and malformed ranges are 416 with the size; several ranges or another unit get the whole file', async () => {
    for (const range of [
      `bytes=${SIZE}-`,
      `bytes=${SIZE + 10}-${SIZE + 20}`,
      'bytes=-0',
      'bytes=9-5',
      'bytes=abc',
      'bytes=-',
      'bytes=1-2-3',
    ]) {
      const res = await get(ended, { range });
      assert.equal(res.statusCode, 416, range);
      assert.equal(res.headers['content-range'], `bytes */${SIZE}`, range);
      assert.equal(JSON.parse(res.body).error.code, 'RANGE_NOT_SATISFIABLE', range);
    }
    for (const range of ['bytes=0-1,5-6', 'items=0-5', 'nonsense']) {
      const res = await get(ended, { range });
      assert.equal(res.statusCode, 200, range);
      assert.ok(res.rawPayload.equals(expected), range);
    }
  });

  test('ETag: If-None-Match is 304, If-Range resumes only the same file; HEAD has the size and no body', async () => {
    const etag = String((await get(ended)).headers.etag);
    assert.equal((await get(ended, { 'if-none-match': etag })).statusCode, 304);
    assert.equal((await get(ended, { 'if-none-match': `"other", W/${etag}` })).statusCode, 304);
    assert.equal((await get(ended, { 'if-none-match': '"other"' })).statusCode, 200);
    assert.equal((await get(ended, { 'if-none-match': '*' })).statusCode, 304, 'any version: "*"');
    assert.equal(
      (await get(ended)).headers['cache-control'],
      'private, max-age=3600',
      'kept by the browser, not by shared caches',
    );
    const resumed = await get(ended, { range: 'bytes=3000-', 'if-range': etag });
    assert.equal(resumed.statusCode, 206);
    assert.ok(resumed.rawPayload.equals(expected.subarray(3000)));
    const stale = await get(ended, { range: 'bytes=3000-', 'if-range': '"an-older-file"' });
    assert.equal(stale.statusCode, 200, 'a changed file is sent whole, not spliced');
    assert.equal(stale.rawPayload.length, SIZE);
    storage.reads.length = 0;
    const head = await get(ended, {}, 'HEAD');
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], String(SIZE));
    assert.equal(head.rawPayload.length, 0);
    assert.deepEqual(storage.reads, [], 'HEAD reads no piece');
  });

  test('a range reads only the pieces it needs; the layout is measured once, by size, not by reading', async () => {
    await get(ended); // the layout is known from here on
    storage.reads.length = 0;
    const res = await get(ended, { range: 'bytes=1100-1200' });
    assert.equal(res.statusCode, 206);
    assert.deepEqual(storage.reads, ['s2.m4s'], 'one segment read for a range inside it');
    storage.reads.length = 0;
    await get(ended, { range: 'bytes=60-70' });
    assert.deepEqual(storage.reads, ['init.mp4', 's0.m4s']);
    storage.reads.length = 0;
    await get(ended, { range: 'bytes=1064-1100' });
    assert.deepEqual(storage.reads, ['s2.m4s'], 'a range that starts on a boundary starts at that piece');
  });

  test('a piece that vanishes during a download cuts the response short, never splices; the next one skips it', async () => {
    const id = await space('Tampered with', 'ended');
    store(storage, id, true);
    assert.equal((await get(id)).statusCode, 200); // the layout is measured and kept
    storage.files.delete(`${id}/s2.m4s`);
    await assert.rejects(get(id), /destroyed before completion/, 'the connection is cut: a short file fails to download');
    const again = await get(id);
    assert.equal(again.statusCode, 200);
    assert.ok(again.rawPayload.equals(Buffer.concat([pieces.init, pieces.s0, pieces.s3])), 'measured again, s2 skipped');
  });

  test('a live Space is refused (409), and so is an ended one whose recording is unfinished or missing', async () => {
    const live = await space('Still on air', 'live');
    store(storage, live, false);
    const refused = await get(live);
    assert.equal(refused.statusCode, 409);
    assert.equal(JSON.parse(refused.body).error.code, 'RECORDING_NOT_AVAILABLE');
    const liveWithFile = await space('On air, a finished file left from before', 'live');
    store(storage, liveWithFile, true);
    assert.equal((await get(liveWithFile)).statusCode, 409, 'the Space decides: nothing is served while it is live');
    const unfinished = await space('Ended, recording not finished', 'ended');
    store(storage, unfinished, false);
    assert.equal(JSON.parse((await get(unfinished)).body).error.code, 'RECORDING_NOT_AVAILABLE');
    const none = await space('Nothing recorded', 'ended');
    const nothing = await get(none);
    assert.equal(nothing.statusCode, 409);
    assert.equal(JSON.parse(nothing.body).error.code, 'RECORDING_NOT_AVAILABLE');
    const noMedia = await amphi.call('GET', `/api/spaces/${ended}/recording.m4a`);
    assert.equal(noMedia.status, 409, 'the control role without media storage has nothing to serve');
  });

  test('an unknown Space is 404 and a malformed id 400, never a 5xx', async () => {
    const unknown = await get('sp_AAAAAAAAAAAA');
    assert.equal(unknown.statusCode, 404);
    assert.equal(JSON.parse(unknown.body).error.code, 'SPACE_NOT_FOUND');
    for (const id of ['nope', '..%2F..%2Fetc', 'sp_' + 'A'.repeat(300)]) {
      const res = await get(id);
      assert.equal(res.statusCode, 400, id);
      assert.equal(JSON.parse(res.body).error.code, 'VALIDATION_FAILED', id);
    }
  });

  test('who may listen to the replay may download it: an account where the Space needs one, never a removed member', async () => {
    const members = await space('Members only', 'live', { allowAnonymous: false });
    const removed = await amphi.signUp('download_removed');
    const removal = await amphi.call('POST', `/api/spaces/${members}/members/${removed.id}/remove`, { token: host.token });
    assert.equal(removal.status, 200, JSON.stringify(removal.json));
    assert.equal((await amphi.call('POST', `/api/spaces/${members}/end`, { token: host.token })).status, 200);
    store(storage, members, true);
    assert.equal((await get(members)).statusCode, 401);
    assert.equal((await get(members, { authorization: `Bearer ${host.token}` })).statusCode, 200);
    const refused = await get(members, { authorization: `Bearer ${removed.token}` });
    assert.equal(refused.statusCode, 403);
    assert.equal(JSON.parse(refused.body).error.code, 'REMOVED_FROM_SPACE');
  });

  test('the file name: the title in ASCII, the exact title in filename*, the Space id when no ASCII is left', () => {
    assert.equal(attachment('Weekly sync', 'sp_A'), `attachment; filename="Weekly sync.m4a"; filename*=UTF-8''Weekly%20sync.m4a`);
    assert.equal(
      attachment('日本語の話', 'sp_B'),
      `attachment; filename="sp_B.m4a"; filename*=UTF-8''${encodeURIComponent('日本語の話')}.m4a`,
    );
    assert.equal(
      attachment('a/b\\c "quoted" (x)*', 'sp_C'),
      `attachment; filename="a-b-c quoted (x).m4a"; filename*=UTF-8''a-b-c%20%22quoted%22%20%28x%29%2A.m4a`,
    );
    assert.equal(attachment('...', 'sp_D').split(';')[1], ' filename="sp_D.m4a"');
    const ascii = (title: string) => attachment(title, 'sp_E').split(';')[1];
    assert.equal(ascii('  Spaced out  '), ' filename="Spaced out.m4a"', 'trimmed');
    assert.equal(attachment('  Spaced out  ', 'sp_E').split("''")[1], 'Spaced%20out.m4a', 'the exact name trimmed too');
    assert.equal(ascii('z'.repeat(100)), ` filename="${'z'.repeat(80)}.m4a"`, 'at most 80 characters');
    assert.equal(ascii(`${'x'.repeat(79)} yyyy`), ` filename="${'x'.repeat(79)}.m4a"`, 'cut at 80, then trimmed');
    assert.equal(ascii('Crème brûlée'), ' filename="Creme brulee.m4a"', 'accents off, letters kept');
    assert.equal(ascii(' ..hidden.. '), ' filename="hidden.m4a"', 'no leading or trailing dots or spaces');
    assert.equal(ascii('Tea&&Talk'), ' filename="Tea Talk.m4a"', 'a run of other characters is one space');
    assert.equal(ascii('a日本'), ' filename="sp_E.m4a"', 'one ASCII letter is not a name');
    assert.equal(attachment('a/b', 'sp_F').split("''")[1], 'a-b.m4a', 'no path separators in the exact name either');
  });
});
