import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assignShards, baselineCosts, parseShard, type ShardUnit } from '../../src/bench/shard.js';
import { DEFAULT_OPTIONS, parseJournal } from '../../src/bench/journal.js';
import { SCHEMA_VERSION, type BenchReport, type PackageResult } from '../../src/bench/types.js';
import { UsageError, formatError } from '../../src/shared/errors.js';
import { runMemtune, tempDir, writeTree } from '../helpers.js';
import { fakeCompiler } from './fake-compiler.js';
import { fourPackageFiles } from './workspace-fixture.js';

test('--shard i/n reads whole numbers with n at least 1 and i from 1 to n; anything else is refused, saying what is wrong', () => {
  assert.deepEqual(parseShard('1/1'), { index: 1, count: 1 });
  assert.deepEqual(parseShard('3/4'), { index: 3, count: 4 });
  const refused: Array<[string, RegExp]> = [
    ['3/2', /--shard "3\/2": shard 3 of only 2: i must be from 1 to n\.\n.*--shard 2\/2/],
    ['0/4', /--shard "0\/4": shard 0: shards count from 1\.\n.*--shard 1\/4/],
    ['a/b', /--shard "a\/b": not i\/n/],
    ['1/0', /--shard "1\/0": has 0 shards: n must be at least 1\./],
    ['1/2/3', /not i\/n/],
    [' 1/2', /not i\/n/],
    ['-1/2', /not i\/n/],
  ];
  for (const [text, message] of refused) {
    assert.throws(
      () => parseShard(text),
      (error: unknown) => error instanceof UsageError && message.test(formatError(error)),
      text,
    );
  }
});

const unit = (dir: string, cost: number | null, sourceBytes = 1, name = dir): ShardUnit => ({ dir, name, cost, sourceBytes });
const dirs = (shards: ShardUnit[][]) => shards.map((shard) => shard.map((u) => u.dir));

test('shards are filled largest cost first, each package to the shard with the smallest total so far', () => {
  const cases: Array<{ title: string; units: ShardUnit[]; count: number; expected: string[][] }> = [
    {
      title: 'balanced',
      units: [unit('a', 5), unit('b', 4), unit('c', 3), unit('d', 3), unit('e', 1)],
      count: 2,
      expected: [
        ['a', 'd'],
        ['b', 'c', 'e'],
      ],
    },
    { title: 'ties by dir, then the lowest shard', units: [unit('z', 2), unit('m', 2), unit('a', 2)], count: 2, expected: [['a', 'z'], ['m']] },
    { title: 'more shards than packages: the last are empty', units: [unit('a', 1), unit('b', 2)], count: 4, expected: [['b'], ['a'], [], []] },
    { title: 'one shard: every package', units: [unit('a', 1), unit('b', 2)], count: 1, expected: [['b', 'a']] },
    // Known: 10 per byte. c (unknown, 3 bytes) costs 30, above a (20) and below b (40).
    { title: 'unknown cost: source bytes × the median cost per byte', units: [unit('a', 20, 2), unit('b', 40, 4), unit('c', null, 3)], count: 3, expected: [['b'], ['c'], ['a']] },
    { title: 'nothing known: plain source bytes', units: [unit('a', null, 100), unit('b', null, 300), unit('c', null, 200)], count: 2, expected: [['b'], ['c', 'a']] },
  ];
  for (const { title, units, count, expected } of cases) {
    assert.deepEqual(dirs(assignShards(units, count)), expected, title);
    assert.deepEqual(dirs(assignShards([...units].reverse(), count)), expected, `${title}: the input order does not matter`);
  }
});

test("a package's cost in the baseline is its median wall time × its largest peak RSS, summed over its projects", () => {
  const pkg = (name: string, peakRssBytes: number | null, max?: number, dir = name) =>
    ({
      name,
      dir,
      task: 'tsc -p tsconfig.json --noEmit',
      wallMs: 2000,
      peakRssBytes,
      spread: max === undefined ? {} : { peakRssBytes: { median: 200, min: 100, max } },
    }) as unknown as PackageResult;
  const costs = baselineCosts({
    packages: [pkg('@m/a', 200, 300), pkg('@m/b', null), pkg('@m/c (tsconfig.app.json)', 50, undefined, '@m/c'), pkg('@m/c (tsconfig.lib.json)', 20, undefined, '@m/c')],
  } as BenchReport);
  assert.deepEqual(
    [...costs],
    [
      ['@m/a', 2000 * 300],
      ['@m/c', 2000 * 70],
    ],
  );
});

test('a journal written before --shard reads as a bench of every package', () => {
  const { shard: _shard, ...older } = DEFAULT_OPTIONS;
  const parsed = parseJournal(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, options: older })}\n`, 'j.jsonl');
  assert.equal(parsed.options?.shard, null);
});

/** A workspace of four packages of different sizes, checked by a fake compiler that ends at once. */
function fourPackages(root: string): string {
  writeTree(root, fourPackageFiles());
  return fakeCompiler(root, '');
}

function reportOf(out: string): BenchReport {
  return JSON.parse(readFileSync(join(out, 'memtune-report.json'), 'utf8')) as BenchReport;
}

test('bench --shard 1/2 and --shard 2/2 measure disjoint sets of packages whose union is every package, and record it', (t) => {
  const root = tempDir(t);
  const compiler = fourPackages(root);
  const measured = ['1/2', '2/2'].map((shard) => {
    const out = join(root, `shard-${shard[0]}`);
    const result = runMemtune(['bench', '--compiler', compiler, '--shard', shard, '--out', out], { cwd: root });
    assert.equal(result.status, 0, result.stderr);
    const report = reportOf(out);
    const names = report.packages.map((pkg) => pkg.dir).sort();
    assert.deepEqual(report.shard, { index: Number(shard[0]), count: 2, packages: names, balancedBy: null }, 'split by source sizes');
    assert.deepEqual(report.skipped, [], "another shard's packages are not skipped");
    const journal = JSON.parse(readFileSync(join(out, 'memtune-journal.jsonl'), 'utf8').split('\n')[0]!);
    assert.equal(journal.options.shard, shard, 'a --resume continues the same shard');
    return names;
  });
  // By source size: b (larger than the others together) alone in shard 1.
  assert.deepEqual(measured, [['packages/b'], ['packages/a', 'packages/c', 'packages/d']]);
  const resumed = runMemtune(['bench', '--resume', '--shard', '2/2', '--out', join(root, 'shard-1')], { cwd: root });
  assert.equal(resumed.status, 2, resumed.stderr);
  assert.match(resumed.stderr, /--shard/);
});

test('with --baseline, a shard compares only its own packages (none of another shard is gone)', (t) => {
  const root = tempDir(t);
  const compiler = fourPackages(root);
  const full = join(root, 'full');
  assert.equal(runMemtune(['bench', '--compiler', compiler, '--out', full], { cwd: root }).status, 0);
  const out = join(root, 'shard');
  const result = runMemtune(['bench', '--compiler', compiler, '--shard', '1/2', '--baseline', join(full, 'memtune-report.json'), '--out', out], { cwd: root });
  assert.ok(result.status === 0 || result.status === 1, result.stderr);
  const report = reportOf(out);
  assert.ok(report.packages.length > 0 && report.packages.length < 4);
  assert.deepEqual(report.baseline?.packages.map((pkg) => [pkg.dir, pkg.state]).sort(), report.packages.map((pkg) => [pkg.dir, 'compared']).sort());
  assert.equal(report.shard?.balancedBy, reportOf(full).generatedAt, 'the shard records the baseline that split it');
});

test('a shard with no package (more shards than packages) succeeds, says so and writes a report with no packages', (t) => {
  const root = tempDir(t);
  const compiler = fourPackages(root);
  const out = join(root, 'reports');
  const result = runMemtune(['bench', '--compiler', compiler, '--shard', '6/6', '--out', out], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /memtune: shard 6\/6 has no package: 4 packages over 6 shards/);
  const report = reportOf(out);
  assert.deepEqual([report.packages, report.shard], [[], { index: 6, count: 6, packages: [], balancedBy: null }]);
});

test('bad --shard values and --shard with --solution exit 2 before anything runs or is written', (t) => {
  const root = tempDir(t);
  const compiler = fourPackages(root);
  const out = join(root, 'reports');
  const cases: Array<[string[], RegExp]> = [
    [['--shard', '3/2'], /--shard "3\/2": shard 3 of only 2/],
    [['--shard', '0/4'], /--shard "0\/4": shard 0: shards count from 1/],
    [['--shard', 'a/b'], /--shard "a\/b": not i\/n/],
    [['--shard', '1/0'], /--shard "1\/0": has 0 shards/],
    [['--shard', '1/2', '--solution'], /--shard and --solution cannot be combined/],
  ];
  for (const [args, message] of cases) {
    const result = runMemtune(['bench', '--compiler', compiler, '--out', out, ...args], { cwd: root });
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(existsSync(out), false, `${args.join(' ')}: nothing written`);
  }
});
