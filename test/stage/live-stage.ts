import { after, afterEach, before } from 'node:test';
import { Cleanup } from '../helpers/cleanup.ts';
import { startLiveServer, type LiveServer } from '../helpers/server.ts';
import { publishTone, type TonePublisher } from '../helpers/whip-client.ts';

/**
 * Bounds for suites on real sockets and real WebRTC. A suite's timeout covers its tests but not its
 * hooks, and a test that times out must not eat the suite's time for the others: each gets its own.
 */
export const SUITE = { timeout: 180_000 };
export const HOOK = { timeout: 30_000 };
export const TEST = { timeout: 30_000 };

export type Publish = Parameters<typeof publishTone>[0];

/**
 * A live server for one `describe`, and tone publishers that close after each test however it ends
 * (an assertion, a timeout): an open werift peer keeps its UDP sockets, and the test file's process,
 * alive. Publishers close before the server, so their WHIP DELETE still reaches it. Call inside
 * `describe`; read `server` in tests and hooks, once `before` has run.
 */
export function liveStage(overrides: Record<string, unknown> = {}) {
  const suite = new Cleanup();
  const perTest = new Cleanup();
  let server: LiveServer | undefined;
  before(async () => {
    server = suite.use('server', await startLiveServer(overrides), (s) => s.shutdown());
  }, HOOK);
  afterEach(() => perTest.run(), HOOK);
  after(async () => {
    try {
      await perTest.run();
    } finally {
      await suite.run();
    }
  }, HOOK);
  return {
    get server(): LiveServer {
      if (server === undefined) throw new Error('the live server is not started (read it in a test or hook)');
      return server;
    },
    /** `publishTone`, closed after the test (closing it earlier too is fine: close is idempotent). */
    async publish(options: Publish): Promise<TonePublisher> {
      return perTest.use(`tone publisher (${options.frequencyHz} Hz)`, await publishTone(options), (p) => p.close());
    },
  };
}
