/// <reference types="node" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, toMarkdown, type Measurement } from './index.js';

const data: Measurement[] = [
  { package: '@example/util', task: 'typecheck', peakBytes: 80 * 1024 ** 2, seconds: 0.4 },
  { package: '@example/schema', task: 'typecheck', peakBytes: 120 * 1024 ** 2, seconds: 1.2 },
  { package: '@example/api', task: 'typecheck', peakBytes: 150 * 1024 ** 2, seconds: 0.9 },
];

test('summarize shows the worst package per task', () => {
  const out = summarize(data).split('\n');
  assert.equal(out.length, 3);
  assert.match(out[2]!, /^typecheck\s+3\s+120 MiB\s+@example\/api \(150 MiB\)\s+0\.8$/);
});

test('toMarkdown renders a sorted table', () => {
  assert.equal(toMarkdown(data).split('\n')[2], '| @example/api | typecheck | 150 MiB | 0.9 |');
});
