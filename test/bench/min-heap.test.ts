import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minHeapSearch, nextProbeBytes, probeOf, resolutionFor, searchBounds, type ProbeResult, type SearchBounds } from '../../src/bench/min-heap.js';
import { unmeasuredFigures } from '../../src/bench/stats.js';
import type { RunFigures } from '../../src/bench/types.js';

const MiB = 1024 * 1024;

function bounds(lowerMiB: number, upperMiB: number, wallLimitMs: number | null = null): SearchBounds {
  return {
    setting: wallLimitMs === null ? 'max-old-space-size' : 'GOMEMLIMIT',
    lowerBytes: lowerMiB * MiB,
    upperBytes: upperMiB * MiB,
    upperFrom: 'the peak used heap, rounded up',
    wallLimitMs,
    probeTimeoutMs: wallLimitMs ?? 30_000,
    referenceWallMs: 1000,
    referencePeakRssBytes: 500 * MiB,
  };
}

/** Runs a whole search against a compiler that completes from `needMiB` up, and returns the probes it made. */
function search(b: SearchBounds, passes: (mib: number) => ProbeResult['status'], wallMs: (mib: number) => number = () => 1000): ProbeResult[] {
  const probes: ProbeResult[] = [];
  for (let bytes = nextProbeBytes(b, probes); bytes !== null; bytes = nextProbeBytes(b, probes)) {
    assert.ok(probes.length < 20, 'the search ends');
    const mib = bytes / MiB;
    probes.push({ heapMiB: mib, status: passes(mib), wallMs: wallMs(mib), peakRssBytes: (100 + mib) * MiB });
  }
  return probes;
}

test('the search bisects to within 16 MiB or 5 % of the smallest heap that completes, and never probes the peak when a smaller heap completed', () => {
  for (const need of [61, 150, 299, 300, 350, 1088]) {
    const b = bounds(40, 1200);
    const probes = search(b, (mib) => (mib >= need ? 'ok' : 'oom'));
    const result = minHeapSearch(b, probes);
    assert.ok(result.complete);
    const found = result.bytes! / MiB;
    assert.ok(found >= need && found - need <= Math.max(16, 0.05 * found), `need ${need}: found ${found}`);
    assert.ok(!probes.some((probe) => probe.heapMiB === 1200), `need ${need}: the peak was not probed`);
    assert.ok(
      probes.every((probe) => probe.heapMiB > 40 && probe.heapMiB < 1200),
      'every probe lies between the bounds',
    );
  }
});

test('a check that completes only above its measured peak is probed at the peak last, reported with no heap and not searched further', () => {
  const b = bounds(100, 400);
  const probes = search(b, () => 'oom');
  assert.equal(probes.at(-1)!.heapMiB, 400);
  assert.ok(probes.length <= 6, `${probes.length} probes`);
  const result = minHeapSearch(b, probes);
  assert.equal(result.bytes, null);
  assert.equal(result.complete, true);
  assert.match(result.basis, /--max-old-space-size=400 MiB \(the peak used heap, rounded up\) did not pass \(oom\): not searched further/);
});

test('type errors complete the check; a timeout or a crash does not', () => {
  const b = bounds(0, 200);
  assert.equal(
    minHeapSearch(
      b,
      search(b, (mib) => (mib >= 100 ? 'failed' : 'timeout')),
    ).bytes! >=
      100 * MiB,
    true,
  );
  assert.equal(
    minHeapSearch(
      b,
      search(b, () => 'crashed'),
    ).bytes,
    null,
  );
});

test('a native probe passes only within the wall-time bound, and the search reports the peak RSS the setting saves', () => {
  const b = bounds(50, 600, 1500);
  // Completes everywhere, but slower than 1.5 × below 300 MiB.
  const probes = search(
    b,
    () => 'ok',
    (mib) => (mib >= 300 ? 1200 : 2500),
  );
  const result = minHeapSearch(b, probes);
  const found = result.bytes! / MiB;
  assert.ok(found >= 300 && found - 300 <= 16, `found ${found}`);
  assert.equal(result.setting, 'GOMEMLIMIT');
  assert.equal(result.wallLimitMs, 1500);
  assert.equal(result.savedRssBytes, 500 * MiB - (100 + found) * MiB);
  assert.match(result.basis, /within 1\.5 × the unconstrained median wall time/);
});

test('a search replayed from its first probes continues with the same next probe, and reports itself unfinished until then', () => {
  const b = bounds(100, 900);
  const all = search(b, (mib) => (mib >= 420 ? 'ok' : 'oom'));
  assert.ok(all.length >= 3);
  const partial = all.slice(0, 2);
  assert.equal(nextProbeBytes(b, partial), all[2]!.heapMiB * MiB);
  const unfinished = minHeapSearch(b, partial);
  assert.equal(unfinished.complete, false);
  assert.equal(unfinished.bytes, null);
  assert.match(unfinished.basis, /unfinished after 2 probes .* --resume continues/);
});

test('a failure above a setting that completed is taken as the edge being noisy: the completed setting stands', () => {
  const b = bounds(0, 400);
  const probes: ProbeResult[] = [
    { heapMiB: 200, status: 'ok', wallMs: 1, peakRssBytes: null },
    { heapMiB: 100, status: 'oom', wallMs: 1, peakRssBytes: null },
    { heapMiB: 150, status: 'ok', wallMs: 1, peakRssBytes: null },
    { heapMiB: 175, status: 'oom', wallMs: 1, peakRssBytes: null },
  ];
  const next = nextProbeBytes(b, probes);
  assert.equal(next, 125 * MiB);
});

test('the bounds come from the runs that completed: retained and peak heap for a JS compiler, Go live heap and peak RSS for the native one', () => {
  const run = (over: Partial<RunFigures>): RunFigures => ({ ...unmeasuredFigures('ok', ''), parallel: false, ...over });
  const runs = [
    run({ wallMs: 1000, peakHeapUsedBytes: 300.2 * MiB, retainedHeapBytes: 100 * MiB, peakRssBytes: 500 * MiB, goHeapLiveBytes: 90 * MiB }),
    run({ wallMs: 3000, peakHeapUsedBytes: 310 * MiB, retainedHeapBytes: 180 * MiB, peakRssBytes: 520 * MiB, goHeapLiveBytes: 95 * MiB }),
    run({ wallMs: 2000, status: 'oom', peakHeapUsedBytes: 900 * MiB, retainedHeapBytes: 800 * MiB, peakRssBytes: 990 * MiB }),
  ];
  const js = searchBounds(false, runs) as SearchBounds;
  assert.deepEqual([js.setting, js.lowerBytes / MiB, js.upperBytes / MiB, js.wallLimitMs, js.referenceWallMs], ['max-old-space-size', 180, 310, null, 2000]);
  assert.equal(js.probeTimeoutMs, 10_000, 'at least 10 s');
  const native = searchBounds(true, runs) as SearchBounds;
  assert.deepEqual([native.setting, native.lowerBytes / MiB, native.upperBytes / MiB, native.wallLimitMs], ['GOMEMLIMIT', 95, 520, 3000]);
  assert.match(searchBounds(false, [runs[2]!]) as string, /no measured run completed/);
  const small = searchBounds(false, [run({ wallMs: 500, peakHeapUsedBytes: 22 * MiB })]) as SearchBounds;
  assert.deepEqual([small.lowerBytes / MiB, small.upperBytes / MiB], [0, 128], "a small check's search reaches up to the recommendation's floor");
  assert.match(small.upperFrom, /^the peak used heap, raised to the floor of a heap recommendation$/);
  assert.equal(resolutionFor(100 * MiB), 16 * MiB);
  assert.equal(resolutionFor(1000 * MiB), 50 * MiB);
  assert.deepEqual(probeOf(123 * MiB, runs[0]!), { heapMiB: 123, status: 'ok', wallMs: 1000, peakRssBytes: 500 * MiB });
});
