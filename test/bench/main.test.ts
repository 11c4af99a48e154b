import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commands, parseCommand } from '../../bench/main.ts';

// The bench entry's argument checks: nothing is started, only parsed.
test('every bench is a command, with usage', () => {
  assert.deepEqual(Object.keys(commands), [
    'listeners',
    'joins',
    'flood',
    'join',
    'edge',
    'stage',
    'plan',
    'cluster',
    'cluster-join',
    'launch-night',
  ]);
  const help = parseCommand(['--help']);
  assert.ok('print' in help && help.code === 0 && help.print.includes('joins'));
  const none = parseCommand([]);
  assert.ok('print' in none && none.code === 2 && none.error);
});

test('each command takes --help and checks its options before running', () => {
  for (const name of Object.keys(commands)) {
    const help = parseCommand([name, '--help']);
    assert.ok('print' in help && help.code === 0 && help.print.startsWith(`Usage: node bench/main.ts ${name} `), name);
    assert.ok('run' in parseCommand([name]), `${name} runs with its defaults`);
  }
});

test('bad options are errors with the usage, exit code 2', () => {
  const cases: [string[], string][] = [
    [['joins', '--capacity', 'many'], '--capacity must be a number, got "many"'],
    [['joins', '--line-poll', 'sometimes'], '--line-poll must be cdn or direct'],
    [['flood', '--seconds', ''], '--seconds must be a number, got ""'],
    [['listeners', '--peer', 'apache'], '--peer must be icecast or nginx or none'],
    [['listeners', '--peer', 'nginx', '--delivery', 'stream'], '--peer nginx compares LL-HLS: use --delivery hls'],
    [['stage', '--spaces', 'x'], '--spaces must be a number'],
    [['edge', '--verbose'], "Unknown option '--verbose'"],
    [['plan', 'extra'], 'Unexpected argument'],
    [['cluster', '--control', 'three'], '--control must be a number, got "three"'],
    [['cluster-join', '--connections', ''], '--connections must be a number, got ""'],
    [['juggle'], 'unknown command "juggle"'],
  ];
  for (const [argv, message] of cases) {
    const r = parseCommand(argv);
    assert.ok('print' in r, argv.join(' '));
    assert.equal(r.code, 2, argv.join(' '));
    assert.ok(r.error && r.print.includes(message), `${argv.join(' ')}: ${r.print}`);
  }
});

test('the launch-night drill checks its options before starting anything', () => {
  const bad = parseCommand(['launch-night', '--capacity', 'many']);
  assert.ok('print' in bad && bad.code === 2 && bad.print.includes('capacity'), JSON.stringify(bad));
  assert.ok('run' in parseCommand(['launch-night', '--short', '--json']));
});
