import type { Config } from '../config/schema.ts';
import { every, systemClock, type Clock } from '../lib/clock.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { TokenSigner } from '../lib/signed-token.ts';
import { openStore } from '../storage/open.ts';
import { buildApp, type Amphi } from './app.ts';
import { loadSigningKey } from './keys.ts';

/** How often expired sessions are deleted from storage. */
const SESSION_SWEEP_MS = 3_600_000;

export interface RunningServer extends Amphi {
  /** The URL the server listens on, with the real port when port 0 was asked for. */
  readonly url: string;
  /** Stops accepting, drains in-flight requests, closes storage. Idempotent. */
  close(): Promise<void>;
}

/** Starts Amphi in the embedded mode: all planes in this process, SQLite unless DATABASE_URL is set. */
export async function startServer(
  config: Readonly<Config>,
  options: { clock?: Clock; log?: Logger } = {},
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.log.level);
  const signer = new TokenSigner([loadSigningKey(config.tokens.signingKey, config.dataDir)]);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, nowMs: clock.now() });
  const { host, port } = config.server;
  // With port 0 the real port is known only after listen; the derived public URL is fixed up then.
  let publicUrl = config.server.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let amphi: Amphi;
  try {
    amphi = await buildApp({ config, store, clock, signer, log, publicUrl: () => publicUrl });
    await amphi.app.listen({ host, port });
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = amphi.app.server.address();
  const realPort = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${realPort}`;
  if (config.server.publicUrl === null) publicUrl = url;
  log.info({ url, storage: config.databaseUrl === null ? 'sqlite' : 'postgres', dataDir: config.dataDir }, 'amphi listening');

  const stopSweeping = every(
    clock,
    SESSION_SWEEP_MS,
    async () => {
      const removed = await store.deleteExpiredSessions(clock.now());
      if (removed > 0) log.info({ removed }, 'expired sessions deleted');
    },
    (error) => log.warn({ err: error }, 'session sweep failed'),
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      log.info('amphi shutting down');
      stopSweeping();
      await amphi.app.close();
      await store.close();
      log.info('amphi stopped');
    })());
  return { ...amphi, url, close };
}
