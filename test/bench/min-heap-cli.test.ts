import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { BenchReport, JournalEntry } from '../../src/bench/types.js';
import { COMPILERS, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';
import { fakeCompiler, heapNeedBody } from './fake-compiler.js';

const MiB = 1024 * 1024;

function readReport(root: string): BenchReport {
  return JSON.parse(readFileSync(join(root, '.memtune', 'memtune-report.json'), 'utf8')) as BenchReport;
}

/** One package checked by a fake compiler that needs a heap of `needMiB` (see heapNeedBody); `checks()` lists each check's heap setting. */
function heapNeedBench(t: TestContext, needMiB: number, peakMiB = 300, retainedMiB = 60) {
  const root = tempDir(t);
  const log = join(root, 'checks.jsonl');
  writeTree(root, { 'package.json': { name: 'needy' }, 'tsconfig.json': { files: [] } });
  const compiler = fakeCompiler(root, heapNeedBody({ needMiB, peakMiB, retainedMiB, log }));
  return {
    root,
    compiler,
    checks: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as { heap: number | null; counts: boolean })
        : [],
    run: (args: string[]) => runMemtune(['bench', '--compiler', compiler, ...args], { cwd: root, env: cleanEnv() }),
  };
}

test('--find-min-heap bisects the smallest --max-old-space-size with which the check completes, reports its probes and recommends from it', (t) => {
  const bench = heapNeedBench(t, 150);
  const result = bench.run(['--find-min-heap']);
  assert.equal(result.status, 0, result.stderr);
  const [pkg] = readReport(bench.root).packages;
  const search = pkg!.minHeap!;
  assert.equal(search.setting, 'max-old-space-size');
  assert.equal(search.complete, true);
  const found = search.bytes! / MiB;
  assert.ok(found >= 150 && found - 150 <= 16, `found ${found} MiB`);
  assert.deepEqual([search.lowerBytes / MiB, search.upperBytes / MiB], [60, 300]);
  // Each probe is a check of its own under its setting, on node's argv, one after another.
  const probed = bench.checks().filter((check) => check.heap !== null);
  assert.deepEqual(
    probed.map((check) => check.heap),
    search.probes.map((probe) => probe.heapMiB),
  );
  assert.ok(search.probes.some((probe) => probe.status === 'oom'));
  assert.ok(!search.probes.some((probe) => probe.heapMiB === 300), 'the peak is not probed once a smaller heap completed');
  const [line] = readReport(bench.root).recommendations.heap;
  assert.equal(line?.figure, 'minHeapBytes');
  assert.equal(line?.figureBytes, search.bytes);
  assert.match(result.stderr, /--find-min-heap: needy: max-old-space-size \d+ MiB: the smallest --max-old-space-size with which the check completed/);
  assert.match(result.stderr, /needy \(min heap, probe 1: --max-old-space-size=180\): ok/);
  assert.match(result.stdout, /## Smallest heap \(`--find-min-heap`\)\n\n\| Package \| Setting/);
});

test('a package that does not complete even at its measured peak is reported with no heap, not searched further, and the bench exits 1 as for an oom', (t) => {
  const bench = heapNeedBench(t, 400);
  const result = bench.run(['--find-min-heap']);
  assert.equal(result.status, 1, result.stderr);
  const [pkg] = readReport(bench.root).packages;
  assert.equal(pkg!.status, 'ok', 'its measured runs completed');
  assert.equal(pkg!.minHeap!.bytes, null);
  assert.equal(pkg!.minHeap!.complete, true);
  assert.equal(pkg!.minHeap!.probes.at(-1)!.heapMiB, 300);
  assert.ok(pkg!.minHeap!.probes.length <= 6);
  assert.match(result.stderr, /memtune: needy \(\.\): --find-min-heap: --max-old-space-size=300 MiB \(the peak used heap, rounded up\) did not pass \(oom\): not searched further/);
  assert.equal(readReport(bench.root).recommendations.heap[0]?.figure, 'peakHeapUsedBytes', 'the recommendation falls back to the peak');
});

test('--find-min-heap with --warm or with --script is refused with exit 2 before anything runs', (t) => {
  const bench = heapNeedBench(t, 150);
  for (const [args, pattern] of [
    [['--warm'], /--find-min-heap and --warm cannot be combined/],
    [['--script', 'build'], /--find-min-heap and --script cannot be combined/],
  ] as const) {
    const result = bench.run(['--find-min-heap', ...args]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, pattern);
  }
  assert.deepEqual(bench.checks(), []);
  assert.equal(existsSync(join(bench.root, '.memtune')), false);
});

test('--resume continues an unfinished search from its journaled probes, without measuring the package or its earlier probes again', (t) => {
  const bench = heapNeedBench(t, 150);
  assert.equal(bench.run(['--find-min-heap']).status, 0);
  const whole = readReport(bench.root).packages[0]!.minHeap!;
  assert.ok(whole.probes.length >= 3);
  // The journal as a bench stopped after its second probe leaves it.
  const journal = join(bench.root, '.memtune', 'memtune-journal.jsonl');
  const lines = readFileSync(journal, 'utf8').trim().split('\n');
  const kept = lines.filter((line, index) => index === 0 || !((JSON.parse(line) as JournalEntry).run < -2));
  writeFileSync(journal, `${kept.join('\n')}\n`);
  const before = bench.checks().length;
  const resumed = bench.run(['--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(
    bench
      .checks()
      .slice(before)
      .map((check) => check.heap),
    whole.probes.slice(2).map((probe) => probe.heapMiB),
  );
  assert.deepEqual(
    readReport(bench.root).packages[0]!.minHeap!.probes.map((probe) => [probe.heapMiB, probe.status]),
    whole.probes.map((probe) => [probe.heapMiB, probe.status]),
  );
});

test('--find-min-heap on a native-only workspace says that it searches GOMEMLIMIT instead, and does', (t) => {
  const root = tempDir(t);
  const log = join(root, 'limits.jsonl');
  writeTree(root, { 'package.json': { name: 'go-only' }, 'tsconfig.json': { files: [] } });
  const compiler = fakeCompiler(
    root,
    [
      `require('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify({ limit: process.env.GOMEMLIMIT ?? null }) + '\\n');`,
      "console.error('gc 1 @0.010s 1%: 0.1+0.2+0.1 ms clock, 0.2+0/0.1/0+0.1 ms cpu, 20->22->12 MB, 24 MB goal, 0 MB stacks, 0 MB globals, 2 P');",
      'setTimeout(() => {}, 300);',
    ].join('\n'),
    '7.0.0',
  );
  const result = runMemtune(['bench', '--compiler', compiler, '--find-min-heap'], { cwd: root, env: cleanEnv() });
  assert.equal(result.status, 0, result.stderr);
  assert.match(
    result.stderr,
    /--find-min-heap: every package here runs on the native compiler \(TypeScript 7\), which V8 heap flags do not reach; for it it searches instead the smallest GOMEMLIMIT/,
  );
  const [pkg] = readReport(root).packages;
  assert.equal(pkg!.minHeap!.setting, 'GOMEMLIMIT');
  assert.equal(pkg!.minHeap!.lowerBytes, 12 * MiB, 'from the Go live heap');
  const limits = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { limit: string | null }).limit)
    .filter((limit) => limit !== null);
  assert.deepEqual(
    limits,
    pkg!.minHeap!.probes.map((probe) => `${probe.heapMiB}MiB`),
  );
  assert.ok(limits.length > 0);
});

test("--find-min-heap with a real tsc 5.9.3 finds a heap with which a small check completes, searching up to the recommendation's floor", (t) => {
  const root = tempDir(t);
  writeTree(root, {
    'package.json': { name: 'small' },
    'tsconfig.json': { compilerOptions: { strict: true, noEmit: true, types: [] }, include: ['src'] },
    'src/index.ts': 'export const value: number = 1;\nexport function twice(x: number): number { return x * 2; }\n',
  });
  const typescript5 = COMPILERS.find((compiler) => compiler.version.startsWith('5.'))!;
  const result = runMemtune(['bench', '--compiler', typescript5.tsc, '--find-min-heap'], { cwd: root, env: cleanEnv() });
  assert.equal(result.status, 0, result.stderr);
  const [pkg] = readReport(root).packages;
  const search = pkg!.minHeap!;
  assert.equal(search.complete, true);
  assert.ok(search.bytes !== null && search.bytes <= search.upperBytes);
  assert.equal(search.upperBytes, 128 * MiB, 'a check this small peaks far below the floor');
  assert.ok(search.probes.some((probe) => probe.status === 'ok' && probe.heapMiB * MiB === search.bytes));
});
