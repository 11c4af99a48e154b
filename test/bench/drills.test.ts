import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runCrowd } from '../../bench/joins/crowd.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';

// The flash-crowd drill at tiny scale against an in-process server: capacity 10 joins/s, a crowd of
// 100/s for half a second, every ticket followed to its exchange.
describe('flash-crowd drill', () => {
  let server: LiveServer;
  let spaceId: string;

  before(async () => {
    server = await startLiveServer({
      admission: {
        joinsPerSecond: 10,
        joinBurst: 10,
        pow: { thresholdJoinsPerSecond: 1e9 },
        limits: { joinsPerAddress: { capacity: 100_000, refillPerSecond: 10_000 } },
      },
    });
    const host = await server.signUp('crowd_host');
    spaceId = (await server.api('POST', '/api/spaces', host.token, { title: 'Crowd' })).json.space.id as string;
  });
  after(() => server.shutdown());

  for (const linePoll of ['cdn', 'direct'] as const) {
    test(`every attempt gets a token or a ticket, in order, and every ticket is exchanged (${linePoll} line polls)`, async () => {
      const r = await runCrowd({
        baseUrl: server.url,
        spaceId,
        attemptsPerSecond: 100,
        seconds: 0.5,
        drainSeconds: 10,
        sourceAddresses: ['127.0.0.1'],
        linePoll,
        pollIntervalMs: 250,
      });
      assert.equal(r.attempts, 50);
      assert.deepEqual(r.errors, {});
      assert.equal(r.fifoViolations, 0, JSON.stringify(r.fifo));
      assert.equal(r.tokensIssued + r.ticketsIssued, r.attempts);
      assert.ok(r.ticketsIssued >= 30, `tickets ${r.ticketsIssued}`);
      assert.equal(r.exchanged, r.ticketsIssued);
      assert.equal(r.waitingAtEnd, 0);
      assert.ok(r.drainedAtS !== undefined);
      assert.equal(r.etaErrorPct.samples, r.ticketsIssued);
      assert.ok(r.lineFetches > 0);
    });
  }

  test('it fails when the door misbehaves: joins on a Space that does not exist are errors', async () => {
    const r = await runCrowd({
      baseUrl: server.url,
      spaceId: 'sp_AAAAAAAAAAAA',
      attemptsPerSecond: 50,
      seconds: 0.2,
      drainSeconds: 1,
      sourceAddresses: ['127.0.0.1'],
      linePoll: 'cdn',
    });
    assert.equal(r.attempts, 10);
    assert.equal(r.tokensIssued + r.ticketsIssued, 0);
    assert.equal(r.errors.join_http_404, 10);
    assert.equal(r.errorCount, 10);
  });
});

// A fake door that hands out numbers backwards and says "not yet" after showing a number come up:
// the drill's FIFO checks must see both.
test('the flash-crowd drill detects FIFO violations', async () => {
  let issued = 1000;
  const fake = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET') {
      res.end(JSON.stringify({ nowServing: 5000, lastIssued: 5000, perSecond: 10 }));
      return;
    }
    req.resume();
    req.on('end', () => {
      res.statusCode = 202;
      res.end(
        JSON.stringify({
          ticket: 't',
          number: issued--,
          position: 1,
          etaSeconds: 1,
          nowServing: 0,
          client: 'c',
          lineUrl: '/line',
        }),
      );
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  try {
    const r = await runCrowd({
      baseUrl: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
      spaceId: 'sp_AAAAAAAAAAAA',
      attemptsPerSecond: 20,
      seconds: 0.5,
      drainSeconds: 0.5,
      sourceAddresses: ['127.0.0.1'],
      linePoll: 'direct',
      pollIntervalMs: 100,
    });
    assert.ok(r.fifo.numberOrder > 0, JSON.stringify(r.fifo));
    assert.ok(r.fifo.notYetAfterComeUp > 0, JSON.stringify(r.fifo));
    assert.equal(r.exchanged, 0);
  } finally {
    fake.close();
  }
});
