import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTestApp, type TestApp } from '../../helpers/app.ts';

/** The keys of a path item that are operations (the others: servers, parameters, summary). */
const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

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
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    });
  });

  test('says where the API is: relative to the server that served it, or server.publicUrl', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json;
    assert.deepEqual(doc.servers, [{ url: '/', description: 'This server' }]);
    const named = await makeTestApp({
      server: { publicUrl: 'https://amphi.test' },
      stage: { publicUrl: 'https://stage.amphi.test' },
    });
    try {
      const other = (await named.call('GET', '/api/openapi.json')).json;
      assert.equal(other.servers[0].url, 'https://amphi.test');
      assert.equal(other.paths['/whip/{spaceId}'].servers[0].url, 'https://stage.amphi.test', 'WHIP is on the stage listener');
      assert.equal(other.paths['/l/{token}/{spaceId}/index.m3u8'].servers[0].url, 'https://amphi.test', 'the embedded edge');
    } finally {
      await named.close();
    }
  });

  test('names every operation: a unique camelCase operationId, the name generated clients use', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json as { paths: Record<string, Record<string, unknown>> };
    const ids = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.has(method))
        .map(([method, op]) => ({ at: `${method} ${path}`, id: (op as { operationId?: string }).operationId })),
    );
    assert.deepEqual(
      ids.filter((o) => typeof o.id !== 'string' || !/^[a-z][A-Za-z0-9]+$/.test(o.id)).map((o) => o.at),
      [],
    );
    const seen = new Map<string, string>();
    for (const { at, id } of ids) {
      assert.equal(seen.get(id!), undefined, `${id} names both ${seen.get(id!)} and ${at}`);
      seen.set(id!, at);
    }
    assert.equal(
      doc.paths['/api/spaces']!.get && (doc.paths['/api/spaces']!.get as { operationId: string }).operationId,
      'listSpaces',
    );
  });

  test('every operation says what success is: a 2xx, or a 3xx for links opened in a browser', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json as {
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    };
    const without = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method, op]) => METHODS.has(method) && !Object.keys(op.responses ?? {}).some((s) => /^[23]/.test(s)))
        .map(([method]) => `${method} ${path}`),
    );
    assert.deepEqual(without, []);
  });

  test('describes the endpoints no control route serves: probes, metrics, listener media, WHIP', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json;
    for (const path of ['/livez', '/readyz', '/healthz']) assert.ok(doc.paths[path].get.responses['200'], path);
    assert.ok(doc.paths['/readyz'].get.responses['503'], 'readyz documents its 503');
    assert.ok(doc.paths['/metrics'].get.responses['200'].content['text/plain'], 'metrics are text');
    for (const file of ['index.m3u8', 'media.m3u8', 'dvr.m3u8', 'init.mp4', 'live.mp4', '{media}'])
      assert.ok(doc.paths[`/l/{token}/{spaceId}/${file}`].get, file);
    const whip = doc.paths['/whip/{spaceId}'];
    assert.ok(whip.post.requestBody.content['application/sdp'], 'the offer is SDP');
    assert.deepEqual(Object.keys(whip.post.responses['201'].headers).sort(), ['ETag', 'Link', 'Location']);
    assert.ok(whip.options, 'OPTIONS');
    const session = doc.paths['/whip/{spaceId}/sessions/{sessionId}'];
    assert.ok(session.patch.responses['204'] && session.patch.responses['412'], 'trickle: 204, or 412 on If-Match');
    assert.ok(session.patch.parameters.some((p: { name: string }) => p.name === 'If-Match'));
    assert.ok(session.delete.responses['200']);
  });

  test('has a section for every tag its operations use, each described, and no empty one', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json as {
      tags: { name: string; description?: string }[];
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    const used = new Set(
      Object.values(doc.paths).flatMap((item) =>
        Object.entries(item).flatMap(([method, op]) => (METHODS.has(method) ? (op.tags ?? []) : [])),
      ),
    );
    assert.deepEqual(doc.tags.map((t) => t.name).sort(), [...used].sort());
    for (const tag of doc.tags) assert.ok((tag.description ?? '').length > 10, `${tag.name} is described`);
  });

  test('offers a bearer token, the session cookie, or nothing (public routes) as authentication; WHIP takes a stage token', async () => {
    const doc = (await app.call('GET', '/api/openapi.json')).json;
    assert.deepEqual(doc.components.securitySchemes, {
      bearer: { type: 'http', scheme: 'bearer', description: 'Session token from POST /api/sessions' },
      cookie: { type: 'apiKey', in: 'cookie', name: 'amphi_session' },
      stageToken: { type: 'http', scheme: 'bearer', description: 'Stage token from POST /api/spaces/{id}/stage' },
    });
    assert.deepEqual(doc.security, [{ bearer: [] }, { cookie: [] }, {}]);
  });

  test('files every operation under exactly one tag, the one its section of the API is', async () => {
    // The sections, restated here by path (not read from the routes): a route moved to the wrong
    // section, or left without a tag, shows.
    const sectionOf = (method: string, path: string): string => {
      if (/^\/(livez|readyz|healthz|metrics)$/.test(path)) return 'operations';
      if (path.startsWith('/l/')) return 'listener media';
      if (path.startsWith('/whip/')) return 'whip';
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
        if (!METHODS.has(method)) continue; // a path item's servers and parameters
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
