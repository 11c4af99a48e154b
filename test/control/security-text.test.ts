import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

/** Finding 12 (titles): bidi overrides, zero-width characters and C1 controls were accepted. */
describe('hidden characters in titles and links are refused', () => {
  let app: TestApp;
  let host: { id: string; token: string };
  before(async () => {
    app = await makeTestApp({ spaces: { createPerAccount: { capacity: 1000, refillPerSecond: 1 } } });
    host = await app.signUp('host_text');
  });
  after(() => app.close());

  const create = (title: string) => app.call('POST', '/api/spaces', { token: host.token, body: { title } });

  test('each bidi control, zero-width, invisible and C0/C1 character: 400 VALIDATION_FAILED naming it', async () => {
    const hidden = [
      ...[0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x061c], // bidi
      ...[0x200b, 0x200e, 0x200f, 0xfeff, 0x2060, 0x2028, 0x2029], // zero-width, invisible, separators
      ...[0x0080, 0x0085, 0x009b, 0x009f], // C1
    ];
    for (const cp of hidden) {
      const char = String.fromCodePoint(cp);
      const name = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
      const r = await create(`Free ${char}gift cards`);
      assert.equal(r.status, 400, name);
      assert.equal(r.json.error.code, 'VALIDATION_FAILED', name);
      assert.equal(r.json.error.details[0].field, 'body/title', name);
      assert.ok(String(r.json.error.details[0].problem).startsWith(`contains ${name}: control, bidirectional-override`), name);
    }
    for (const c0 of ['Bell\u0007', 'Del\u007f']) {
      assert.equal((await create(c0)).json.error.code, 'VALIDATION_FAILED', 'C0 and DEL: refused by the schema already');
    }
    assert.equal((await app.call('GET', '/api/spaces?limit=100')).json.spaces.length, 0, 'nothing was created');
  });

  test('ordinary text in any script, with the joiners its writing needs (U+200C, U+200D), is kept as typed', async () => {
    const scripts = [
      'Café — Q&A',
      'مرحبا بالجميع',
      'שלום עולם',
      'こんにちは',
      'می\u200cخواهم',
      'क्\u200dष',
      '👩‍💻 Coding night 🏳️‍🌈',
      '👋🏽 hi',
    ];
    for (const title of scripts) {
      const r = await create(title);
      assert.equal(r.status, 201, `${title}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.space.title, title);
    }
  });

  test('the pinned link too', async () => {
    const id = (await create('Links')).json.space.id as string;
    const pin = (url: string) => app.call('PUT', `/api/spaces/${id}/pin`, { token: host.token, body: { url } });
    const r = await pin('https://example.org/\u202Efdp.exe');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.details[0].field, 'body/url');
    assert.equal((await pin('https://example.org/notes')).status, 200);
  });
});
