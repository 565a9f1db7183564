import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutDiagnostics } from '../src/core/bench-parse.js';
import { formatJournalLine, parseJournal, runKey } from '../src/core/bench-journal.js';
import { brokenPackages, buildReport, missingRuns } from '../src/core/bench-report.js';
import { median, summarizeRuns, worstStatus } from '../src/core/bench-stats.js';
import type { BenchEnvironment, CompilerInfo, JournalEntry, RunFigures, RunStatus } from '../src/core/bench-types.js';
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
