import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/lib/logger.ts';

test('the process logger logs at the configured level and names the service on every line', () => {
  const log = createLogger('warn');
  assert.equal(log.level, 'warn');
  assert.equal(log.isLevelEnabled('info'), false);
  assert.equal(log.isLevelEnabled('warn'), true);
  assert.deepEqual(log.bindings(), { service: 'amphi' });
});
