import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchReport, PackageResult } from '../../src/bench/types.js';
import { runMemtune, tempDir } from '../helpers.js';
import { mixedCompilerWorkspace } from './workspace-fixture.js';

const MiB = 1024 * 1024;

function benchReport(out: string): BenchReport {
  return JSON.parse(readFileSync(join(out, 'memtune-report.json'), 'utf8')) as BenchReport;
}

function named(report: BenchReport, name: string): PackageResult {
  const found = report.packages.find((pkg) => pkg.name === name);
  assert.ok(found, `${name} in ${JSON.stringify(report.packages.map((pkg) => pkg.name))}`);
  return found;
}

test("bench --profile typecheck runs each check under the heap its package's .node-options gives, and names the line", (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  writeFileSync(join(root, 'packages/js/.node-options'), '# sized by hand\n[typecheck]\n--max-old-space-size=200\n');
  const out = join(root, 'reports');
  const result = runMemtune(['bench', '--profile', 'typecheck', '--out', out, '--filter', '@m/js', '--filter', '@m/native'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const report = benchReport(out);
  const js = named(report, '@m/js');
  assert.equal(js.status, 'ok');
  assert.equal(js.task, 'memtune run typecheck -- tsc -p tsconfig.json --noEmit');
  assert.deepEqual([js.applied?.profile, js.applied?.heapMiB, js.applied?.heapFrom], ['typecheck', 200, 'packages/js/.node-options:3']);
  assert.match(js.applied?.nodeOptions ?? '', /--max-old-space-size=200/);
  // V8's limit is the old space asked for plus the young generation: near 200 MiB, far below node's default.
  assert.ok(js.heapLimitBytes! > 200 * MiB && js.heapLimitBytes! < 300 * MiB, `heap limit ${js.heapLimitBytes! / MiB} MiB`);
  const native = named(report, '@m/native');
  assert.equal(native.status, 'ok');
  assert.equal(native.applied?.heapMiB, null, 'V8 heap flags do not reach the native compiler');
  assert.match(native.applied?.env.GOMEMLIMIT ?? '', /^\d+MiB$/);
  const markdown = readFileSync(join(out, 'memtune-report.md'), 'utf8');
  assert.match(markdown, /Each check ran under what `memtune run typecheck` gives it in its package:/);
  assert.match(markdown, /- @m\/js: --max-old-space-size=200 \(packages\/js\/\.node-options:3\): ok/);
  const heap = report.recommendations.heap.find((line) => line.package === '@m/js');
  assert.deepEqual([heap?.maxOldSpaceSizeMiB, heap?.figure], [200, 'appliedHeapBytes'], 'a heap the check completed under is kept, not raised to its peak × 1.25');
  assert.match(heap?.basis ?? '', /^the --max-old-space-size=200 it ran under \(packages\/js\/\.node-options:3\): every run completed with it/);
  const journal = JSON.parse(readFileSync(join(out, 'memtune-journal.jsonl'), 'utf8').split('\n')[0]!);
  assert.equal(journal.options.profile, 'typecheck', 'a --resume continues under the same profile');
});

test("bench --profile typecheck without a package's own line gives the check the profile's share of the memory limit", (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  const out = join(root, 'reports');
  const result = runMemtune(['bench', '--profile', 'typecheck', '--out', out, '--filter', '@m/js'], { cwd: root, env: { MEMTUNE_MEMORY_LIMIT: '2GiB' } });
  assert.equal(result.status, 0, result.stderr);
  const js = named(benchReport(out), '@m/js');
  assert.match(js.applied?.heapFrom ?? '', /^preset typecheck: \d+% of 2 GiB/);
  assert.equal(benchReport(out).recommendations.heap[0]?.figure, 'peakHeapUsedBytes', "the profile's share is no setting of the user's: the peak rule recommends");
  assert.ok(js.applied!.heapMiB! < 2048 && js.heapLimitBytes! < 2048 * MiB, `heap ${js.applied?.heapMiB} MiB, limit ${js.heapLimitBytes! / MiB} MiB`);
});

test('bench --profile typecheck reports an oom when the applied heap is too small, and says which line to raise', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  writeFileSync(join(root, 'packages/js/.node-options'), '[typecheck]\n--max-old-space-size=8\n');
  const out = join(root, 'reports');
  const result = runMemtune(['bench', '--profile', 'typecheck', '--out', out, '--filter', '@m/js'], { cwd: root });
  assert.equal(result.status, 1, result.stderr);
  const js = named(benchReport(out), '@m/js');
  assert.equal(js.status, 'oom');
  assert.match(result.stderr, /memtune run typecheck -- tsc -p tsconfig\.json --noEmit ended oom:[\s\S]*JavaScript heap out of memory/);
  assert.doesNotMatch(result.stderr, /v8::internal::/, "V8's native stack is left out of the messages");
  assert.match(result.stdout, /the --max-old-space-size=8 it ran under \(packages\/js\/\.node-options:2\) is too small: raise it there/);
});

test('bench --profile refuses an unknown profile and --script before anything runs', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  const unknown = runMemtune(['bench', '--profile', 'typecheckk'], { cwd: root });
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /^memtune: unknown profile "typecheckk"; the profiles are build, typecheck, test, dev, start\.\n/);
  const script = runMemtune(['bench', '--profile', 'typecheck', '--script', 'build'], { cwd: root });
  assert.equal(script.status, 2, script.stderr);
  assert.match(script.stderr, /^memtune: --profile and --script cannot be combined: a script runs under its own memtune run/);
  assert.equal(existsSync(join(root, '.memtune')), false, 'nothing written');
});
