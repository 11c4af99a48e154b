import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ByteLru } from '../../src/edge/cache.ts';

const obj = (size: number, name = `${size}b`) => ({ size, name });

describe('byte-bounded LRU cache', () => {
  test('keeps objects while they fit, counting their bytes', () => {
    const lru = new ByteLru<{ size: number; name: string }>(100);
    lru.set('a', obj(40, 'a'));
    lru.set('b', obj(60, 'b'));
    assert.equal(lru.bytes, 100, 'exactly full: nothing evicted');
    assert.equal(lru.get('a')?.name, 'a');
    assert.equal(lru.get('b')?.name, 'b');
    assert.equal(lru.get('c'), undefined);
  });

  test('evicts the least recently used objects until the new one fits', () => {
    const lru = new ByteLru<{ size: number; name: string }>(100);
    lru.set('a', obj(30, 'a'));
    lru.set('b', obj(30, 'b'));
    lru.set('c', obj(30, 'c'));
    assert.equal(lru.get('a')?.name, 'a', 'reading a makes b the oldest');
    lru.set('d', obj(50, 'd'));
    assert.equal(lru.get('b'), undefined, 'b evicted first');
    assert.equal(lru.get('c'), undefined, 'then c, until 110 bytes fit in 100');
    assert.equal(lru.get('a')?.name, 'a');
    assert.equal(lru.get('d')?.name, 'd');
    assert.equal(lru.bytes, 80);
  });

  test('an object larger than the whole cache is not stored and evicts nothing', () => {
    const lru = new ByteLru<{ size: number; name: string }>(100);
    lru.set('a', obj(50));
    lru.set('huge', obj(101));
    assert.equal(lru.get('huge'), undefined);
    assert.equal(lru.get('a')?.size, 50);
    assert.equal(lru.bytes, 50);
    lru.set('whole', obj(100));
    assert.equal(lru.get('whole')?.size, 100, 'an object exactly the cache size fits (alone)');
    assert.equal(lru.get('a'), undefined);
    assert.equal(lru.bytes, 100);
  });

  test('replacing a key counts only the new value; delete frees its bytes; deleting a missing key is a no-op', () => {
    const lru = new ByteLru<{ size: number; name: string }>(100);
    lru.set('a', obj(40, 'old'));
    lru.set('a', obj(70, 'new'));
    assert.equal(lru.bytes, 70);
    assert.equal(lru.get('a')?.name, 'new');
    lru.set('b', obj(30));
    assert.equal(lru.get('a')?.name, 'new', '70 + 30 fits: the replaced 40 bytes are not counted');
    lru.delete('missing');
    assert.equal(lru.bytes, 100);
    lru.delete('a');
    assert.equal(lru.get('a'), undefined);
    assert.equal(lru.bytes, 30);
    lru.delete('a');
    assert.equal(lru.bytes, 30, 'deleting twice frees once');
  });
});
