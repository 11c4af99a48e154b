import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Grant } from '../../web/src/api.ts';
import { ListenerGrant, withToken } from '../../web/src/listener-grant.ts';

/** A grant whose URLs name their edge and token: `http://edge-N/t` + file. */
function grant(token: string, edges: number): Grant {
  const at = (n: number) => ({
    playlistUrl: `http://edge-${n}/${token}/index.m3u8`,
    streamUrl: `http://edge-${n}/${token}/live.mp4`,
  });
  return {
    token,
    expiresAt: new Date(0).toISOString(),
    ...at(0),
    fallbacks: Array.from({ length: edges - 1 }, (_, i) => at(i + 1)),
  };
}

describe('ListenerGrant: the edge in use', () => {
  test('the grant’s own edge first, then each fallback in turn with the same token; false once all were tried', () => {
    const grants = new ListenerGrant(grant('a', 3), () => Promise.reject(new Error('no renewal here')));
    assert.equal(grants.at('streamUrl'), 'http://edge-0/a/live.mp4');
    assert.equal(grants.failover(), true);
    assert.equal(grants.at('streamUrl'), 'http://edge-1/a/live.mp4');
    assert.equal(grants.at('playlistUrl'), 'http://edge-1/a/index.m3u8');
    assert.equal(grants.failover(), true);
    assert.equal(grants.at('streamUrl'), 'http://edge-2/a/live.mp4');
    assert.equal(grants.failover(), false, 'every edge was tried');
    assert.equal(grants.at('streamUrl'), 'http://edge-0/a/live.mp4', 'round again');
  });

  test('one edge (embedded mode): failover says so at once and the URL stays', () => {
    const grants = new ListenerGrant(grant('a', 1), () => Promise.reject(new Error('no renewal here')));
    assert.equal(grants.failover(), false);
    assert.equal(grants.at('streamUrl'), 'http://edge-0/a/live.mp4');
  });

  test('a renewed grant starts at its own edge again', async () => {
    const grants = new ListenerGrant(grant('a', 3), () => Promise.resolve(grant('b', 3)));
    grants.failover();
    grants.failover();
    await grants.renew(grants.current);
    assert.equal(grants.at('streamUrl'), 'http://edge-0/b/live.mp4');
    assert.equal(grants.failover(), true);
  });
});

describe('withToken', () => {
  test("puts the newest token in a listener URL's path, and nothing else changes", () => {
    assert.equal(
      withToken('https://edge.example/l/old.token/sp_AAAAAAAAAAAA/p12.3.m4s?_HLS_msn=4', 'new.token'),
      'https://edge.example/l/new.token/sp_AAAAAAAAAAAA/p12.3.m4s?_HLS_msn=4',
    );
    assert.equal(withToken('https://edge.example/other/path', 't'), 'https://edge.example/other/path');
  });
});
