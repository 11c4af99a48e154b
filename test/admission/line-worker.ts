/**
 * One control node in its own process, for the multi-process line test (redis-line-acceptance.test.ts):
 *   node line-worker.ts <port> <spaceId> issue <count>          → {"issued":[{number,epoch},...]}
 *   node line-worker.ts <port> <spaceId> redeem <epoch> <last>  → {"ok":[numbers redeemed here]}
 * Every step of a phase is sent at once (pipelined on the one connection), as a busy node would.
 */
import { Redis } from 'ioredis';
import { RedisLineStore } from '../../src/admission/redis-line-store.ts';
import type { LineRules } from '../../src/admission/line-store.ts';

const [port, spaceId, phase, a, b] = process.argv.slice(2);
const redis = new Redis({ host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: 1 });
const store = new RedisLineStore(redis);
/** A standing line (rate 0; the parent releases it), with a TTL longer than the test. */
const rules: LineRules = { perSecond: 0, ticketTtlMs: 600_000, etaHalfLifeMs: 10_000, keepMs: 600_000 };
try {
  if (phase === 'issue') {
    const steps = Array.from({ length: Number(a) }, () =>
      store.issue(spaceId!, rules, { epoch: `pid${process.pid}`, onlyIfWaiting: false }),
    );
    const issued = (await Promise.all(steps)).map((r) => r.issued);
    process.stdout.write(JSON.stringify({ issued }));
  } else if (phase === 'redeem') {
    const numbers = Array.from({ length: Number(b) }, (_, i) => i + 1);
    const results = await Promise.all(numbers.map((n) => store.redeem(spaceId!, n, a!, rules)));
    process.stdout.write(JSON.stringify({ ok: numbers.filter((_, i) => results[i]!.kind === 'ok') }));
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
} finally {
  redis.disconnect();
}
