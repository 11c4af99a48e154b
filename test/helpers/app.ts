import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';
import { buildControlApp, type ControlApp } from '../../src/roles/control.ts';
import { Metrics } from '../../src/roles/metrics.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';
import type { Store } from '../../src/storage/store.ts';

export interface TestApp extends ControlApp {
  readonly clock: ManualClock;
  readonly config: Readonly<Config>;
  readonly signer: TokenSigner;
  /** Calls the API in-process (no socket) and parses the JSON answer. */
  call(
    method: string,
    url: string,
    options?: { token?: string | undefined; body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply>;
  signUp(handle: string): Promise<{ id: string; token: string }>;
  /** Signs up an operator: an account marked admin (as `amphi admin grant` does). */
  signUpAdmin(handle: string): Promise<{ id: string; token: string }>;
  /** The database itself (not watched: no outage, no hook). */
  readonly store: Store;
  /** Makes every storage call fail with `error` (an outage), or work again with undefined. */
  storageDown(error: Error | undefined): void;
  /** Runs `hook` before each storage call; a promise it returns delays the call (to open race windows). */
  onStoreCall(hook: ((method: string) => Promise<void> | undefined) | undefined): void;
  close(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
}

export const TEST_KEY = { id: 'test', secret: 'a-test-signing-key-that-is-long-enough' };

/** A real app over a real SQLite file in a temp dir, on a manual clock, with cheap password hashing. */
export async function makeTestApp(
  overrides: Record<string, unknown> = {},
  parts: {
    readonly onStage?: (spaceId: string) => readonly string[];
    /** Cluster mode's edge choice (an edge and its fallbacks per join); default: the one edge. */
    readonly edges?: () => { readonly url: string; readonly fallbacks: readonly string[] } | undefined;
    /** Which Spaces have a recording (an ended one with one can be joined as a replay). */
    readonly recordings?: (spaceId: string) => { live: boolean; durationMs: number } | undefined;
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'amphi-test-'));
  const config = loadConfig({
    overrides: {
      dataDir: dir,
      log: { level: 'silent' },
      auth: { passwordHashCostLog2: 10 },
      rateLimits: { authPerAddress: { capacity: 10_000, refillPerSecond: 1000 } },
      // Time stands still on the test clock: no bucket refills. Admission has its own tests.
      admission: { joinBurst: 1_000_000, limits: { joinsPerAddress: { capacity: 1_000_000, refillPerSecond: 1000 } } },
      ...overrides,
    },
  });
  const clock = new ManualClock(Date.UTC(2026, 10, 1, 12));
  const realStore = await SqlStore.open(new SqliteDriver(join(dir, 'amphi.db')), clock.now());
  let outage: Error | undefined;
  let hook: ((method: string) => Promise<void> | undefined) | undefined;
  // Every call reaches the hook, those made inside a mutation's transaction (on the store it is handed) too.
  const watched = (real: Store): Store =>
    new Proxy(real, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function' || key === 'close') return typeof value === 'function' ? value.bind(target) : value;
        // The community tables' (and captions choices') store is watched too (an outage reaches it; the hook sees its calls).
        if (key === 'community' || key === 'captionsChoices') return () => watched(target[key]() as unknown as Store);
        const method = value as (...a: unknown[]) => unknown;
        return async (...args: unknown[]) => {
          if (outage !== undefined) throw outage;
          await hook?.(String(key));
          if (key === 'inSpaceTransaction') {
            const [spaceId, fn] = args as [string, (tx: Store) => Promise<unknown>];
            return target.inSpaceTransaction(spaceId, (tx) => fn(watched(tx)));
          }
          return method.apply(target, args);
        };
      },
    });
  const store = watched(realStore);
  const signer = new TokenSigner([TEST_KEY]);
  const log = pino({ level: 'silent' });
  const amphi = await buildControlApp({
    config,
    store,
    notifyStore: realStore.notifications(),
    clock,
    signer,
    log,
    metrics: new Metrics(),
    failures: new ListenerFailures(log),
    urls: {
      edge: () => 'http://amphi.test',
      stage: () => 'http://stage.amphi.test',
      ...(parts.edges === undefined ? {} : { edges: parts.edges }),
    },
    ...(parts.recordings === undefined ? {} : { recordings: parts.recordings }),
    // A quiet machine: this process's real CPU would mean nothing on the test clock.
    load: { sample: () => ({ eventLoopDelayMs: 0, cpuShare: 0 }), close: () => {} },
    onStage: parts.onStage,
  });

  const call: TestApp['call'] = async (method, url, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const res = await amphi.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(options.body === undefined ? {} : { payload: options.body as object }),
    });
    let json: unknown;
    try {
      json = res.body === '' ? undefined : JSON.parse(res.body);
    } catch {
      json = res.body;
    }
    return { status: res.statusCode, headers: res.headers, json };
  };

  const signUp = async (handle: string) => {
    const r = await call('POST', '/api/accounts', { body: { handle, password: 'correct horse battery' } });
    if (r.status !== 201) throw new Error(`sign-up of ${handle} failed: ${r.status} ${JSON.stringify(r.json)}`);
    return { id: r.json.account.id as string, token: r.json.token as string };
  };
  return {
    ...amphi,
    clock,
    config,
    signer,
    call,
    signUp,
    async signUpAdmin(handle) {
      const account = await signUp(handle);
      await realStore.community().setAdmin(account.id, true);
      return account;
    },
    store: realStore,
    storageDown(error) {
      outage = error;
    },
    onStoreCall(fn) {
      hook = fn;
    },
    async close() {
      await amphi.app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
