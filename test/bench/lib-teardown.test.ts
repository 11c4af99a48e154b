import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { stopProcess, Teardown } from '../../bench/lib/teardown.ts';

test('a teardown runs each step once, the last added first, past a step that fails', async (ctx) => {
  const t = new Teardown();
  const ran: string[] = [];
  t.add(() => ran.push('temp dir'));
  t.add(() => {
    throw new Error('planted');
  });
  t.add(async () => {
    await Promise.resolve();
    ran.push('server');
  });
  const reported = ctx.mock.method(process.stderr, 'write', () => true); // the failed step is reported there
  await Promise.all([t.run(), t.run()]);
  await t.run();
  reported.mock.restore();
  assert.match(String(reported.mock.calls[0]?.arguments[0]), /teardown step failed: planted/);
  assert.deepEqual(ran, ['server', 'temp dir']);
  t.add(() => ran.push('late')); // started after teardown began: stopped at once
  await Promise.resolve();
  assert.deepEqual(ran, ['server', 'temp dir', 'late']);
});

/** A child that exits on the signals listed in `obeys`, as a real one would. */
function fakeChild(obeys: readonly string[], pid: number | undefined) {
  const child = Object.assign(new EventEmitter(), {
    pid,
    exitCode: null as number | null,
    signalCode: null as string | null,
    signals: [] as string[],
    kill(signal: string) {
      child.signals.push(signal);
      if (obeys.includes(signal))
        queueMicrotask(() => {
          child.signalCode = signal;
          child.emit('exit', null, signal);
        });
      return true;
    },
  });
  return child;
}

test('stopProcess: SIGTERM, and SIGKILL only for a child that outlives its grace', async () => {
  const polite = fakeChild(['SIGTERM', 'SIGKILL'], 999_999_901);
  await stopProcess(polite as unknown as ChildProcess, 1000);
  assert.deepEqual(polite.signals, ['SIGTERM']);
  await stopProcess(polite as unknown as ChildProcess, 1000); // exited already: nothing more
  assert.deepEqual(polite.signals, ['SIGTERM']);

  const stubborn = fakeChild(['SIGKILL'], 999_999_902);
  await stopProcess(stubborn as unknown as ChildProcess, 0);
  assert.deepEqual(stubborn.signals, ['SIGTERM', 'SIGKILL']);

  const neverStarted = fakeChild([], undefined);
  await stopProcess(neverStarted as unknown as ChildProcess, 0);
  assert.deepEqual(neverStarted.signals, []);
});
