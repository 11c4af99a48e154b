import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { Captions } from '../../src/captions/captions.ts';
import { createHttpApp } from '../../src/lib/http-app.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import { loadTranscript } from '../../src/origin/transcript.ts';
import { captionedOrigin, mountCaptions } from '../../src/roles/captions.ts';
import { makeTestApp } from '../helpers/app.ts';
import { rethrow } from '../helpers/events.ts';

const log = pino({ level: 'silent' });

test('a captioned Space ends: its transcript is written beside its recording and indexed for search; none without a recording', async () => {
  const app = await makeTestApp();
  const dir = mkdtempSync(join(tmpdir(), 'amphi-transcript-wiring-'));
  const api = createHttpApp({ log, limits: app.config.admission.limits, bodyLimitBytes: app.config.server.bodyLimitBytes });
  try {
    const storage = new FileMediaStorage(dir);
    const captions = new Captions({
      enabled: true,
      defaultOn: false,
      maxSpaces: 1,
      modelDir: '/nonexistent',
      clock: app.clock,
      log,
      onListenerError: rethrow,
      availability: () => ({ ok: true }),
    });
    // As the embedded role wires them: the origin writes the file, the control API indexes it.
    captionedOrigin(captions, {
      config: app.config.origin,
      storage,
      clock: app.clock,
      log,
      programBitrateBps: 64_000,
      preSkip: 312,
    });
    mountCaptions(api, app.plane, app.config, captions, app.clock);
    const host = await app.signUp('tw_host');
    const space = async (title: string) => {
      const id = (await app.call('POST', '/api/spaces', { token: host.token, body: { title } })).json.space.id as string;
      await app.call('POST', `/api/spaces/${id}/start`, { token: host.token });
      await app.call('POST', `/api/spaces/${id}/end`, { token: host.token });
      return id;
    };
    const lines = [
      { startMs: 500, endMs: 2500, text: 'hello wired world', final: true, words: [{ word: 'hello', startMs: 500, endMs: 900 }] },
      { startMs: 3000, endMs: 3000, text: ' ', final: true },
    ];
    const recorded = await space('Recorded');
    storage.write(recorded, 'recording.json', '{}');
    captions.events.emit('transcript', { spaceId: recorded, lines });
    assert.deepEqual(await loadTranscript(storage, recorded), {
      version: 1,
      automatic: true,
      lines: [{ startMs: 500, endMs: 2500, text: 'hello wired world', words: [{ word: 'hello', startMs: 500, endMs: 900 }] }],
    });
    const search = () => app.store.community().searchTranscripts({ phrase: 'wired', limit: 10, offset: 0 });
    for (let i = 0; i < 50 && (await search()).length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      (await search()).map((h) => [h.spaceId, h.text, h.startMs]),
      [[recorded, 'hello wired world', 500]],
    );

    const unrecorded = await space('Not recorded');
    captions.events.emit('transcript', { spaceId: unrecorded, lines });
    assert.equal(await loadTranscript(storage, unrecorded), undefined, 'no transcript without a replay');
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await search()).length, 1, 'nor a search hit');
  } finally {
    await api.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
