import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.ts';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import { iceServerLinks, parseIceServerLinks } from '../../src/shared/ice-servers.ts';
import { networkProblem } from '../../src/config/stage-network.ts';
import { checkStageNetwork, iceServersFor, weriftNetwork } from '../../src/stage/network.ts';

const stage = defaultConfig.stage;
const turn = (over: Partial<typeof stage.turn>) => ({ ...stage, turn: { ...stage.turn, ...over } });

describe('the stage network settings', () => {
  test('the defaults pass; each cross-field mistake is named', () => {
    assert.equal(networkProblem(stage), undefined);
    assert.match(
      networkProblem({ ...stage, icePortRange: { min: 40_000, max: 40_000 } })!,
      /icePortRange.min \(40000\) must be less than max/,
    );
    assert.match(networkProblem({ ...stage, icePortRange: { min: 40_010, max: 40_000 } })!, /must be less than max/);
    assert.equal(networkProblem({ ...stage, icePortRange: { min: 40_000, max: 40_001 } }), undefined);
    assert.match(networkProblem({ ...stage, iceAddresses: ['0.0.0.0'] })!, /0\.0\.0\.0 is not an address/);
    assert.match(networkProblem(turn({ urls: ['turn:t.example:3478'] }))!, /needs credentials/);
    assert.match(networkProblem(turn({ username: 'u' }))!, /username and credential go together/);
    assert.match(networkProblem(turn({ secret: 's'.repeat(16), username: 'u', credential: 'c' }))!, /either secret/);
    assert.equal(networkProblem(turn({ urls: ['stun:t.example:3478'] })), undefined, 'STUN needs no credentials');
    assert.throws(
      () => checkStageNetwork({ ...stage, icePortRange: { min: 2, max: 1 } }),
      /^Error: invalid configuration: stage.icePortRange/,
    );
  });

  test('werift gets the port range as [min, max] and passive-only ICE-TCP', () => {
    assert.deepEqual(weriftNetwork({ icePortRange: { min: 40_000, max: 40_099 }, iceTcp: true }), {
      icePortRange: [40_000, 40_099],
      iceUseTcp: true,
      iceTcpPassive: true,
    });
    assert.equal(weriftNetwork(stage).icePortRange, undefined);
    assert.equal(weriftNetwork(stage).iceUseTcp, false);
  });

  test('a shared secret gives TURN REST API credentials: <expiry>:<account>, base64 HMAC-SHA1', () => {
    const secret = 'coturn-static-auth-secret';
    const config = turn({
      urls: ['turn:t.example:3478?transport=tcp', 'stun:t.example:3478'],
      secret,
      credentialTtlSeconds: 600,
    });
    const [relay, stun] = iceServersFor(config.turn, 'ac_1', 1_700_000_000_500);
    assert.equal(relay!.username, '1700000600:ac_1');
    assert.equal(relay!.credential, createHmac('sha1', secret).update('1700000600:ac_1').digest('base64'));
    assert.deepEqual(stun, { urls: 'stun:t.example:3478' }, 'no credentials for STUN');
    const fixed = iceServersFor(turn({ urls: ['turns:t.example:5349'], username: 'u', credential: 'p' }).turn, 'ac_1', 0);
    assert.deepEqual(fixed, [{ urls: 'turns:t.example:5349', username: 'u', credential: 'p' }]);
    assert.deepEqual(iceServersFor(stage.turn, 'ac_1', 0), [], 'no urls, no servers');
  });

  test('Link headers (RFC 9725 §4.6) round-trip, escaping included; other links are ignored', () => {
    const servers = [
      { urls: 'turn:t.example:3478?transport=tcp', username: '1700000600:ac_1', credential: 'a"b\\c=,;' },
      { urls: 'stun:t.example:3478' },
    ];
    const links = iceServerLinks(servers);
    assert.equal(
      links[0],
      '<turn:t.example:3478?transport=tcp>; rel="ice-server"; username="1700000600:ac_1"; credential="a\\"b\\\\c=,;"; credential-type="password"',
    );
    assert.deepEqual(parseIceServerLinks(links), servers);
    assert.deepEqual(parseIceServerLinks(links.join(', ')), servers, 'one header, joined as fetch joins them');
    assert.deepEqual(
      parseIceServerLinks(
        '<https://example.org/x>; rel="ice-server", </whip/1>; rel=next, <turn:a:1>; rel=ice-server; username=u; credential=p',
      ),
      [{ urls: 'turn:a:1', username: 'u', credential: 'p' }],
    );
    assert.deepEqual(parseIceServerLinks(null), []);
  });
});

test('the config loader refuses the same settings at load, naming them', () => {
  assert.throws(
    () => loadConfig({ env: { AMPHI_STAGE_ICE_PORT_RANGE: '{"min":40000,"max":40000}' } }),
    /invalid configuration: stage\.icePortRange\.min \(40000\) must be less than max \(40000\)/,
  );
  assert.equal(loadConfig({ env: { AMPHI_STAGE_ICE_PORT_RANGE: '{"min":40000,"max":40099}' } }).stage.icePortRange?.max, 40_099);
});
