import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concurrencyBasis, fitConcurrency } from '../../src/shared/concurrency.js';
import { MiB } from '../../src/shared/size.js';

const peaks = (...mib: number[]) => mib.map((value, index) => ({ name: `p${index}`, bytes: value * MiB }));

test('the concurrency is the largest N whose N largest peaks fit the budget together', () => {
  const cases: Array<[string, number[], number, number, number, string]> = [
    ['three of four fit', [1000, 900, 800, 700], 3000, 8, 3, 'budget'],
    ['small ones beside one large one', [2000, 100, 100, 100], 2300, 8, 4, 'tasks'],
    ['the cores cap it', [100, 100, 100, 100], 10_000, 2, 2, 'cores'],
    ['exactly the budget fits', [500, 500], 1000, 4, 2, 'tasks'],
    ['one too large: still one at a time', [5000, 100], 1000, 4, 1, 'budget'],
    ['no peaks: one', [], 1000, 4, 1, 'budget'],
  ];
  for (const [title, mib, budgetMiB, cores, value, stoppedBy] of cases) {
    const fit = fitConcurrency(peaks(...mib), budgetMiB * MiB, cores);
    assert.equal(fit.value, value, title);
    assert.equal(fit.stoppedBy, stoppedBy, title);
  }
});

test('a peak larger than the whole budget is named as unable to fit at all', () => {
  const fit = fitConcurrency(peaks(5000, 100), 1000 * MiB, 4);
  assert.deepEqual(
    fit.tooLarge.map((peak) => peak.name),
    ['p0'],
  );
  assert.match(concurrencyBasis(fit), /p0 alone exceeds the budget, so tasks run one at a time/);
});

test('the basis shows the sum that decided N and the task that would not fit', () => {
  const fit = fitConcurrency(
    [
      { name: 'a', bytes: 1000 * MiB },
      { name: 'b', bytes: 900 * MiB, estimate: 'estimated from source size' },
      { name: 'c', bytes: 800 * MiB },
    ],
    2000 * MiB,
    8,
  );
  assert.equal(fit.value, 2);
  assert.equal(concurrencyBasis(fit), '1000 MiB (a) + 900 MiB (b, estimated from source size) = 1900 MiB ≤ 2000 MiB budget; one more (800 MiB, c) would make 2700 MiB');
});
