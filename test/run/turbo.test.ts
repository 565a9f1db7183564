import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchedScript, dryRunArgs, parseTurboCommand, pickPeaks, reportPeaksOf, runsTypeCheck, sizeTurbo, type TurboTask } from '../../src/run/turbo.js';
import type { UsageError } from '../../src/shared/errors.js';
import { MiB } from '../../src/shared/size.js';
import { parseTaskLimits, taskLimitOf } from '../../src/shared/task-limits.js';
import { configuredConcurrency, missingPassThrough, parseTurboJson } from '../../src/shared/turbo-config.js';

test('turbo running tasks is found behind npx, pnpm, pnpm exec, yarn and npm exec; other turbo commands are not sized', () => {
  const cases: Array<[string, string[] | undefined, string | undefined]> = [
    ['turbo run typecheck', ['typecheck'], undefined],
    ['turbo typecheck build', ['typecheck', 'build'], undefined],
    ['npx turbo run typecheck --filter web', ['typecheck'], undefined],
    ['npx -y turbo typecheck', ['typecheck'], undefined],
    ['pnpm turbo run lint --concurrency 7', ['lint'], '7'],
    ['pnpm exec turbo run lint --concurrency=3', ['lint'], '3'],
    ['yarn turbo run build', ['build'], undefined],
    ['npm exec -- turbo run build', ['build'], undefined],
    ['./node_modules/.bin/turbo run build -- --watch', ['build'], undefined],
    ['turbo run --force typecheck', undefined, undefined],
    ['turbo run --force true typecheck', ['typecheck'], undefined],
    ['turbo prune web --docker', undefined, undefined],
    ['turbo --version', undefined, undefined],
    ['turbo run build --dry=json', undefined, undefined],
    ['npm run build', undefined, undefined],
    ['node turbo.js run build', undefined, undefined],
  ];
  for (const [command, tasks, concurrency] of cases) {
    const parsed = parseTurboCommand(command.split(' '));
    assert.deepEqual(parsed?.tasks, tasks, command);
    assert.equal(parsed?.concurrency, concurrency, command);
  }
});

test("the dry run keeps the user's filters and drops what would write files or change the output", () => {
  const turbo = parseTurboCommand('pnpm turbo run typecheck --filter=web... -F api --summarize --concurrency 4 --output-logs none -- --x'.split(' '))!;
  assert.deepEqual(dryRunArgs(turbo), ['run', 'typecheck', '--filter=web...', '-F', 'api', '--dry=json']);
});

test('type-check tasks are named so or run a compiler', () => {
  assert.ok(runsTypeCheck('typecheck', undefined));
  assert.ok(runsTypeCheck('verify', 'tsc -p . --noEmit'));
  assert.ok(runsTypeCheck('verify', 'memtune run typecheck -- vue-tsc --noEmit'));
  assert.ok(!runsTypeCheck('build', 'tsc-alias -p .'));
  assert.ok(!runsTypeCheck('lint', 'eslint .'));
});

test("a per-package bench task is sized by what it measures: the type-check, or its --script's report", () => {
  assert.equal(benchedScript('memtune bench --package --runs 3'), null);
  assert.equal(benchedScript('npx memtune bench --package --script build'), 'build');
  assert.equal(benchedScript("memtune bench --package --script='test'"), 'test');
  assert.equal(benchedScript('memtune bench merge packages/a/.memtune --out .memtune'), undefined);
  assert.equal(benchedScript('node bench.js'), undefined);
  assert.ok(runsTypeCheck('bench', 'memtune bench --package'));
  assert.ok(!runsTypeCheck('bench', 'memtune bench --package --script build'));
  const check = reportPeaksOf({ options: { script: null }, packages: [result('a', 500)] }, 'check.json');
  const build = reportPeaksOf({ options: { script: 'build' }, packages: [result('a', 800)] }, 'build.json');
  const picked = pickPeaks([task('a', 'bench', 'memtune bench --package'), task('a', 'bench:build', 'memtune bench --package --script build')], [check, build], () => ({
    bytes: 42,
    what: 'from 1 KiB of source',
  }));
  assert.deepEqual(
    picked.map((peak) => [peak.task.id, peak.bytes, peak.from.join(',')]),
    [
      ['a#bench', 500 * MiB, 'check.json'],
      ['a#bench:build', 800 * MiB, 'build.json'],
    ],
  );
});

const task = (dir: string, name = 'typecheck', command = 'tsc'): TurboTask => ({ id: `${dir}#${name}`, package: dir, dir: `packages/${dir}`, task: name, command });
const result = (dir: string, mib: number | null, status = 'ok') => ({ name: dir, dir: `packages/${dir}`, status, peakRssBytes: mib && mib * MiB, spread: {} });

test('a task takes the largest peak of the reports that measured it; one no report measured is estimated and says why', () => {
  const check = reportPeaksOf({ options: { script: null }, generatedAt: '2026-11-22', packages: [result('a', 500), result('b', 300), result('x', 900, 'oom')] }, 'check.json');
  const check7 = reportPeaksOf({ options: { script: null }, packages: [result('a', 600)] }, 'check7.json');
  const lint = reportPeaksOf({ options: { script: 'lint' }, packages: [result('a', 700)] }, 'lint.json');
  const picked = pickPeaks([task('a'), task('b'), task('c'), task('x'), task('a', 'lint', 'eslint .'), task('b', 'lint', 'eslint .')], [check, check7, lint], () => ({
    bytes: 42,
    what: 'from 1 KiB of source',
  }));
  assert.deepEqual(
    picked.map((peak) => [peak.task.id, peak.bytes, peak.from.join(','), peak.estimate ?? '']),
    [
      ['a#typecheck', 600 * MiB, 'check7.json', ''],
      ['b#typecheck', 300 * MiB, 'check.json', ''],
      [
        'c#typecheck',
        42,
        '',
        'estimated from 1 KiB of source; not in the report of 2026-11-22 (added since): check.json; not in the report of an unknown date (added since): check7.json',
      ],
      ['x#typecheck', 42, '', 'estimated from 1 KiB of source; its runs ended oom: check.json; not in the report of an unknown date (added since): check7.json'],
      ['a#lint', 700 * MiB, 'lint.json', ''],
      ['b#lint', 42, '', 'estimated from 1 KiB of source; not in the report of an unknown date (added since): lint.json'],
    ],
  );
});

test('a file that is not a bench report is refused with its name and the reason', () => {
  assert.throws(
    () => reportPeaksOf([], 'r.json'),
    (error: UsageError) =>
      error.message ===
      'r.json: not a memtune bench report: not a JSON object.\nPass the memtune-report.json that memtune bench wrote (run memtune bench again), or leave --report out.',
  );
  assert.throws(() => reportPeaksOf({ options: { script: 3 }, packages: [] }, 'r.json'), /"options.script" is neither null nor a script name/);
  assert.throws(() => reportPeaksOf({ options: { script: null }, packages: [{}] }, 'r.json'), /packages\[0\] has no "dir" or "status"/);
});

test("each package's room is the budget less the N-1 largest peaks of the others, never below its own peak", () => {
  const peaks = [500, 300, 200, 100].map((mib, index) => ({ task: task(String.fromCharCode(97 + index)), bytes: mib * MiB, from: ['r'], estimate: undefined }));
  const sizing = sizeTurbo(peaks, 1000 * MiB, 8, { root: '/repo', from: 'memtune run typecheck -- turbo run typecheck' });
  assert.equal(sizing.fit.value, 3);
  assert.deepEqual(sizing.limits.limits, { 'packages/a': 500 * MiB, 'packages/b': 300 * MiB, 'packages/c': 200 * MiB, 'packages/d': 200 * MiB });
  assert.equal(sizing.limits.default, Math.floor((1000 * MiB) / 3));
  for (const peak of peaks) assert.ok((sizing.limits.limits as Record<string, number>)[peak.task.dir]! >= peak.bytes, peak.task.dir);
});

test('MEMTUNE_TASK_LIMITS gives a package under its root its room and others the default; a malformed one names the variable', () => {
  const limits = parseTaskLimits(
    JSON.stringify({ v: 1, root: '/repo', from: 'memtune run typecheck -- turbo run typecheck', concurrency: 2, budget: 1000, limits: { 'packages/a': 700 }, default: 500 }),
  );
  assert.deepEqual(taskLimitOf(limits, '/repo/packages/a'), {
    bytes: 700,
    detail: 'MEMTUNE_TASK_LIMITS of "memtune run typecheck -- turbo run typecheck": room beside 1 other task in a 1000 B budget',
  });
  assert.equal(taskLimitOf(limits, '/repo/packages/z')?.bytes, 500);
  assert.equal(taskLimitOf(limits, '/elsewhere/a'), undefined);
  const withHeaps = parseTaskLimits(
    JSON.stringify({ v: 1, root: '/repo', from: 'x', concurrency: 1, budget: 1000, limits: { 'packages/a': 900 }, heaps: { 'packages/a': 512 }, default: 1000 }),
  );
  assert.equal(taskLimitOf(withHeaps, '/repo/packages/a')?.heapMiB, 512, "the package's measured heap need rides along");
  assert.equal(taskLimitOf(withHeaps, '/repo/packages/b')?.heapMiB, undefined);
  for (const bad of [
    '{',
    '[]',
    '{"v":2}',
    JSON.stringify({ v: 1, root: 'rel', from: '', concurrency: 1, budget: 1, limits: {}, default: 1 }),
    JSON.stringify({ v: 1, root: '/repo', from: '', concurrency: 1, budget: 1, limits: {}, heaps: { 'packages/a': -1 }, default: 1 }),
  ]) {
    assert.throws(
      () => parseTaskLimits(bad),
      (error: UsageError) => error.exitCode === 2 && error.message.startsWith('MEMTUNE_TASK_LIMITS: '),
      bad,
    );
  }
});

test('turbo.json passes memtune variables through by wildcard, exact names, per-task lists or loose mode; concurrency there is found', () => {
  assert.deepEqual(missingPassThrough({ tasks: { typecheck: {} } }, { tasks: ['typecheck'] }), ['MEMTUNE_TASK_LIMITS', 'MEMTUNE_MEMORY_LIMIT', 'MEMTUNE_NODE_OPTIONS']);
  assert.deepEqual(missingPassThrough({ globalPassThroughEnv: ['MEMTUNE_*'] }, { tasks: ['typecheck'] }), []);
  assert.deepEqual(missingPassThrough({ globalPassThroughEnv: ['MEMTUNE_*', '!MEMTUNE_TASK_LIMITS'] }, { tasks: ['typecheck'] }), ['MEMTUNE_TASK_LIMITS']);
  assert.deepEqual(missingPassThrough({ tasks: { typecheck: { passThroughEnv: ['MEMTUNE_*'] }, build: {} } }, { tasks: ['typecheck'] }), []);
  assert.deepEqual(missingPassThrough({ tasks: { 'web#typecheck': { passThroughEnv: ['MEMTUNE_TASK_LIMITS'] } } }, { tasks: ['typecheck'], names: ['MEMTUNE_TASK_LIMITS'] }), []);
  assert.deepEqual(missingPassThrough({ envMode: 'loose' }, { tasks: ['typecheck'] }), []);
  assert.deepEqual(missingPassThrough({}, { tasks: ['typecheck'], envMode: 'loose' }), []);
  assert.equal(configuredConcurrency(parseTurboJson('{\n  // one at a time\n  "concurrency": "50%",\n}')), '50%');
  assert.equal(configuredConcurrency({}), undefined);
});
