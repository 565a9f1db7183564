import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWithBaseline, parseBaseline, parseMaxGrowth } from '../src/core/bench-baseline.js';
import { withoutDiagnostics } from '../src/core/bench-parse.js';
import { renderMarkdownReport } from '../src/core/bench-report-md.js';
import { formatJournalLine, parseJournal, runKey } from '../src/core/bench-journal.js';
import { brokenPackages, buildReport, missingRuns } from '../src/core/bench-report.js';
import { median, summarizeRuns, worstStatus } from '../src/core/bench-stats.js';
import type { BenchEnvironment, BenchReport, CompilerInfo, JournalEntry, PackageResult, RunFigures, RunStatus } from '../src/core/bench-types.js';
import { GcThrashDetector, parseTraceGcLine, withoutTraceGc } from '../src/core/gc-thrash.js';
import { UsageError } from '../src/core/errors.js';

const MiB = 1024 * 1024;
const TS6: CompilerInfo = { name: 'typescript', version: '6.0.3', native: false, path: '/r/node_modules/typescript/bin/tsc' };

function figures(overrides: Partial<RunFigures> = {}): RunFigures {
  return {
    status: 'ok', exitCode: 0, signal: null, wallMs: 1000, cpuMs: 1100, peakRssBytes: 200 * MiB, peakHeapUsedBytes: 100 * MiB,
    retainedHeapBytes: 20 * MiB, heapLimitBytes: 4096 * MiB, gcCount: 10, gcMs: 50, goHeapPeakBytes: null, goHeapLiveBytes: null,
    diagnostics: { files: 10 }, parallel: false, ...overrides,
  };
}

function entry(key: string, run: number, overrides: Partial<RunFigures> = {}): JournalEntry {
  return { schemaVersion: 1, key, name: key, dir: `packages/${key}`, run, compiler: TS6, task: 'tsc -p tsconfig.json --noEmit', figures: figures(overrides) };
}

test('median takes the middle value, or the rounded mean of the two middle ones', () => {
  for (const [values, expected] of [[[3], 3], [[5, 1, 3], 3], [[1, 2, 3, 10], 3], [[1, 2], 2]] as const) {
    assert.equal(median(values), expected, JSON.stringify(values));
  }
});

test('a package gets the worst status of its runs', () => {
  const cases: Array<[RunStatus[], RunStatus]> = [
    [['ok', 'ok'], 'ok'],
    [['ok', 'failed'], 'failed'],
    [['failed', 'crashed'], 'crashed'],
    [['killed', 'timeout'], 'timeout'],
    [['timeout', 'oom', 'ok'], 'oom'],
  ];
  for (const [statuses, expected] of cases) assert.equal(worstStatus(statuses), expected, statuses.join());
});

test('summarizeRuns gives medians and spreads, keeps absent figures null and marks parallel runs', () => {
  const summary = summarizeRuns([
    figures({ wallMs: 900, peakRssBytes: 210 * MiB }),
    figures({ wallMs: 1500, peakRssBytes: 190 * MiB, parallel: true }),
    figures({ wallMs: 1000, peakRssBytes: 200 * MiB, status: 'failed', exitCode: 2 }),
  ]);
  assert.equal(summary.status, 'failed');
  assert.equal(summary.exitCode, 2);
  assert.equal(summary.wallMs, 1000);
  assert.equal(summary.peakRssBytes, 200 * MiB);
  assert.deepEqual(summary.spread.peakRssBytes, { median: 200 * MiB, min: 190 * MiB, max: 210 * MiB });
  assert.equal(summary.goHeapPeakBytes, null);
  assert.equal(summary.spread.goHeapPeakBytes, undefined);
  assert.equal(summary.parallel, true);
});

test('parseJournal reads what formatJournalLine wrote', () => {
  const entries = [entry('a', 1), entry('b', 1)];
  assert.deepEqual(parseJournal(entries.map(formatJournalLine).join(''), 'j.jsonl'), { entries });
});

test('parseJournal drops a last line cut off by an interrupted write, and says so', () => {
  const text = `${formatJournalLine(entry('a', 1))}${formatJournalLine(entry('b', 1)).slice(0, 40)}`;
  const parsed = parseJournal(text, 'j.jsonl');
  assert.equal(parsed.entries.length, 1);
  assert.match(parsed.note ?? '', /^j\.jsonl:2 was cut off/);
});

test('parseJournal refuses an unreadable line before the last one, or another schema, naming file:line', () => {
  const good = formatJournalLine(entry('a', 1));
  const cases: Array<[string, RegExp]> = [
    [`${good}{"broken\n${good}`, /^memtune: j\.jsonl:2 is not JSON/],
    [`${good}${JSON.stringify({ ...entry('b', 1), schemaVersion: 2 })}\n`, /^memtune: j\.jsonl:2 is schemaVersion 2, expected 1\.\nDelete j\.jsonl/],
    [`{"schemaVersion":1}\n${good}`, /^memtune: j\.jsonl:1 is not a memtune journal entry/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseJournal(text, 'j.jsonl'), (error: unknown) => error instanceof UsageError && message.test(error.message));
  }
});

test('missingRuns lists the runs the journal does not have', () => {
  const entries = [entry('a', 1), entry('a', 3), entry('b', 2)];
  assert.deepEqual(missingRuns('a', entries, 3), [2]);
  assert.deepEqual(missingRuns('b', entries, 2), [1]);
  assert.deepEqual(missingRuns('c', entries, 2), [1, 2]);
});

test('buildReport keeps plan order, only packages with runs, at most --runs of them, and finds the broken ones', () => {
  const environment: BenchEnvironment = {
    node: 'v20', platform: 'linux', arch: 'x64', cpu: { model: 'x', count: 2 }, memoryLimit: { bytes: 1, source: 'env', detail: 'E' }, gitCommit: null, compilers: [],
  };
  const target = (key: string) => ({ key, name: key, dir: `packages/${key}`, task: 'tsc', compiler: TS6 });
  const report = buildReport({
    generatedAt: 'now', root: '/r', environment,
    options: { runs: 1, concurrency: 1, budgetBytes: 1, warm: false, script: null, timeoutMs: 1 },
    targets: [target('b'), target('a'), target('c')],
    entries: [entry('a', 1), entry('b', 2, { status: 'oom', exitCode: null, signal: 'SIGABRT' }), entry('b', 1), entry('a', 2)],
    skipped: [],
  });
  assert.deepEqual(report.packages.map((pkg) => [pkg.name, pkg.runs.length]), [['b', 1], ['a', 1]]);
  assert.equal(report.packages[0]?.status, 'ok', 'run 2 of b is beyond --runs 1');
  assert.deepEqual(brokenPackages(report), []);
  assert.notEqual(runKey('packages/a', 'tsc', '/x'), runKey('packages/a', 'tsc', '/y'));
});

test('parseTraceGcLine reads the GC lines of Node 20 and Node 26', () => {
  const lines: Array<[string, { atMs: number; pauseMs: number } | undefined]> = [
    ['[8257:0x1c4d7cb0]      347 ms: Mark-Compact 65.0 (83.2) -> 58.7 (93.7) MB, 85.47 / 0.00 ms  (average mu = 0.441, current mu = 0.146) allocation failure', { atMs: 347, pauseMs: 85.47 }],
    ['[8257:0x1c4d7cb0]      480 ms: Mark-Compact (reduce) 66.3 (94.0) -> 62.6 (65.2) MB, 121.04 / 0.00 ms  (+ 0.1 ms in 1 steps)', { atMs: 480, pauseMs: 121.04 }],
    ['[12640:0x15b52000]       17 ms: Scavenge 4.8 (5.6) -> 4.5 (6.4) MB, pooled: 0.0 MB, 1.21 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure;', { atMs: 17, pauseMs: 1.21 }],
    ['Files:                        168', undefined],
  ];
  for (const [line, expected] of lines) assert.deepEqual(parseTraceGcLine(line), expected, line);
  assert.equal(withoutTraceGc(`${lines[0]![0]}\nsrc/a.ts(1,1): error TS2322\n`), 'src/a.ts(1,1): error TS2322\n');
});

test('GcThrashDetector reports thrash only once GC filled 70 % of a whole 4 s window', () => {
  const busy = new GcThrashDetector();
  let verdict;
  for (let at = 0; at <= 6000 && !verdict; at += 100) verdict = busy.observe({ atMs: at, pauseMs: 80 });
  assert.ok(verdict && verdict.gcMs >= 2800, JSON.stringify(verdict));
  const healthy = new GcThrashDetector();
  for (let at = 0; at <= 60_000; at += 100) assert.equal(healthy.observe({ atMs: at, pauseMs: 60 }), undefined);
  const early = new GcThrashDetector();
  for (let at = 0; at < 4000; at += 10) assert.equal(early.observe({ atMs: at, pauseMs: 10 }), undefined, 'not before a whole window');
});

test('withoutDiagnostics leaves the compiler messages and drops the --extendedDiagnostics block', () => {
  const output = "src/index.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.\nFiles:             168\nMemory used:    68477K\nCheck time:        0.10s\n";
  assert.equal(withoutDiagnostics(output), "src/index.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.\n");
});

function result(name: string, overrides: Partial<PackageResult> = {}): PackageResult {
  const run = figures();
  return { name, dir: `packages/${name}`, task: 'tsc -p tsconfig.json --noEmit', compiler: TS6, ...summarizeRuns([run]), runs: [run], ...overrides };
}

function reportWith(packages: PackageResult[], overrides: Partial<BenchReport> = {}): BenchReport {
  return {
    schemaVersion: 1, generatedAt: '2026-11-01T00:00:00.000Z', root: '/r',
    environment: { node: 'v20', platform: 'linux', arch: 'x64', cpu: { model: 'x', count: 2 }, memoryLimit: { bytes: 1, source: 'env', detail: 'E' }, gitCommit: 'abcdef1234', compilers: [] },
    options: { runs: 1, concurrency: 1, budgetBytes: 1, warm: false, script: null, timeoutMs: 1 },
    packages, skipped: [], solution: null, ...overrides,
  };
}

test('compareWithBaseline flags a figure that grew more than the allowed share and the noise floor', () => {
  const baseline = reportWith([
    result('grew', { peakRssBytes: 200 * MiB }),
    result('small', { peakRssBytes: 20 * MiB }),
    result('steady', { peakRssBytes: 200 * MiB }),
    result('oom', { peakRssBytes: 100 * MiB }),
    result('gone'),
  ]);
  const now = reportWith([
    result('grew', { peakRssBytes: 240 * MiB }),
    result('small', { peakRssBytes: 27 * MiB }),
    result('steady', { peakRssBytes: 215 * MiB, compiler: { ...TS6, version: '7.0.2', native: true } }),
    result('oom', { status: 'oom', peakRssBytes: 400 * MiB }),
    result('fresh'),
  ]);
  const comparison = compareWithBaseline(now, baseline, 'base.json', 0.1);
  const byName = new Map(comparison.packages.map((pkg) => [pkg.name, pkg]));
  assert.equal(comparison.regressions, 1);
  assert.deepEqual(byName.get('grew')?.deltas.find((delta) => delta.field === 'peakRssBytes'), { field: 'peakRssBytes', before: 200 * MiB, after: 240 * MiB, growth: 0.2, over: true });
  assert.equal(byName.get('small')?.deltas[0]?.over, false, '+35 % but only 7 MiB: under the noise floor');
  assert.equal(byName.get('steady')?.deltas[0]?.over, false);
  assert.equal(byName.get('steady')?.compilerChange, '6.0.3 → 7.0.2');
  assert.deepEqual(byName.get('oom')?.deltas, [], 'a run that did not finish is no basis');
  assert.equal(byName.get('fresh')?.state, 'new');
  assert.equal(byName.get('gone')?.state, 'gone');
  assert.equal(comparison.gitCommit, 'abcdef1234');
  const md = renderMarkdownReport({ ...now, baseline: comparison });
  assert.match(md, /## Compared with the baseline\n\nbase\.json \(commit abcdef1, generated 2026-11-01T00:00:00\.000Z\): a figure regresses when it grows more than \+10 % and more than 8 MiB\. 1 package regressed/);
  assert.match(md, /\| grew \| peak RSS 200 → 240 MiB \(\+20 %\) ⚠ · /);
  assert.match(md, /\| steady \| peak RSS 200 → 215 MiB \(\+8 %\) · .* · TypeScript 6\.0\.3 → 7\.0\.2 \|/);
  assert.match(md, /\| fresh \| new: not in the baseline \|/);
});

test('parseBaseline refuses what is not a memtune report of this schema, and parseMaxGrowth what is not a percentage', () => {
  const cases: Array<[string, RegExp]> = [
    ['{', /^memtune: --baseline "b\.json" is not JSON/],
    ['[]', /^memtune: --baseline "b\.json" is not a memtune report/],
    [JSON.stringify({ ...reportWith([]), schemaVersion: 2 }), /^memtune: --baseline "b\.json" has schemaVersion 2; this memtune reads 1\.\nMeasure the baseline again/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseBaseline(text, 'b.json'), (error: unknown) => error instanceof UsageError && message.test(error.message), text);
  }
  assert.equal(parseBaseline(JSON.stringify(reportWith([result('a')])), 'b.json').packages[0]?.name, 'a');
  for (const [text, expected] of [['10%', 0.1], ['25', 0.25], [' 5 % ', 0.05]] as const) assert.equal(parseMaxGrowth(text), expected, text);
  for (const text of ['0%', '-5%', 'ten', '5MiB']) {
    assert.throws(() => parseMaxGrowth(text), (error: unknown) => error instanceof UsageError && /^memtune: --max-growth ".*" is not a percentage/.test(error.message), text);
  }
});
