import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseWords, wordEditDistance, wordErrorRate } from '../../src/captions/wer.ts';

test('normaliseWords: lower case, punctuation out, apostrophes kept', () => {
  assert.deepEqual(normaliseWords("Hello, World!  It's   fine."), ['hello', 'world', "it's", 'fine']);
});

test('wordEditDistance counts substitutions, deletions and insertions', () => {
  assert.equal(wordEditDistance(['a', 'b', 'c'], ['a', 'b', 'c']), 0);
  assert.equal(wordEditDistance(['a', 'b', 'c'], ['a', 'x', 'c']), 1);
  assert.equal(wordEditDistance(['a', 'b', 'c'], ['a', 'c']), 1);
  assert.equal(wordEditDistance(['a', 'b', 'c'], ['a', 'b', 'x', 'c']), 1);
  assert.equal(wordEditDistance(['a', 'b', 'c'], []), 3);
  assert.equal(wordEditDistance([], ['a', 'b']), 2);
  assert.equal(wordEditDistance(['kitten', 'sat', 'on', 'mat'], ['sitting', 'sat', 'mat', 'on', 'it']), 3);
});

test('wordErrorRate: edits over reference words, on normalised text', () => {
  assert.equal(wordErrorRate('The quick brown fox.', 'the quick brown fox'), 0);
  assert.equal(wordErrorRate('the quick brown fox', 'the quick brown box'), 0.25);
  assert.equal(wordErrorRate('one two', 'one two three four'), 1);
  assert.equal(wordErrorRate('', ''), 0);
  assert.equal(wordErrorRate('', 'noise'), 1);
});
