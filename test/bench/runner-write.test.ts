import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchReport } from '../../src/bench/types.js';
import { runMemtune, tempDir, writeTree } from '../helpers.js';
import { fakeCompiler } from './fake-compiler.js';

/** A one-package repo whose fake compiler prints one GC line: a 412 MiB peak heap, so a 576 MiB recommendation. */
function repo(root: string): string {
  writeTree(root, { 'package.json': { name: 'app' }, 'tsconfig.json': { files: [] } });
  return fakeCompiler(
    root,
    'console.log(`[${process.pid}:0x1]      5 ms: Mark-Compact 412.0 (450.0) -> 100.0 (450.0) MB, 1.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;`);\n',
  );
}

test('--runner-memory and --runner-cpus size the recommendations for that runner, in the JSON and the Markdown', (t) => {
  const root = tempDir(t);
  const compiler = repo(root);
  const result = runMemtune(['bench', '--compiler', compiler, '--runner-memory', '7GiB', '--runner-cpus', '2', '--budget', '50%'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(readFileSync(join(root, '.memtune', 'memtune-report.json'), 'utf8')) as BenchReport;
  const runner = report.recommendations.runner!;
  assert.equal(runner.memoryBytes, 7 * 1024 ** 3);
  assert.equal(runner.cpus, 2);
  assert.equal(runner.budgetBytes, 3.5 * 1024 ** 3, '--budget as a share applies to the runner');
  assert.deepEqual(
    runner.profiles.map((p) => [p.profile, p.heapMiB, p.needMiB, p.fits]),
    [['typecheck', 3584, 576, true]],
  );
  assert.match(result.stdout, /### On a runner with 7 GiB and 2 CPUs/);
  const small = runMemtune(['bench', '--compiler', compiler, '--runner-memory', '1MiB'], { cwd: root });
  assert.equal(small.status, 1, 'a runner smaller than a package peak RSS cannot run it');
  assert.match(small.stderr, /memtune: app: peak RSS .* is more than the runner's 1 MiB: the runner cannot run this check/);
  const alone = JSON.parse(readFileSync(join(root, '.memtune', 'memtune-report.json'), 'utf8')) as BenchReport;
  assert.equal(alone.recommendations.runner?.cpusFrom, 'this machine');
  assert.deepEqual(
    alone.recommendations.runner?.tooLarge.map((p) => p.package),
    ['app'],
  );
});

test('bad --runner-memory/--runner-cpus and --force without --write are refused before anything runs', (t) => {
  const root = tempDir(t);
  const compiler = repo(root);
  const cases: Array<[string[], RegExp]> = [
    [['--runner-memory', 'lots'], /^memtune: --runner-memory "lots": not a memory size/],
    [['--runner-memory', '0'], /^memtune: --runner-memory "0": zero is not a runner's memory/],
    [['--runner-cpus', '0'], /^memtune: --runner-cpus "0": not a positive whole number/],
    [['--runner-cpus', 'abc'], /^memtune: --runner-cpus "abc": not a positive whole number/],
    [['--force'], /^memtune: --force only applies to --write/],
  ];
  for (const [args, message] of cases) {
    const result = runMemtune(['bench', '--compiler', compiler, ...args], { cwd: root });
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.ok(!existsSync(join(root, '.memtune')), `${args.join(' ')} ran nothing`);
  }
});

test('--write puts the heap into .node-options, changes nothing the second time, and replaces a user value only with --force', (t) => {
  const root = tempDir(t);
  const compiler = repo(root);
  const file = join(root, '.node-options');
  const first = runMemtune(['bench', '--compiler', compiler, '--write'], { cwd: root });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /\+\+\+ b\/\.node-options\n@@ -0,0 \+1,3 @@\n\+\[typecheck\]\n\+# memtune bench .*412 MiB × 1\.25.*\n\+--max-old-space-size=576\n/);
  const written = readFileSync(file, 'utf8');
  const second = runMemtune(['bench', '--compiler', compiler, '--write'], { cwd: root });
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stderr, /already sets --max-old-space-size=576: nothing to do/);
  assert.equal(readFileSync(file, 'utf8'), written);

  writeFileSync(file, '# mine\n[typecheck]\n--max-old-space-size=2048 # set by hand\n');
  const refused = runMemtune(['bench', '--compiler', compiler, '--write'], { cwd: root });
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /---max-old-space-size=2048 # set by hand\n/);
  assert.match(refused.stderr, /\.node-options:3: \[typecheck\] already sets --max-old-space-size=2048[^\n]*\nNothing was written\. Re-run with --write --force/);
  assert.equal(readFileSync(file, 'utf8'), '# mine\n[typecheck]\n--max-old-space-size=2048 # set by hand\n');
  const forced = runMemtune(['bench', '--compiler', compiler, '--write', '--force'], { cwd: root });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(readFileSync(file, 'utf8'), /^# mine\n\[typecheck\]\n# memtune bench [^\n]*\n--max-old-space-size=576 # set by hand\n$/);

  const explain = runMemtune(['run', 'typecheck', '--explain'], { cwd: root });
  assert.equal(explain.status, 0, explain.stderr);
  assert.match(explain.stdout, /--max-old-space-size=576 +\S*\.node-options:4\n/);
});
