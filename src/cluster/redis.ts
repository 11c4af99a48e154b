import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../lib/logger.ts';
import { redactUrlPassword } from '../lib/redact-url.ts';

/** Where Redis is: one URL, or a Sentinel set and the name of the master it watches. */
export interface RedisSettings {
  readonly redisUrl: string | null;
  readonly sentinels: readonly string[];
  readonly sentinelName: string;
}

/** Whether the settings name a Redis at all (cluster mode) or not (embedded). */
export function redisConfigured(settings: RedisSettings): boolean {
  return settings.redisUrl !== null || settings.sentinels.length > 0;
}

/** How long the reconnect pause grows to: a node back from a failover retries at least this often. */
const MAX_RECONNECT_PAUSE_MS = 1000;
/** How long one command may wait for its answer before it fails (the caller then answers honestly). */
const COMMAND_TIMEOUT_MS = 2000;
/** A socket with a command waiting and nothing received for this long is dropped and reconnected. */
const SOCKET_TIMEOUT_MS = 3000;

/**
 * A connection to the deployment's Redis (ioredis), made for answering honestly while Redis is away:
 * commands fail at once instead of queueing (no offline queue: a join waits for nobody), each command
 * fails after `COMMAND_TIMEOUT_MS` and is never sent twice, a silent socket is dropped after
 * `SOCKET_TIMEOUT_MS`, and the connection retries every second at most, for ever, so a
 * node recovers by itself when Redis is back (`blocking`: no command timeout, for the bus's blocking reads). Through Sentinel, ioredis asks the sentinels for the
 * current master and follows a failover. `name` tells connections apart in Redis's CLIENT LIST.
 * Resolves once the first connection is ready (logging while it waits), so a role starts only with
 * its shared state reachable.
 */
export async function connectRedis(
  settings: RedisSettings,
  log: Logger,
  name: string,
  options: { readonly blocking?: boolean } = {},
): Promise<Redis> {
  const common: RedisOptions = {
    connectionName: `amphi-${name}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A connection for blocking reads (the bus) waits longer than any command timeout, by design.
    ...(options.blocking === true ? {} : { commandTimeout: COMMAND_TIMEOUT_MS }),
    // A socket that brings nothing back while a command waits is dead (a crashed host, a partition
    // without a reset): dropped and reconnected, instead of waiting for TCP to give up. Longer than a
    // blocking read (the bus blocks 1 s).
    socketTimeout: SOCKET_TIMEOUT_MS,
    // A command cut off by a lost connection fails; it is not sent again on the new one (a Lua step
    // that took a number, or an increment, must not run twice).
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_PAUSE_MS),
    lazyConnect: true,
  };
  const redis =
    settings.sentinels.length > 0
      ? new Redis({
          ...common,
          name: settings.sentinelName,
          sentinels: settings.sentinels.map((entry) => {
            const at = entry.lastIndexOf(':');
            return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
          }),
          sentinelRetryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_PAUSE_MS),
        })
      : new Redis(settings.redisUrl ?? 'redis://127.0.0.1:6379', common);
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down) log.warn({ err: error, connection: name }, 'redis: connection lost; retrying every second');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ connection: name }, 'redis: connection back');
    down = false;
  });
  const where =
    settings.sentinels.length > 0
      ? `sentinels ${settings.sentinels.join(',')}`
      : settings.redisUrl === null
        ? '(none)'
        : redactUrlPassword(settings.redisUrl);
  const waiting = setInterval(() => log.warn({ redis: where }, 'waiting for Redis'), 5000);
  try {
    // connect() rejects when the first attempt fails; the retry strategy keeps trying: wait for ready.
    redis.connect().catch(() => {});
    await new Promise<void>((resolve) => (redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve())));
  } finally {
    clearInterval(waiting);
  }
  return redis;
}
