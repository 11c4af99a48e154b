import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { AmphiError } from '../../src/errors.ts';
import { remoteCaptions } from '../../src/roles/remote-captions.ts';
import type { ClusterLink } from '../../src/roles/cluster.ts';

const log = pino({ level: 'silent' });

/** A media node's API answering each captions request with `answer`, recording what it was asked. */
async function mediaNode(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const asked: { url: string; authorization: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      asked.push({ url: req.url ?? '', authorization: req.headers.authorization, body });
      answer(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, asked, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The cluster as the toggle reads it: who holds each Space (Redis) and each node's URL (the fleet). */
function clusterOf(owners: Record<string, string>, urls: Record<string, string>): Pick<ClusterLink, 'redis' | 'fleet'> {
  const redis = {
    get: (key: string) =>
      Promise.resolve(key.includes('{sp_held}') && owners.sp_held !== undefined ? `${owners.sp_held} 7` : null),
  };
  const fleet = { node: (id: string) => (urls[id] === undefined ? undefined : { id, url: urls[id] }) };
  return { redis: redis as unknown as Redis, fleet: fleet as unknown as ClusterLink['fleet'] };
}

const codeOf = (code: string, retryAfter?: string) => (e: unknown) =>
  e instanceof AmphiError && e.code === code && (retryAfter === undefined || e.headers?.['retry-after'] === retryAfter);

test(
  "a control node's captions toggle asks the Space's owner with the caller's session and answers what it answered",
  { timeout: 15_000 },
  async () => {
    let status = 200;
    const media = await mediaNode((_req, body, res) => {
      const on = (JSON.parse(body) as { on: boolean }).on;
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '30' } : {}) });
      res.end(
        JSON.stringify(
          status === 200
            ? { on, automatic: true }
            : status === 503
              ? { error: { code: 'CAPTIONS_BUSY', message: 'busy' } }
              : { nope: 1 },
        ),
      );
    });
    try {
      const toggle = remoteCaptions(clusterOf({ sp_held: 'media-1' }, { 'media-1': media.url }), log);
      assert.deepEqual(await toggle.set('sp_held', true, 'tok_1'), { on: true });
      assert.deepEqual(media.asked[0], {
        url: '/api/spaces/sp_held/captions',
        authorization: 'Bearer tok_1',
        body: '{"on":true}',
      });
      status = 503;
      await assert.rejects(
        toggle.set('sp_held', true, 'tok_1'),
        codeOf('CAPTIONS_BUSY', '30'),
        "the owner's refusal, with its Retry-After",
      );
      status = 500;
      await assert.rejects(
        toggle.set('sp_held', true, 'tok_1'),
        codeOf('SERVICE_UNAVAILABLE'),
        'an answer out of shape: retry later',
      );
      await assert.rejects(
        toggle.set('sp_other', true, 'tok_1'),
        codeOf('SERVICE_UNAVAILABLE', '2'),
        'nobody holds it (a failover): retry later',
      );
      const gone = remoteCaptions(clusterOf({ sp_held: 'media-2' }, {}), log);
      await assert.rejects(gone.set('sp_held', true, 'tok_1'), codeOf('SERVICE_UNAVAILABLE'), 'its owner not in the fleet');
    } finally {
      await media.close();
    }
    const closed = remoteCaptions(clusterOf({ sp_held: 'media-1' }, { 'media-1': media.url }), log);
    await assert.rejects(closed.set('sp_held', true, 'tok_1'), codeOf('SERVICE_UNAVAILABLE'), 'the owner does not answer');
  },
);
