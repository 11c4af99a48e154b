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

  test('is not itself a documented route', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json as { paths: Record<string, unknown> };
    assert.equal(doc.paths['/api/openapi.json'], undefined);
  });
});
