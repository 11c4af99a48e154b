// The dependency rule, kept by a tool (run by `npm test` through `npm run check`). ARCHITECTURE.md
// explains the layers; CONTRIBUTING.md says what to do when a rule stops you. That every import
// resolves is tsc's job (it type-checks every file), so it is not repeated here.
const planes = '(control|admission|stage|origin|edge)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules form no import cycle (type-only imports included): each one can be read, built and tested on its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shipped-code-imports-no-tools',
      severity: 'error',
      comment: 'src/ is the product: it never imports benchmarks, tests, scripts or the web app.',
      from: { path: '^src/' },
      to: { path: '^(bench|test|scripts|web)/' },
    },
    {
      name: 'bench-imports-no-tests',
      severity: 'error',
      comment: 'Benchmarks have their own library (bench/lib); tests may import it, not the other way round.',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'web-reaches-server-only-through-shared',
      severity: 'error',
      comment: 'The browser app shares code with the server only through src/shared/ (no Node APIs, no plane).',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'shared-is-a-leaf',
      severity: 'error',
      comment: 'src/shared/ runs in Node, a page and a Worker: it imports nothing else from src/ and no Node built-in.',
      from: { path: '^src/shared/' },
      to: { pathNot: '^src/shared/' },
    },
    {
      name: 'leaves-import-no-plane',
      severity: 'error',
      comment: 'lib/, config/ and errors.ts are plane-free building blocks: they import no plane, storage or role.',
      from: { path: '^src/(lib/|config/|errors\\.ts$)' },
      to: { path: `^src/(${planes.slice(1, -1)}|storage|roles|config)/|^src/cli\\.ts$`, pathNot: '^src/config/' },
    },
    {
      name: 'lib-imports-no-config',
      severity: 'error',
      comment: 'lib/ takes plain values and small interfaces, not the config shape.',
      from: { path: '^src/lib/' },
      to: { path: '^src/config/' },
    },
    {
      name: 'planes-talk-through-interfaces',
      severity: 'error',
      comment:
        "A plane may use another plane's types (an interface, a claim, an event map), never its values: the " +
        'composition root (src/roles/) wires the implementations, so the embedded and cluster modes can differ.',
      from: { path: `^src/${planes}/` },
      to: { path: `^src/${planes}/`, pathNot: '^src/$1/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-control-uses-storage',
      severity: 'error',
      comment: 'Only the control plane (and the roles that open it) touch the database; other planes may name its types.',
      from: { path: '^src/(admission|stage|origin|edge)/' },
      to: { path: '^src/storage/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'nothing-imports-roles',
      severity: 'error',
      comment: 'src/roles/ are the composition roots: only the command line (and tests, benchmarks) start them.',
      from: { path: '^src/', pathNot: '^src/(roles/|cli\\.ts$)' },
      to: { path: '^src/roles/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|web/dist|data|reports)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.mjs'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
