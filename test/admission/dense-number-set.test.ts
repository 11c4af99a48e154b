import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DenseNumberSet } from '../../src/admission/line-store.ts';

/** The members of `set` among `candidates`. */
function members(set: DenseNumberSet, candidates: readonly number[]): number[] {
  return candidates.filter((n) => set.has(n));
}

describe('DenseNumberSet', () => {
  test('numbers at and above the floor survive a drop that slides the window', () => {
    const set = new DenseNumberSet();
    for (const n of [5, 40, 41, 100, 250]) set.add(n);
    set.dropBelow(41);
    assert.deepEqual(members(set, [5, 40, 41, 100, 250]), [41, 100, 250]);
    set.add(42);
    assert.deepEqual(members(set, [40, 41, 42, 43]), [41, 42]);
  });

  test('a slide clears the words it frees: no ghost members appear past the old window', () => {
    const set = new DenseNumberSet();
    set.add(250); // the last of the first 8 words (numbers 0..255)
    set.dropBelow(64); // slides by two words
    assert.equal(set.has(250), true);
    const ghosts = [];
    for (let n = 64; n < 64 + 8 * 32; n++) if (n !== 250 && set.has(n)) ghosts.push(n);
    assert.deepEqual(ghosts, []);
  });

  test('a floor never moves back: what was forgotten stays forgotten', () => {
    const set = new DenseNumberSet();
    set.add(40);
    set.add(50);
    set.dropBelow(41);
    set.dropBelow(10);
    assert.equal(set.has(40), false);
    assert.equal(set.has(50), true);
    set.add(30);
    assert.equal(set.has(30), false, 'adding below the floor is ignored');
  });

  test('adding below the floor costs no memory', () => {
    const set = new DenseNumberSet();
    set.dropBelow(100);
    const bytes = set.bytes;
    set.add(50);
    assert.equal(set.has(50), false);
    assert.equal(set.bytes, bytes);
  });

  test('numbers just past the window and far past it are kept', () => {
    const set = new DenseNumberSet();
    set.add(256); // the first number past the initial 8 words
    assert.equal(set.has(256), true);
    set.add(5000);
    assert.deepEqual(members(set, [255, 256, 257, 4999, 5000, 5001]), [256, 5000]);
  });

  test('a floor far past the window restarts it there, in the same small memory', () => {
    const set = new DenseNumberSet();
    set.add(10);
    set.add(200);
    const bytes = set.bytes;
    set.dropBelow(10_000);
    assert.deepEqual(members(set, [10, 200, 10_000]), []);
    set.add(10_005);
    set.add(10_000);
    assert.deepEqual(members(set, [9_999, 10_000, 10_004, 10_005, 10_006]), [10_000, 10_005]);
    assert.equal(set.bytes, bytes, 'the window moved; it did not grow');
  });
});
