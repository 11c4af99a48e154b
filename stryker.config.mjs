// Mutation testing (StrykerJS) over the unit-level tests: `npm run mutate` (all five folders, hours on two
// cores), or one folder at a time: `MUTATE_SCOPE=lib npm run mutate` (any of lib, admission, edge, control,
// stage, or control-core / control-http for control in two halves, control-http-auth / -spaces / -rest for
// control-http in thirds, control-replay for the replay code issue 18 added; comma-separated for
// several). Each scope writes reports/mutation/<scope>.html (index.html for all)
// and its own incremental file, so a re-run retests only the mutants whose code or covering tests changed;
// add `-- --force` to retest everything. Not part of CI.
//
// The tap runner runs each test file as its own `node --test-reporter=tap <file>` process, in which Node 24
// strips the types of the instrumented .ts itself; a mutant runs only the test files that cover it. It spawns
// `node` from PATH, so run it through npm (node_modules/.bin, Node 24, comes first).

/** Files to mutate per folder. Excluded: code that only the real-network tests reach (WHIP, stage and edge HTTP). */
const folders = {
  lib: ['src/lib/**/*.ts'],
  admission: ['src/admission/**/*.ts'],
  edge: ['src/edge/**/*.ts', '!src/edge/http.ts', '!src/edge/origin-client.ts'],
  // bus-bridge.ts is reached only by the Redis suite (a server per file). schemas.ts and types.ts are
  // declarations (TypeBox schemas, types): mutants there would be static.
  control: ['src/control/**/*.ts', '!src/control/bus-bridge.ts', '!src/control/http/{schemas,types}.ts'],
  // The same files in two halves, each about an hour on two cores, so a run can be resumed half by half.
  'control-core': ['src/control/*.ts', '!src/control/bus-bridge.ts'],
  'control-http': ['src/control/http/*.ts', '!src/control/http/{schemas,types}.ts'],
  // control-http again in thirds (each route file's mutants rerun whole HTTP test files: hours in all).
  'control-http-auth': ['src/control/http/{auth,api,views}.ts'],
  'control-http-spaces': ['src/control/http/{spaces,stage}-routes.ts'],
  'control-http-rest': ['src/control/http/{accounts,listening,recording}-routes.ts'],
  // The replay code issue 18 added: clips, the podcast feed, the calendars, chapters. recording-files.ts
  // is an interface only (no mutants). To fit an hour on two cores, the largest files were dropped one
  // by one (share.ts: 199 of the 592 mutants, then clip-routes.ts: 124, then feed-routes.ts: 91): a
  // route's schema mutants rerun every HTTP test file. control-http (or control) still scores them.
  'control-replay': [
    'src/control/clips.ts',
    'src/control/podcast.ts',
    'src/control/recording-files.ts',
    'src/control/calendar.ts',
    'src/control/http/chapter-routes.ts',
  ],
  stage: ['src/stage/**/*.ts', '!src/stage/{http,session,plane,sdp}.ts'],
};

const scope = process.env.MUTATE_SCOPE
  ? process.env.MUTATE_SCOPE.split(',')
  : Object.keys(folders).filter((name) => !name.startsWith('control-'));
for (const name of scope) {
  if (!(name in folders)) throw new Error(`MUTATE_SCOPE: unknown folder ${name} (one of ${Object.keys(folders).join(', ')})`);
}
const report = process.env.MUTATE_SCOPE ? scope.join('-') : 'index';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'tap',
  tap: {
    // No browsers, and no sockets or processes but loopback and ffmpeg: app.inject, temp dirs and the manual clock.
    testFiles: [
      'test/lib/*.test.ts',
      // The Redis suites start servers of their own: not per mutant.
      'test/admission/!(redis-*).test.ts',
      'test/edge/edge.test.ts',
      'test/edge/stream.test.ts',
      'test/edge/token-keep-alive.test.ts',
      'test/edge/cache.test.ts',
      'test/edge/responses.test.ts',
      'test/edge/space-stream.test.ts',
      'test/edge/listeners.test.ts',
      'test/control/!(bus-bridge).test.ts',
      'test/control/http/*.test.ts',
      // The clips cut from a replay (clip-routes.ts, clips.ts): a loopback socket and ffmpeg, skipped without it.
      'test/origin/download-player.test.ts',
      'test/stage/mixer.test.ts',
      'test/stage/limiter.test.ts',
      'test/stage/jitter-buffer.test.ts',
      'test/stage/room.test.ts',
      'test/stage/audio.test.ts',
      'test/stage/codec.test.ts',
      'test/stage/demo.test.ts',
    ],
    // demo.test.ts also starts a live server and waits for real-time audio: skip that one test.
    nodeArgs: ['--test-reporter=tap', '--test-skip-pattern=^npm start shows a live demo', '-r', '{{hookFile}}', '{{testFile}}'],
    forceBail: true,
  },
  mutate: scope.flatMap((name) => folders[name]),
  ignorePatterns: ['/web/dist', '/data'],
  // Node strips types without checking them, so no `// @ts-nocheck` headers (they would also change
  // web/src/api-types.ts, which a test compares byte for byte).
  disableTypeChecks: false,
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant) would rerun every test file for each mutant: hours.
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 15_000,
  dryRunTimeoutMinutes: 20,
  incremental: true,
  incrementalFile: `reports/mutation/${report}-incremental.json`,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: `reports/mutation/${report}.html` },
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
  clearTextReporter: { reportMutants: false },
};
