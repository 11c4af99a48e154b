#!/usr/bin/env node
// The `amphi` command. Amphi runs on Node 24 or newer; `npm install` puts one in node_modules/.bin,
// which `npm start`, `npm test` and `npx amphi` put first on PATH.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `amphi needs Node 24 or newer; this is Node ${process.versions.node}.\n` +
      'Run it through npm (npm start, npx amphi), which uses the Node that npm install put in node_modules/.bin.\n',
  );
  process.exit(1);
}
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
