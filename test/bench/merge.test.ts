import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeReports, type MergeInput } from '../../src/bench/merge.js';
import type { BenchReport } from '../../src/bench/types.js';
import { UsageError } from '../../src/shared/errors.js';
import { cleanEnv, runMemtune, tempDir } from '../helpers.js';
import { packageOf as pkg, reportOf } from './report-fixture.js';

const MiB = 1024 * 1024;
const TS6 = { name: 'typescript', version: '6.0.3', native: false, path: '/x/typescript-6/bin/tsc' } as const;

const input = (file: string, report: BenchReport, real = `/abs/${file}`): MergeInput => ({ file, real, report });
const merge = (inputs: MergeInput[], allowMixed = false, allowMissingShards = false) =>
  mergeReports(inputs, { allowMixed, allowMissingShards, generatedAt: '2026-12-04T00:00:00.000Z' });
/** The report of shard `index` of `count` holding `names`. */
const shardOf = (index: number, count: number, names: string[]) =>
  reportOf(
    names.map((name) => pkg(name)),
    { shard: { index, count, packages: names.map((name) => `packages/${name}`) } },
  );

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  assert.fail('not refused');
}

test('merge puts the packages of two reports together sorted by directory and recommends over all of them', () => {
  const a = reportOf([pkg('zeta', { peakHeapUsedBytes: 900 * MiB })], {}, { runs: 3 });
  const b = reportOf([pkg('alpha')], { skipped: [{ name: 'docs', dir: 'packages/docs', reason: 'no tsconfig.json' }] }, { runs: 2 });
  const merged = merge([input('a.json', a), input('b.json', b)]);
  assert.deepEqual(
    merged.packages.map((p) => p.name),
    ['alpha', 'zeta'],
  );
  assert.deepEqual(merged.recommendations.heap.map((h) => h.package).sort(), ['alpha', 'zeta']);
  assert.equal(merged.options.runs, 2);
  assert.deepEqual(merged.skipped, b.skipped);
  assert.equal(merged.generatedAt, '2026-12-04T00:00:00.000Z');
  assert.deepEqual(merged.merged, { from: ['a.json', 'b.json'], mixed: [] });
});

test('merge takes the solution build from the one report that has it and the union of the compilers', () => {
  const solution = pkg('mono', { dir: '.', task: 'tsc -b --force' });
  const a = reportOf([pkg('a')], { solution });
  const b = reportOf([pkg('b', { compiler: TS6 })], { environment: { ...reportOf([]).environment, compilers: [{ version: '6.0.3', native: false }] } });
  const merged = merge([input('a.json', a), input('b.json', b)]);
  assert.equal(merged.solution?.name, 'mono');
  assert.deepEqual(
    merged.environment.compilers.map((c) => c.version),
    ['5.9.3', '7.0.2', '6.0.3'],
  );
});

test('merge refuses what cannot be one report, naming the inputs', () => {
  const a = reportOf([pkg('a')]);
  const b = reportOf([pkg('b')]);
  const cases: Array<[string, MergeInput[], RegExp]> = [
    ['no input', [], /at least one report/],
    ['the same file twice', [input('a.json', a), input('a.json', a)], /merge "a.json": is given twice/],
    ['a report merged with itself through another path', [input('a.json', a), input('link.json', a, '/abs/a.json')], /"link.json": is the same report as "a.json"/],
    [
      'the same package in two reports',
      [input('a.json', a), input('b.json', reportOf([pkg('b'), pkg('a')]))],
      /"b.json": holds a \(packages\/a, tsc .*\), which "a.json" holds too/,
    ],
    [
      'two solution builds',
      [input('a.json', reportOf([pkg('a')], { solution: pkg('mono', { dir: '.' }) })), input('b.json', reportOf([pkg('b')], { solution: pkg('mono', { dir: '.' }) }))],
      /"b.json": holds a --solution build, and so does "a.json"/,
    ],
    ['different schema versions', [input('a.json', a), input('b.json', { ...b, schemaVersion: 1 as 2 })], /different schemaVersion: a.json 2, b.json 1/],
    [
      'different Node majors',
      [input('a.json', a), input('b.json', { ...b, environment: { ...b.environment, node: 'v22.1.0' } })],
      /Node majors differ: Node 20 \(a.json\); Node 22 \(b.json\)/,
    ],
    [
      'a package name measured with two compilers',
      [input('a.json', a), input('b.json', reportOf([pkg('a', { task: 'npm run build', compiler: TS6 })]))],
      /a is measured with different compilers: TypeScript 5.9.3 \(a.json\); TypeScript 6.0.3 \(b.json\)/,
    ],
  ];
  for (const [what, inputs, expected] of cases)
    assert.match(
      refusal(() => merge(inputs)),
      expected,
      what,
    );
});

test('merge --allow-mixed merges different Node majors and compilers and marks the report', () => {
  const a = reportOf([pkg('a')]);
  const b = reportOf([pkg('a', { task: 'npm run build', compiler: TS6 })], { environment: { ...a.environment, node: 'v22.1.0' } });
  const merged = merge([input('a.json', a), input('b.json', b)], true);
  assert.equal(merged.packages.length, 2);
  assert.equal(merged.merged?.mixed.length, 2);
  assert.match(merged.merged!.mixed.join('\n'), /Node majors differ/);
  assert.ok(merged.recommendations.notes.some((note) => note.startsWith('merged with --allow-mixed: a is measured with different compilers')));
});

test('merge keeps variants the inputs share and drops them with a note when their lists differ', () => {
  const variants = (names: string[]) => ({ list: names.map((name) => ({ name, spec: '', tsconfig: null, compiler: null, profile: null })), comparisons: [] });
  const a = reportOf([pkg('a', { variant: 'base' }), pkg('a', { variant: 'next' })], { variants: variants(['base', 'next']) });
  const b = reportOf([pkg('b', { variant: 'base' }), pkg('b', { variant: 'next' })], { variants: variants(['base', 'next']) });
  const same = merge([input('a.json', a), input('b.json', b)]);
  assert.deepEqual(
    same.variants?.list.map((v) => v.name),
    ['base', 'next'],
  );
  assert.ok((same.variants?.comparisons.length ?? 0) > 0);
  const other = merge([input('a.json', a), input('c.json', reportOf([pkg('c', { variant: 'base' })], { variants: variants(['base', 'other']) }))]);
  assert.equal(other.variants, undefined);
  assert.ok(other.recommendations.notes.some((note) => note.includes('different --variant lists')));
});

test('merge refuses shard reports that are not one whole split, naming the missing shards', () => {
  const cases: Array<[string, MergeInput[], RegExp]> = [
    [
      'one shard of three missing',
      [input('s1', shardOf(1, 3, ['a'])), input('s3', shardOf(3, 3, ['c']))],
      /merge: shard 2 of 3 is missing: the merged report would lack its packages/,
    ],
    ['two shards of four missing', [input('s2', shardOf(2, 4, ['b'])), input('s4', shardOf(4, 4, []))], /merge: shards 1 and 3 of 4 are missing/],
    ['shards of two different splits', [input('s1', shardOf(1, 2, ['a'])), input('t2', shardOf(2, 3, ['a']))], /different splits: shard 1\/2 \(s1\), shard 2\/3 \(t2\)/],
    [
      'one shard twice (both empty, so no package is shared)',
      [input('s1', shardOf(1, 2, ['a'])), input('x', shardOf(2, 2, [])), input('y', shardOf(2, 2, []))],
      /merge "y": is shard 2\/2, and so is "x"/,
    ],
  ];
  for (const [name, inputs, expected] of cases) {
    const message = refusal(() => merge(inputs));
    assert.match(message, expected, name);
  }
  assert.match(
    refusal(() => merge([input('s1', shardOf(1, 3, ['a']))])),
    /--allow-missing-shards/,
  );
  assert.match(
    refusal(() => merge([input('s1', shardOf(1, 2, ['a'])), input('t2', shardOf(2, 3, ['b']))], false, true)),
    /different splits/,
    'the flag lets missing shards through, not mixed splits',
  );
});

test('merge takes a whole split, also beside reports made without --shard, and --allow-missing-shards names what is missing in the notes', () => {
  const whole = merge([input('s2', shardOf(2, 2, ['b'])), input('s1', shardOf(1, 2, ['a'])), input('solo', reportOf([pkg('c')]))]);
  assert.deepEqual(
    whole.packages.map((p) => p.name),
    ['a', 'b', 'c'],
  );
  assert.equal(whole.shard, undefined, 'the merged report is no shard');
  assert.ok(!whole.recommendations.notes.some((note) => /missing/.test(note)));
  const partial = merge([input('s1', shardOf(1, 3, ['a'])), input('s3', shardOf(3, 3, ['c']))], false, true);
  assert.deepEqual(
    partial.packages.map((p) => p.name),
    ['a', 'c'],
  );
  assert.ok(
    partial.recommendations.notes.includes('merged with --allow-missing-shards: shard 2 of 3 is missing; its packages are not in this report'),
    partial.recommendations.notes.join('\n'),
  );
});

function writeReportFile(dir: string, name: string, report: BenchReport): string {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'memtune-report.json'), JSON.stringify(report));
  return join(name, 'memtune-report.json');
}

test('bench merge through the bin writes one report, Markdown and SVG with the packages of both shards', (t) => {
  const dir = tempDir(t);
  writeReportFile(dir, 'shard-1', reportOf([pkg('api', { peakHeapUsedBytes: 700 * MiB })]));
  const second = writeReportFile(dir, 'shard-2', reportOf([pkg('web')]));
  const result = runMemtune(['bench', 'merge', 'shard-1', second, '--out', 'merged'], { cwd: dir });
  assert.equal(result.status, 0, result.stderr);
  const merged = JSON.parse(readFileSync(join(dir, 'merged', 'memtune-report.json'), 'utf8')) as BenchReport;
  assert.deepEqual(
    merged.packages.map((p) => p.name),
    ['api', 'web'],
  );
  assert.deepEqual(merged.recommendations.heap.map((h) => h.package).sort(), ['api', 'web']);
  assert.deepEqual(merged.merged?.from, ['shard-1', second]);
  for (const file of ['memtune-report.md', 'memtune-report.svg', 'memtune-benchmark.json']) assert.ok(existsSync(join(dir, 'merged', file)), file);
  assert.match(result.stdout, /api/);
  assert.match(result.stdout, /web/);
  assert.ok(result.stdout.includes(`Merged by memtune bench merge from 2 reports: \`shard-1\`, \`${second}\``), 'the Markdown names its inputs');
});

test('bench merge --baseline gates the merged report as bench --baseline does (exit 1 on a regression)', (t) => {
  const dir = tempDir(t);
  writeReportFile(dir, 'shard-1', reportOf([pkg('api', { peakRssBytes: 900 * MiB })]));
  writeReportFile(dir, 'shard-2', reportOf([pkg('web')]));
  writeReportFile(dir, 'main', reportOf([pkg('api'), pkg('web')]));
  const result = runMemtune(['bench', 'merge', 'shard-1', 'shard-2', '--out', 'merged', '--baseline', 'main/memtune-report.json', '--json'], { cwd: dir });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /api \(packages\/api\) regressed against main\/memtune-report.json/);
  assert.equal((JSON.parse(result.stdout) as BenchReport).baseline?.regressions, 1);
});

test('bench merge refuses bad input with exit 2, naming the input, and writes nothing', (t) => {
  const dir = tempDir(t);
  writeReportFile(dir, 'one', reportOf([pkg('api')]));
  writeReportFile(dir, 'two', reportOf([pkg('api')]));
  writeReportFile(dir, 'old', { ...reportOf([pkg('web')]), schemaVersion: 1 as 2 });
  writeReportFile(dir, 'node22', reportOf([pkg('web')], { environment: { ...reportOf([]).environment, node: 'v22.1.0' } }));
  writeReportFile(dir, 'shard-1-of-2', shardOf(1, 2, ['web']));
  writeFileSync(join(dir, 'not-json.json'), '{');
  symlinkSync(join(dir, 'one'), join(dir, 'alias'));
  const cases: Array<[string[], RegExp]> = [
    [[], /at least one report/],
    [['missing'], /merge "missing": cannot be read \(ENOENT\)/],
    [['not-json.json'], /merge "not-json.json": not JSON/],
    [['one', 'one'], /merge "one": is given twice/],
    [['one', 'alias'], /merge "alias": is the same report as "one"/],
    [['one', 'two'], /merge "two": holds api \(packages\/api, .*\), which "one" holds too/],
    [['one', 'old'], /merge "old": has schemaVersion 1/],
    [['one', 'node22'], /Node majors differ/],
    [['shard-1-of-2'], /merge: shard 2 of 2 is missing/],
  ];
  for (const [inputs, expected] of cases) {
    const result = runMemtune(['bench', 'merge', ...inputs, '--out', 'merged'], { cwd: dir });
    assert.equal(result.status, 2, `${inputs.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected);
    assert.equal(existsSync(join(dir, 'merged')), false, inputs.join(' '));
  }
  assert.match(runMemtune(['bench', 'merge', 'one'], { cwd: dir }).stderr, /needs --out/);
});

test('bench merge --update-baseline writes the merged report as the next baseline, its directory made, also when the gate fails', (t) => {
  const dir = tempDir(t);
  writeReportFile(dir, 'shard-1', shardOf(1, 2, ['api']));
  writeReportFile(dir, 'shard-2', reportOf([pkg('web', { peakRssBytes: 900 * MiB })], { shard: { index: 2, count: 2, packages: ['packages/web'] } }));
  writeReportFile(dir, 'main', reportOf([pkg('api'), pkg('web')]));
  const result = runMemtune(['bench', 'merge', 'shard-1', 'shard-2', '--out', 'merged', '--baseline', 'main/memtune-report.json', '--update-baseline', 'next/baseline.json'], {
    cwd: dir,
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /web \(packages\/web\) regressed/);
  assert.match(result.stderr, /wrote baseline next\/baseline.json/);
  const written = readFileSync(join(dir, 'next', 'baseline.json'), 'utf8');
  assert.equal(written, readFileSync(join(dir, 'merged', 'memtune-report.json'), 'utf8'));
  assert.deepEqual(
    (JSON.parse(written) as BenchReport).packages.map((p) => p.name),
    ['api', 'web'],
  );
  // The merged report as the baseline of the next merge: the same figures do not regress.
  const again = runMemtune(['bench', 'merge', 'shard-1', 'shard-2', '--out', 'merged', '--baseline', 'next/baseline.json', '--update-baseline', 'next/baseline.json'], {
    cwd: dir,
  });
  assert.equal(again.status, 0, again.stderr);
});

test('bench merge --update-baseline refuses reports of --variant benches and a file it cannot write (exit 2)', (t) => {
  const dir = tempDir(t);
  const variants = { list: ['base', 'next'].map((name) => ({ name, spec: '', tsconfig: null, compiler: null, profile: null })), comparisons: [] };
  writeReportFile(dir, 'variants', reportOf([pkg('a', { variant: 'base' }), pkg('a', { variant: 'next' })], { variants }));
  const refused = runMemtune(['bench', 'merge', 'variants', '--out', 'merged', '--update-baseline', 'baseline.json'], { cwd: dir });
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /--update-baseline cannot take reports of --variant benches/);
  assert.equal(existsSync(join(dir, 'merged')), false);
  writeReportFile(dir, 'plain', reportOf([pkg('a')]));
  writeFileSync(join(dir, 'file'), '');
  const unwritable = runMemtune(['bench', 'merge', 'plain', '--out', 'merged', '--update-baseline', 'file/baseline.json'], { cwd: dir });
  assert.equal(unwritable.status, 2, unwritable.stderr);
  assert.match(unwritable.stderr, /--update-baseline "file\/baseline.json": cannot be written/);
  assert.ok(existsSync(join(dir, 'merged', 'memtune-report.json')), 'the merged report is in --out');
});

test('bench merge in GitHub Actions writes the job summary, annotates a regression and sets the step outputs as bench does', (t) => {
  const dir = tempDir(t);
  writeReportFile(dir, 'shard-1', reportOf([pkg('api', { peakRssBytes: 900 * MiB })]));
  writeReportFile(dir, 'main', reportOf([pkg('api')]));
  const summary = join(dir, 'summary.md');
  const outputs = join(dir, 'outputs.txt');
  const result = runMemtune(['bench', 'merge', 'shard-1', '--out', 'merged', '--baseline', 'main/memtune-report.json'], {
    cwd: dir,
    env: cleanEnv({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: outputs }),
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(readFileSync(summary, 'utf8'), /^# memtune bench/m);
  assert.match(result.stderr, /^::error file=packages\/api\/tsconfig.json,title=memtune::api \(packages\/api\) regressed/m);
  assert.match(readFileSync(outputs, 'utf8'), /^regressed=true$/m);
  assert.match(readFileSync(outputs, 'utf8'), /^report=.*merged\/memtune-report.json$/m);
});
