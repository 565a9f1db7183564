import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { BenchReport } from '../../src/bench/types.js';
import { BIN, REPO, cleanEnv, linkMemtune, runMemtune, tempDir, writeTree } from '../helpers.js';
import { LIB, linkTypeScript } from './workspace-fixture.js';

/** The bench task of docs/bench.md ("One turbo task per package"), as a user adds it to turbo.json. */
const BENCH_TASK = { dependsOn: ['^build'], inputs: ['src/**', 'tsconfig*.json', 'package.json'], outputs: ['.memtune/memtune-*'] };

/**
 * An npm workspace with packages a and b, each with `"bench": "memtune bench --package"`, checked by the native compiler
 * (fast); memtune and the real turbo on PATH through node_modules/.bin, as after an install.
 */
function workspace(t: TestContext): string {
  const root = tempDir(t, 'memtune-package-task-');
  linkMemtune(root);
  const files: Record<string, string | object> = {
    'package.json': { name: 'mono', private: true, workspaces: ['packages/*'], packageManager: 'npm@11.19.1' },
    'turbo.json': { $schema: 'https://turborepo.com/schema.json', globalPassThroughEnv: ['MEMTUNE_*'], tasks: { bench: BENCH_TASK } },
  };
  for (const name of ['a', 'b']) {
    files[`packages/${name}/package.json`] = { name, private: true, type: 'module', scripts: { bench: 'memtune bench --package' } };
    files[`packages/${name}/tsconfig.json`] = { extends: 'memtune/tsconfig/library.json' };
    files[`packages/${name}/src/index.ts`] = LIB;
  }
  writeTree(root, files);
  linkTypeScript(root, 'typescript');
  const bin = join(root, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(join(REPO, 'node_modules', 'turbo', 'bin', 'turbo'), join(bin, 'turbo'));
  symlinkSync(BIN, join(bin, 'memtune'));
  return root;
}

const env = () =>
  cleanEnv({ MEMTUNE_MEMORY_LIMIT: '4GiB', TURBO_TELEMETRY_DISABLED: '1', TURBO_CONCURRENCY: undefined, MEMTUNE_REPORT: undefined, MEMTUNE_TASK_LIMITS: undefined });

const reportAt = (dir: string): BenchReport => JSON.parse(readFileSync(join(dir, '.memtune', 'memtune-report.json'), 'utf8')) as BenchReport;

test("bench --package measures only the package it runs in and writes its reports into the package's own .memtune", (t) => {
  const root = workspace(t);
  const result = runMemtune(['bench', '--package'], { cwd: join(root, 'packages', 'a', 'src'), env: env() });
  assert.equal(result.status, 0, result.stderr);
  const report = reportAt(join(root, 'packages', 'a'));
  assert.deepEqual(
    report.packages.map((pkg) => [pkg.dir, pkg.status]),
    [['packages/a', 'ok']],
  );
  assert.equal(report.packages[0]!.parallel, false, 'alone: timings clean');
  for (const file of ['memtune-report.md', 'memtune-report.svg', 'memtune-journal.jsonl']) assert.ok(existsSync(join(root, 'packages', 'a', '.memtune', file)), file);
  assert.ok(!existsSync(join(root, '.memtune')), 'nothing at the root');
  assert.ok(!existsSync(join(root, 'packages', 'b', '.memtune')), 'nothing in the other package');
  const resumed = runMemtune(['bench', '--package', '--resume'], { cwd: join(root, 'packages', 'a'), env: env() });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming the bench in \.memtune\/memtune-journal\.jsonl/, "the package's own journal");
});

test('a bench of some packages compares only those with the baseline: the others are not gone, just not measured', (t) => {
  const root = workspace(t);
  const base = runMemtune(['bench', '--out', 'base'], { cwd: root, env: env() });
  assert.equal(base.status, 0, base.stderr);
  const compared = (cwd: string, args: string[]) => {
    // Which packages are compared is the point, not the gate: a tiny check's RSS moves by more than the noise floor between runs.
    const gate = ['--baseline', join(root, 'base', 'memtune-report.json'), '--max-growth', '1000%'];
    const result = runMemtune(['bench', ...args, ...gate, '--out', join(root, 'out'), '--json'], { cwd, env: env() });
    assert.equal(result.status, 0, result.stderr);
    return (JSON.parse(result.stdout) as BenchReport).baseline!.packages.map((pkg) => [pkg.name, pkg.state]);
  };
  assert.deepEqual(compared(root, ['--filter', 'a']), [['a', 'compared']]);
  assert.deepEqual(compared(join(root, 'packages', 'b'), ['--package']), [['b', 'compared']]);
});

test('bench --package at the workspace root, or with --filter, --shard or --solution, is refused before anything is written', (t) => {
  const root = workspace(t);
  const atRoot = runMemtune(['bench', '--package'], { cwd: root, env: env() });
  assert.equal(atRoot.status, 2, atRoot.stderr);
  assert.match(atRoot.stderr, /^memtune: --package: measures the package memtune runs in, and .* is the workspace root, not one of its packages\.\nRun it in a package/m);
  const inPackage = join(root, 'packages', 'a');
  for (const [option, ...rest] of [['--filter', 'b'], ['--shard', '1/2'], ['--solution']] as const) {
    const refused = runMemtune(['bench', '--package', option, ...rest], { cwd: inPackage, env: env() });
    assert.equal(refused.status, 2, `${option}: ${refused.stderr}`);
    assert.match(
      refused.stderr,
      new RegExp(`^memtune: --package and ${option} cannot be combined: .*\\.\\nDrop ${option}, or run it at the workspace root without --package\\.$`, 'm'),
    );
  }
  assert.ok(!existsSync(join(root, '.memtune')));
  assert.ok(!existsSync(join(inPackage, '.memtune')));
});

test('turbo run bench measures each package once: a second run replays every report from the cache, a changed package alone is measured again', (t) => {
  const root = workspace(t);
  const turbo = (...args: string[]) => {
    const result = runMemtune(['run', 'typecheck', '--', 'turbo', 'run', 'bench', ...args], { cwd: root, env: env() });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    return result.stdout;
  };
  // What memtune run dev/start leave in .memtune/diagnostics (heap snapshots) is no output of the bench task.
  const snapshot = join(root, 'packages', 'a', '.memtune', 'diagnostics', 'Heap.20261205.heapsnapshot');
  mkdirSync(dirname(snapshot), { recursive: true });
  writeFileSync(snapshot, '{}');
  assert.match(turbo(), /Cached: {4}0 cached, 2 total/);
  const first = reportAt(join(root, 'packages', 'a')).generatedAt;
  // memtune run sized turbo to run both benches at once: their timings are marked as taken beside other tasks.
  assert.equal(reportAt(join(root, 'packages', 'a')).packages[0]!.parallel, true);

  rmSync(join(root, 'packages', 'a', '.memtune'), { recursive: true });
  const second = turbo();
  assert.match(second, /Cached: {4}2 cached, 2 total/);
  assert.match(second, /a:bench: cache hit, replaying logs/);
  assert.equal(reportAt(join(root, 'packages', 'a')).generatedAt, first, "turbo restored a's report from its cache");
  assert.ok(!existsSync(snapshot), 'a heap snapshot is not cached, so never restored (nor uploaded to a remote cache)');

  writeFileSync(join(root, 'packages', 'b', 'src', 'index.ts'), `${LIB}export const more = 1;\n`);
  const third = turbo();
  assert.match(third, /Cached: {4}1 cached, 2 total/);
  assert.match(third, /b:bench: cache miss, executing/);

  // The per-package reports size the next turbo run, and merge into one.
  const explained = runMemtune(['run', 'typecheck', '--explain', '--', 'turbo', 'run', 'bench'], { cwd: root, env: env() });
  assert.equal(explained.status, 0, explained.stderr);
  assert.match(explained.stdout, /a#bench {2}packages\/a {2}\d+ MiB {2}measured: \/.*\/packages\/a\/\.memtune\/memtune-report\.json/);
  const merged = runMemtune(['bench', 'merge', 'packages/a/.memtune', 'packages/b/.memtune', '--out', '.memtune', '--json'], { cwd: root, env: env() });
  assert.equal(merged.status, 0, merged.stderr);
  assert.deepEqual(
    (JSON.parse(merged.stdout) as BenchReport).packages.map((pkg) => pkg.dir),
    ['packages/a', 'packages/b'],
  );
});
