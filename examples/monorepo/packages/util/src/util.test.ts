/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { camelCase, chunk, clamp, formatBytes, formatPath, groupBy, kebabCase, percentile, truncate } from './index.js';

test('string helpers', () => {
  assert.equal(camelCase('peak-rss bytes'), 'peakRssBytes');
  assert.equal(kebabCase('peakRssBytes'), 'peak-rss-bytes');
  assert.equal(truncate('memtune', 4), 'mem…');
  assert.equal(formatPath(['items', 2, 'sku']), 'items[2].sku');
  assert.equal(formatPath([]), '(root)');
});

test('number helpers', () => {
  assert.equal(clamp(12, 0, 10), 10);
  assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
  assert.equal(formatBytes(1536), '1.5 KiB');
});

test('array helpers', () => {
  assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(groupBy(['a', 'bb', 'cc'], (s) => s.length), { 1: ['a'], 2: ['bb', 'cc'] });
});
