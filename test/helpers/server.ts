import { mkdtempSync, rmSync } from 'node:fs';
import { jsonApi } from './json-api.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { startEmbedded, type RunningServer } from '../../src/roles/embedded.ts';

export const TEST_SIGNING_KEY = 'integration-test-signing-key-0123456789';

export interface LiveServer extends RunningServer {
  /** JSON API call over a real socket. */
  api(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary shapes
  signUp(handle: string): Promise<{ id: string; token: string }>;
  /** A live Space hosted by a new account, with `speakers` more accounts on stage. */
  liveSpace(
    speakers: number,
  ): Promise<{ spaceId: string; host: { id: string; token: string }; speakers: { id: string; token: string }[] }>;
  stageToken(spaceId: string, token: string): Promise<{ whipUrl: string; token: string }>;
  /** Resolves after the Space's program has produced `count` more frames (20 ms each), or rejects after 10 s. */
  programFrames(spaceId: string, count: number): Promise<void>;
  shutdown(): Promise<void>;
  /** Its data directory (removed at shutdown): media under `media/<spaceId>/`. */
  readonly dataDir: string;
}

/**
 * `startLiveServer`'s admission: the load of the machine running the tests is not under test (shedding
 * has its own tests, on an injected load sample). With overload levels it never reaches and lifted
 * join limits, a join is answered with a token at once, never sent to the waiting room because other
 * processes keep the CPU busy. An `admission` override replaces it whole; spread it to change a key:
 * `{ ...QUIET_ADMISSION, limits: {...} }`.
 */
export const QUIET_ADMISSION = {
  joinBurst: 100_000,
  limits: { joinsPerAddress: { capacity: 100_000, refillPerSecond: 10_000 } },
  overload: { eventLoopDelayLevelsMs: [10_000], cpuShareLevels: [1], queueDepthLevels: [1_000_000] },
} as const;

/** The real embedded server (API and stage on their own ephemeral ports), in a temp data dir. */
export async function startLiveServer(overrides: Record<string, unknown> = {}): Promise<LiveServer> {
  const dir = mkdtempSync(join(tmpdir(), 'amphi-live-'));
  const config = loadConfig({
    overrides: {
      dataDir: dir,
      server: { port: 0 },
      stage: { port: 0 },
      auth: { passwordHashCostLog2: 10 },
      tokens: { signingKey: TEST_SIGNING_KEY },
      rateLimits: { authPerAddress: { capacity: 10_000, refillPerSecond: 1000 } },
      demo: { enabled: false, title: 'Demo' },
      // Tests join hundreds of listeners from one address at once, on a machine busy with other tests;
      // admission has its own tests.
      admission: QUIET_ADMISSION,
      ...overrides,
    },
  });
  const server = await startEmbedded(config, { log: pino({ level: process.env.AMPHI_TEST_LOG ?? 'silent' }) });
  let handles = 0;
  const api: LiveServer['api'] = jsonApi(() => server.url);
  const signUp = async (handle: string) => {
    const r = await api('POST', '/api/accounts', undefined, { handle, password: 'a long test password' });
    return { id: r.json.account.id as string, token: r.json.token as string };
  };
  return {
    dataDir: dir,
    ...server,
    api,
    signUp,
    async liveSpace(count) {
      const host = await signUp(`host_${handles++}`);
      const spaceId = (await api('POST', '/api/spaces', host.token, { title: 'Stage test' })).json.space.id as string;
      await api('POST', `/api/spaces/${spaceId}/start`, host.token);
      const speakers = [];
      for (let i = 0; i < count; i++) {
        const s = await signUp(`speaker_${handles++}`);
        await api('POST', `/api/spaces/${spaceId}/invitations`, host.token, { accountId: s.id });
        await api('POST', `/api/spaces/${spaceId}/invitations/me/accept`, s.token);
        speakers.push(s);
      }
      return { spaceId, host, speakers };
    },
    programFrames(spaceId, count) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const timer = setTimeout(() => reject(new Error(`only ${seen} of ${count} program frames in 10 s`)), 10_000);
        const off = server.stage.openRoom(spaceId).program.on('frame', () => {
          if (++seen < count) return;
          clearTimeout(timer);
          off();
          resolve();
        });
      });
    },
    async stageToken(spaceId, token) {
      const r = await api('POST', `/api/spaces/${spaceId}/stage`, token);
      if (r.status !== 200) throw new Error(`stage credential refused: ${JSON.stringify(r.json)}`);
      return { whipUrl: r.json.whipUrl as string, token: r.json.token as string };
    },
    async shutdown() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
