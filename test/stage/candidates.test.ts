import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import {
  CandidateBudget,
  candidatePolicy,
  filterOfferCandidates,
  refuseAddress,
  type CandidatePolicy,
} from '../../src/stage/candidates.ts';
import { handOffer, hostCandidate } from './offers.ts';

const STRICT: CandidatePolicy = {
  allowLoopback: false,
  allowPrivate: false,
  minPort: 1024,
  maxPort: 65535,
  maxPerSession: 3,
  acceptTcp: false,
};
const OPEN: CandidatePolicy = { ...STRICT, allowLoopback: true, allowPrivate: true };
const value = (host: string, port = 40_000, transport = 'udp') =>
  hostCandidate(host, port, 1, transport).slice('candidate:'.length);

describe('remote ICE candidate policy', () => {
  test('unspecified, multicast, broadcast, reserved and link-local addresses are refused even by the most open policy', () => {
    for (const [host, why] of [
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['169.254.169.254', 'link-local'],
    ] as const) {
      assert.equal(refuseAddress(host, 40_000, OPEN), why, host);
    }
  });

  test('IPv6 and names (mDNS .local, DNS, shorthand IPv4 the resolver would expand) are refused', () => {
    for (const [host, why] of [
      ['::1', 'ipv6'],
      ['::', 'ipv6'],
      ['::ffff:127.0.0.1', 'ipv6'],
      ['2001:db8::1', 'ipv6'],
      ['fe80::1', 'ipv6'],
      ['4b1e7ad6-0b3c-4a1e-9c1d-2d6d1c7e2f1a.local', 'hostname'],
      ['example.com', 'hostname'],
      ['localhost', 'hostname'],
      ['127.1', 'hostname'],
      ['2130706433', 'hostname'],
      ['0127.0.0.1', 'hostname'],
      ['', 'hostname'],
    ] as const) {
      assert.equal(refuseAddress(host, 40_000, OPEN), why, host);
    }
  });

  test('loopback and private addresses only when the policy allows them', () => {
    for (const host of ['127.0.0.1', '127.9.9.9']) {
      assert.equal(refuseAddress(host, 40_000, STRICT), 'loopback');
      assert.equal(refuseAddress(host, 40_000, OPEN), undefined);
    }
    for (const host of ['10.0.0.1', '172.16.0.1', '172.31.255.254', '192.168.1.10', '100.64.0.1']) {
      assert.equal(refuseAddress(host, 40_000, STRICT), 'private', host);
      assert.equal(refuseAddress(host, 40_000, OPEN), undefined, host);
    }
    for (const host of ['172.15.0.1', '172.32.0.1', '100.128.0.1', '8.8.8.8', '203.0.113.7']) {
      assert.equal(refuseAddress(host, 40_000, STRICT), undefined, host);
    }
  });

  test('ports outside [minPort, maxPort] are refused', () => {
    const policy = { ...OPEN, minPort: 1024, maxPort: 50_000 };
    assert.equal(refuseAddress('8.8.8.8', 53, policy), 'port');
    assert.equal(refuseAddress('8.8.8.8', 0, policy), 'port');
    assert.equal(refuseAddress('8.8.8.8', 1023, policy), 'port');
    assert.equal(refuseAddress('8.8.8.8', 1024, policy), undefined);
    assert.equal(refuseAddress('8.8.8.8', 50_000, policy), undefined);
    assert.equal(refuseAddress('8.8.8.8', 50_001, policy), 'port');
    assert.equal(refuseAddress('8.8.8.8', Number.NaN, policy), 'port');
    const budget = new CandidateBudget(OPEN);
    assert.equal(budget.admit('1 1 udp 1 8.8.8.8 9 typ host'), 'port', 'the discard port');
    assert.equal(budget.admit('1 1 udp 1 8.8.8.8 4e4 typ host'), 'port', 'a port werift would read as a number');
    assert.equal(budget.admit('1 1 udp 1 8.8.8.8 0x9c40 typ host'), 'port');
  });

  test('malformed lines and other transports are refused', () => {
    const budget = new CandidateBudget(OPEN);
    assert.equal(budget.admit('1 1 udp 1 8.8.8.8 40000'), 'malformed');
    assert.equal(budget.admit('1 1 udp 1 8.8.8.8 40000 type host'), 'malformed');
    assert.equal(budget.admit(value('8.8.8.8', 40_000, 'tcp')), 'transport');
    assert.equal(budget.admit(value('8.8.8.8', 40_000, 'UDP')), undefined, 'transport names are case-insensitive');
  });

  test('with ICE-TCP on, active TCP candidates are taken by address (their port is a placeholder); passive never', () => {
    const budget = new CandidateBudget({ ...STRICT, acceptTcp: true });
    const tcp = (host: string, tcptype: string) => `1 1 tcp 1518280447 ${host} 9 typ host tcptype ${tcptype}`;
    assert.equal(budget.admit(tcp('8.8.8.8', 'active')), undefined);
    assert.equal(budget.admit(tcp('8.8.8.8', 'active')), 'duplicate');
    assert.equal(budget.admit(tcp('8.8.4.4', 'passive')), 'transport', 'the stage never dials out');
    assert.equal(budget.admit(tcp('8.8.4.4', 'so')), 'transport');
    assert.equal(budget.admit('1 1 tcp 1518280447 8.8.4.4 9 typ host'), 'transport', 'no tcptype');
    assert.equal(budget.admit(tcp('10.0.0.2', 'active')), 'private', 'the address policy still applies');
    assert.equal(budget.admit(tcp('127.0.0.1', 'active')), 'loopback');
    const off = new CandidateBudget(STRICT);
    assert.equal(off.admit(tcp('8.8.8.8', 'active')), 'transport', 'ICE-TCP off: no TCP candidate');
    assert.equal(candidatePolicy({ ...defaultConfig.stage, iceTcp: true }).acceptTcp, true);
    assert.equal(candidatePolicy(defaultConfig.stage).acceptTcp, false);
  });

  test("'auto' allows loopback (private) peers only when one of the stage's own addresses is loopback (private)", () => {
    const policy = (iceAddresses: string[]) =>
      candidatePolicy({ iceAddresses, remoteCandidates: defaultConfig.stage.remoteCandidates });
    assert.deepEqual(
      [policy(['127.0.0.1']).allowLoopback, policy(['127.0.0.1']).allowPrivate],
      [true, false],
      'a stage on loopback (the tests)',
    );
    assert.deepEqual([policy(['192.168.1.5']).allowLoopback, policy(['192.168.1.5']).allowPrivate], [false, true]);
    assert.deepEqual([policy(['203.0.113.7']).allowLoopback, policy(['203.0.113.7']).allowPrivate], [false, false]);
    const forced = candidatePolicy({
      iceAddresses: ['203.0.113.7'],
      remoteCandidates: { ...defaultConfig.stage.remoteCandidates, allowLoopback: true, allowPrivate: true },
    });
    assert.deepEqual([forced.allowLoopback, forced.allowPrivate], [true, true]);
    const refused = candidatePolicy({
      iceAddresses: ['127.0.0.1'],
      remoteCandidates: { ...defaultConfig.stage.remoteCandidates, allowLoopback: false },
    });
    assert.equal(refused.allowLoopback, false);
  });
});

describe('candidates per session', () => {
  test('at most maxPerSession candidates, counted over the offer and every trickle', () => {
    const budget = new CandidateBudget(OPEN); // maxPerSession: 3
    const offer = filterOfferCandidates(
      handOffer([hostCandidate('8.8.8.1', 40_000), hostCandidate('8.8.8.2', 40_000, 2), hostCandidate('0.0.0.0', 40_000, 3)]),
      budget,
    );
    assert.deepEqual(offer.dropped, ['unspecified']);
    assert.equal(offer.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).length, 2);
    // Trickled later: one more fits, the rest are over the cap, whatever their address.
    assert.equal(budget.admit(value('8.8.8.3')), undefined);
    assert.equal(budget.admit(value('8.8.8.4')), 'cap');
    assert.equal(budget.admit(value('8.8.8.5')), 'cap');
    // A refused candidate is refused for its own reason, and costs nothing.
    assert.equal(budget.admit(value('224.0.0.1')), 'multicast');
  });

  test('the same address and port twice is one candidate: the second is dropped, not counted', () => {
    const budget = new CandidateBudget(OPEN);
    assert.equal(budget.admit(value('8.8.8.8')), undefined);
    assert.equal(budget.admit(value('8.8.8.8')), 'duplicate');
    assert.equal(budget.admit(value('8.8.8.9')), undefined);
    assert.equal(budget.admit(value('8.8.8.10')), undefined);
  });

  test('the filtered offer keeps every other line, with the line breaks werift splits on', () => {
    const offer = handOffer([hostCandidate('127.0.0.1', 40_000), hostCandidate('8.8.8.8', 40_000, 2)]);
    const { sdp, dropped } = filterOfferCandidates(offer, new CandidateBudget(STRICT));
    assert.deepEqual(dropped, ['loopback']);
    assert.equal(sdp, offer.replace(`a=${hostCandidate('127.0.0.1', 40_000)}\r\n`, ''));
    // An offer with bare LF line ends is judged line by line too, and comes back with CRLF.
    const lf = filterOfferCandidates(offer.replaceAll('\r\n', '\n'), new CandidateBudget(STRICT));
    assert.equal(lf.sdp, sdp);
    // "a=candidate" without its colon would make werift throw: dropped as malformed.
    assert.deepEqual(filterOfferCandidates('v=0\r\na=candidate\r\n', new CandidateBudget(OPEN)).dropped, ['malformed']);
  });
});
