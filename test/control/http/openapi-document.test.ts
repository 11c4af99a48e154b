import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/** What the OpenAPI document says about the API as a whole: its name, version, and how to authenticate. */
describe('the OpenAPI document', () => {
  let app: TestApp;
  before(async () => {
    app = await makeTestApp();
  });
  after(() => app.close());

  test('names the API and its version, and points to the error catalogue', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json;
    assert.deepEqual(doc.info, {
      title: 'Amphi control API',
      version: '1',
      description: 'Accounts, Spaces, roles on stage, joining as a listener. Errors: docs/errors.md.',
    });
  });

  test('offers a bearer token, the session cookie, or nothing (public routes) as authentication', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json;
    assert.deepEqual(doc.components.securitySchemes, {
      bearer: { type: 'http', scheme: 'bearer', description: 'Session token from POST /api/sessions' },
      cookie: { type: 'apiKey', in: 'cookie', name: 'amphi_session' },
    });
    assert.deepEqual(doc.security, [{ bearer: [] }, { cookie: [] }, {}]);
  });

  test('files every operation under exactly one tag, the one its section of the API is', async () => {
    // The sections, restated here by path (not read from the routes): a route moved to the wrong
    // section, or left without a tag, shows.
    const sectionOf = (method: string, path: string): string => {
      if (/^\/api\/(me\/(email|webhooks|push-subscriptions)|email\/|push\/)/.test(path)) return 'notifications';
      if (path.startsWith('/api/admin/')) return 'admin';
      if (/^\/api\/(reports|me\/notices)$/.test(path)) return 'reports';
      if (/^\/api\/(users\/|me\/(profile|avatar)$)/.test(path)) return 'people';
      if (
        /^\/api\/me\/blocks/.test(path) ||
        /^\/api\/spaces\/\{id\}\/(handover|bans\/\{subject\}|audience|audit|analytics)$/.test(path)
      )
        return 'moderation';
      if (/^\/api\/(accounts|sessions|me)(\/|$)/.test(path)) return 'accounts';
      if (/\/(join|line|reactions)$/.test(path)) return 'listening';
      if (/\/(requests|invitations|members|pin)(\/|$)/.test(path) || (method === 'post' && path.endsWith('/stage')))
        return 'stage';
      return 'spaces';
    };
    const doc = (await app.call('GET', '/api/openapi.json')).json as {
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    const wrong: string[] = [];
    let operations = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        operations++;
        const expected = [sectionOf(method, path)];
        if (JSON.stringify(op.tags) !== JSON.stringify(expected))
          wrong.push(`${method} ${path}: ${JSON.stringify(op.tags)}, not ${JSON.stringify(expected)}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(operations > 40, `${operations} operations`);
  });

  test('is not itself a documented route', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json as { paths: Record<string, unknown> };
    assert.equal(doc.paths['/api/openapi.json'], undefined);
  });

  test('files are described as binary: the replay download and a clip', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json;
    for (const path of ['/api/spaces/{id}/recording.m4a', '/api/clips/{clipId}/audio.m4a']) {
      for (const status of ['200', '206']) {
        assert.deepEqual(
          doc.paths[path].get.responses[status].content['audio/mp4'].schema,
          { type: 'string', format: 'binary' },
          `${path} ${status}`,
        );
      }
    }
  });
});
