import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { byteRange } from '../../src/lib/byte-range.ts';

const SIZE = 1000;
const partial = (start: number, end: number) => ({ kind: 'partial', start, end });
const whole = { kind: 'whole' };
const unsatisfiable = { kind: 'unsatisfiable' };

describe('byteRange (the Range header, RFC 9110 §14)', () => {
  test('one range: first byte, last byte, clamped end, open end, suffix, a suffix longer than the file', () => {
    assert.deepEqual(byteRange('bytes=0-0', SIZE), partial(0, 0));
    assert.deepEqual(byteRange('bytes=999-999', SIZE), partial(999, 999));
    assert.deepEqual(byteRange('bytes=10-5000', SIZE), partial(10, 999));
    assert.deepEqual(byteRange('bytes=100-', SIZE), partial(100, 999));
    assert.deepEqual(byteRange('bytes=-500', SIZE), partial(500, 999));
    assert.deepEqual(byteRange('bytes=-1', SIZE), partial(999, 999));
    assert.deepEqual(byteRange('bytes=-5000', SIZE), partial(0, 999));
    assert.deepEqual(byteRange('Bytes = 1-2 ', SIZE), partial(1, 2), 'the unit is case-insensitive, spaces allowed');
  });

  test('unsatisfiable: starts at or past the end, an empty suffix, an empty file', () => {
    assert.deepEqual(byteRange('bytes=1000-', SIZE), unsatisfiable);
    assert.deepEqual(byteRange('bytes=1000-1000', SIZE), unsatisfiable);
    assert.deepEqual(byteRange(`bytes=${'9'.repeat(400)}-`, SIZE), unsatisfiable);
    assert.deepEqual(byteRange('bytes=-0', SIZE), unsatisfiable);
    assert.deepEqual(byteRange('bytes=0-0', 0), unsatisfiable);
    assert.deepEqual(byteRange('bytes=-10', 0), unsatisfiable);
  });

  test('malformed bytes ranges are refused (416), not guessed at', () => {
    for (const header of [
      'bytes=',
      'bytes=-',
      'bytes=5-2',
      'bytes=a-b',
      'bytes=1-2-3',
      'bytes=0x10-',
      'bytes=1.5-2',
      'bytes=+1-2',
    ])
      assert.deepEqual(byteRange(header, SIZE), unsatisfiable, header);
  });

  test('the whole file: no Range, another unit, several ranges, a stale If-Range', () => {
    assert.deepEqual(byteRange(undefined, SIZE), whole);
    assert.deepEqual(byteRange('items=0-5', SIZE), whole);
    assert.deepEqual(byteRange('nonsense', SIZE), whole);
    assert.deepEqual(byteRange('bytes=0-1,5-6', SIZE), whole);
    assert.deepEqual(byteRange('bytes=0-1, 2000-3000', SIZE), whole);
    assert.deepEqual(byteRange('bytes=5-9', SIZE, { header: '"old"', etag: '"new"' }), whole);
    assert.deepEqual(byteRange('bytes=5-9', SIZE, { header: 'Sat, 01 Nov 2026 12:00:00 GMT', etag: '"new"' }), whole);
    assert.deepEqual(byteRange('bytes=5-9', SIZE, { header: '"new"', etag: '"new"' }), partial(5, 9));
    assert.deepEqual(byteRange('bytes=5-9', SIZE, { header: undefined, etag: '"new"' }), partial(5, 9));
  });
});
