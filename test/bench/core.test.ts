import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedGrowth, comparableBaseline, compareWithBaseline, parseBaseline, parseMaxGrowth } from '../../src/bench/baseline.js';
import { MESSAGE_LINES, RunOutput, withoutDiagnostics } from '../../src/bench/parse.js';
import { deltaText, renderMarkdownReport } from '../../src/bench/report/markdown.js';
import { DEFAULT_OPTIONS, describeOptions, formatJournalHeader, formatJournalLine, parseJournal, resumeOptions, runKey } from '../../src/bench/journal.js';
import { brokenPackages, buildReport, missingRuns } from '../../src/bench/report/report.js';
import { markUncheckedRuns, median, summarizeRuns, worstStatus } from '../../src/bench/stats.js';
import {
  SCHEMA_VERSION,
  type BenchEnvironment,
  type BenchReport,
  type CompilerInfo,
  type JournalEntry,
  type PackageResult,
  type RunFigures,
  type RunStatus,
} from '../../src/bench/types.js';
import { GcThrashDetector, PROBE_THRASH, TraceGcHeaps, parseTraceGcLine, withoutTraceGc, type GcEvent } from '../../src/bench/gc-trace.js';
import { UsageError, formatError } from '../../src/shared/errors.js';

const MiB = 1024 * 1024;
const TS6: CompilerInfo = { name: 'typescript', version: '6.0.3', native: false, path: '/r/node_modules/typescript/bin/tsc' };

function figures(overrides: Partial<RunFigures> = {}): RunFigures {
  return {
    status: 'ok',
    exitCode: 0,
    signal: null,
    wallMs: 1000,
    cpuMs: 1100,
    peakRssBytes: 200 * MiB,
    peakHeapUsedBytes: 100 * MiB,
    retainedHeapBytes: 20 * MiB,
    heapLimitBytes: 4096 * MiB,
    gcCount: 10,
    gcMs: 50,
    goHeapPeakBytes: null,
    goHeapLiveBytes: null,
    diagnostics: { files: 10 },
    parallel: false,
    ...overrides,
  };
}

function entry(key: string, run: number, overrides: Partial<RunFigures> = {}): JournalEntry {
  return { schemaVersion: SCHEMA_VERSION, key, name: key, dir: `packages/${key}`, run, compiler: TS6, task: 'tsc -p tsconfig.json --noEmit', figures: figures(overrides) };
}

test('median takes the middle value, or the rounded mean of the two middle ones', () => {
  for (const [values, expected] of [
    [[3], 3],
    [[5, 1, 3], 3],
    [[1, 2, 3, 10], 3],
    [[1, 2], 2],
  ] as const) {
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
  assert.deepEqual(summary.spread.peakRssBytes, { median: 200 * MiB, min: 190 * MiB, max: 210 * MiB, unsteady: true });
  assert.equal(summary.spread.retainedHeapBytes?.unsteady, false, 'the same in every run');
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
    [`${good}{"broken\n${good}`, /^memtune: j\.jsonl:2: not JSON/],
    [`${good}${JSON.stringify({ ...entry('b', 1), schemaVersion: 1 })}\n`, /^memtune: j\.jsonl:2: schemaVersion 1, expected 2\.\nDelete j\.jsonl/],
    [`{"schemaVersion":2}\n${good}`, /^memtune: j\.jsonl:1: not a memtune journal entry/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseJournal(text, 'j.jsonl'),
      (error: unknown) => error instanceof UsageError && message.test(formatError(error)),
    );
  }
});

test('a journal written before --profile resumes as a bench without it', () => {
  const { profile: _profile, ...older } = { ...DEFAULT_OPTIONS, runs: 2 };
  const text = `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, options: older })}\n${formatJournalLine(entry('a', 1))}`;
  assert.deepEqual(parseJournal(text, 'j.jsonl').options, { ...older, profile: null });
});

test('parseJournal reads the options line, and gives the whole lines a journal cut off mid-write must be cut back to', () => {
  const options = { ...DEFAULT_OPTIONS, filters: ['a'], runs: 2 };
  const whole = formatJournalHeader(options) + formatJournalLine(entry('a', 1));
  assert.deepEqual(parseJournal(whole, 'j.jsonl'), { entries: [entry('a', 1)], options });
  const cut = parseJournal(`${whole}${formatJournalLine(entry('a', 2)).slice(0, 30)}`, 'j.jsonl');
  assert.deepEqual([cut.entries.length, cut.repaired], [1, whole], 'the cut-off line goes, the rest stays as it was');
  assert.match(cut.note ?? '', /^j\.jsonl:3 was cut off by an interrupted write; that run is measured again$/);
  assert.equal(parseJournal(whole.slice(0, -1), 'j.jsonl').repaired, whole, 'a whole last line without its newline gets it back');
  assert.equal(parseJournal(formatJournalHeader(options).slice(0, 20), 'j.jsonl').repaired, '', 'a cut-off options line leaves an empty journal');
  assert.throws(
    () => parseJournal(formatJournalLine(entry('a', 1)) + formatJournalHeader(options), 'j.jsonl'),
    (error: unknown) => error instanceof UsageError && /^memtune: j\.jsonl:2: not a memtune journal entry/.test(formatError(error)),
    'the options line is the first or none',
  );
});

test('resumeOptions continues with the recorded options and refuses a given one that differs, naming both', () => {
  const recorded = { ...DEFAULT_OPTIONS, filters: ['a', 'b'], runs: 2, compiler: '/r/ts' };
  assert.deepEqual(resumeOptions(recorded, {}, 'j.jsonl'), recorded);
  assert.deepEqual(resumeOptions(recorded, { filters: ['b', 'a'], runs: 2, compiler: '/r/ts' }, 'j.jsonl'), recorded, 'the same, in another order');
  const cases: Array<[Partial<typeof recorded>, RegExp]> = [
    [{ runs: 3 }, /^memtune: --runs 3: this bench was started with --runs 2 \(j\.jsonl\)\.\nLeave --runs out to resume it, or run without --resume to start a new bench\.$/],
    [{ filters: ['c'] }, /^memtune: --filter c: this bench was started with --filter a --filter b \(j\.jsonl\)\.\nLeave --filter out/],
    [{ compiler: '/other/ts' }, /^memtune: --compiler \/other\/ts: this bench was started with --compiler \/r\/ts /],
    [{ solution: true }, /^memtune: --solution: this bench was started without --solution /],
    [{ timeoutMs: 5000 }, /^memtune: --timeout 5: this bench was started with --timeout 600 /],
    [{ baseline: '/r/b.json' }, /^memtune: --baseline \/r\/b\.json: this bench was started without --baseline /],
    [{ maxGrowth: 0.2 }, /^memtune: --max-growth 20%: this bench was started with --max-growth 10% /],
    [{ profile: 'typecheck' }, /^memtune: --profile typecheck: this bench was started without --profile /],
  ];
  for (const [given, message] of cases) {
    assert.throws(
      () => resumeOptions(recorded, given, 'j.jsonl'),
      (error: unknown) => error instanceof UsageError && message.test(formatError(error)),
      JSON.stringify(given),
    );
  }
  assert.equal(describeOptions({ ...recorded, dir: 'packages/a' }), '--filter a --filter b --compiler /r/ts --runs 2 (started in packages/a)');
  assert.equal(describeOptions(DEFAULT_OPTIONS), 'the default options');
});

test('missingRuns lists the runs the journal does not have', () => {
  const entries = [entry('a', 1), entry('a', 3), entry('b', 2)];
  assert.deepEqual(missingRuns('a', entries, 3), [2]);
  assert.deepEqual(missingRuns('b', entries, 2), [1]);
  assert.deepEqual(missingRuns('c', entries, 2), [1, 2]);
});

const ENVIRONMENT: BenchEnvironment = {
  node: 'v20',
  platform: 'linux',
  arch: 'x64',
  cpu: { model: 'x', count: 2 },
  memoryLimit: { bytes: 1, source: 'env', detail: 'E' },
  gitCommit: null,
  compilers: [],
};
const target = (key: string) => ({ key, name: key, dir: `packages/${key}`, task: 'tsc', compiler: TS6, profile: 'typecheck' });

test('buildReport keeps plan order, only packages with runs, at most --runs of them, and finds the broken ones', () => {
  const report = buildReport({
    generatedAt: 'now',
    root: '/r',
    environment: ENVIRONMENT,
    options: { runs: 1, concurrency: 1, budgetBytes: 1, warm: false, script: null, timeoutMs: 1 },
    targets: [target('b'), target('a'), target('c')],
    entries: [entry('a', 1), entry('b', 2, { status: 'oom', exitCode: null, signal: 'SIGABRT' }), entry('b', 1), entry('a', 2)],
    skipped: [],
  });
  assert.deepEqual(
    report.packages.map((pkg) => [pkg.name, pkg.runs.length]),
    [
      ['b', 1],
      ['a', 1],
    ],
  );
  assert.equal(report.packages[0]?.status, 'ok', 'run 2 of b is beyond --runs 1');
  assert.deepEqual(brokenPackages(report), []);
  assert.notEqual(runKey('packages/a', 'tsc', '/x'), runKey('packages/a', 'tsc', '/y'));
});

test('parseTraceGcLine reads the GC lines of Node 20 and Node 26, with the used heap before and after and whether it was a full GC', () => {
  const lines: Array<[string, Partial<GcEvent> | undefined]> = [
    [
      '[8257:0x1c4d7cb0]      347 ms: Mark-Compact 65.0 (83.2) -> 58.7 (93.7) MB, 85.47 / 0.00 ms  (average mu = 0.441, current mu = 0.146) allocation failure',
      { pid: 8257, atMs: 347, pauseMs: 85.47, beforeBytes: 65 * MiB, afterBytes: Math.round(58.7 * MiB), full: true },
    ],
    ['[8257:0x1c4d7cb0]      480 ms: Mark-Compact (reduce) 66.3 (94.0) -> 62.6 (65.2) MB, 121.04 / 0.00 ms  (+ 0.1 ms in 1 steps)', { atMs: 480, pauseMs: 121.04 }],
    [
      '[12640:0x15b52000]       17 ms: Scavenge 4.8 (5.6) -> 4.5 (6.4) MB, pooled: 0.0 MB, 1.21 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure;',
      { pid: 12640, atMs: 17, pauseMs: 1.21, full: false },
    ],
    [
      '[6327:0x376cefe0]      708 ms: Mark-Compact 111.4 (144.8) -> 86.3 (119.9) MB, 145.43 / 0.01 ms  (average mu = 0.226, current mu = 0.226) testing; GC in old space requested',
      { beforeBytes: Math.round(111.4 * MiB), afterBytes: Math.round(86.3 * MiB), full: true, incrementalMs: 0 },
    ],
    [
      '[10033:0xad49f00]    17106 ms: Mark-Compact (reduce) 322.3 (341.8) -> 316.5 (326.3) MB, 13.06 / 0.00 ms  (+ 366.5 ms in 50 steps since start of marking, biggest step 55.9 ms, walltime since start of marking 493 ms) (average mu = 0.687, current mu = 0.573) finalize incremental marking via stack guard; GC in old space requested',
      { atMs: 17106, pauseMs: 13.06, incrementalMs: 366.5, afterBytes: Math.round(316.5 * MiB), full: true },
    ],
    ['Files:                        168', undefined],
  ];
  for (const [line, expected] of lines) {
    const event = parseTraceGcLine(line);
    if (expected === undefined) assert.equal(event, undefined, line);
    else assert.deepEqual(Object.fromEntries(Object.keys(expected).map((key) => [key, event?.[key as keyof GcEvent]])), expected, line);
  }
  assert.equal(withoutTraceGc(`${lines[0]![0]}\nsrc/a.ts(1,1): error TS2322\n`), 'src/a.ts(1,1): error TS2322\n');
});

test("TraceGcHeaps takes each process's largest heap before a GC, its GCs, and the largest heap left after a full GC", () => {
  const heaps = new TraceGcHeaps();
  const gc = (pid: number, before: number, after: number, pauseMs: number, full = false) =>
    heaps.observe({ pid, atMs: 0, pauseMs, incrementalMs: 0, beforeBytes: before * MiB, afterBytes: after * MiB, full });
  gc(1, 50, 45, 2);
  gc(1, 120, 60, 10, true);
  gc(1, 90, 40, 30, true);
  gc(1, 100, 95, 1);
  gc(2, 10, 5, 1);
  assert.deepEqual(heaps.byPid.get(1), { peakUsedBytes: 120 * MiB, gcCount: 4, gcMs: 43, retainedBytes: 60 * MiB });
  assert.deepEqual(heaps.byPid.get(2), { peakUsedBytes: 10 * MiB, gcCount: 1, gcMs: 1, retainedBytes: null }, 'no full GC: nothing known to be live');
});

test('RunOutput keeps each stream whole: Go GC lines on stderr never land inside a message on stdout', () => {
  const output = new RunOutput();
  // The native compiler prints a type error on stdout while its runtime prints gctrace on stderr, in chunks that cut lines.
  output.write('stdout', "src/a.ts(3,7): error TS2322: Type 'string' is not ");
  output.write('stderr', 'gc 1 @0.010s 4%: 0.1+1.2+0.01 ms clock, 0.2+0/0.5/1+0.02 ms cpu, 4->5->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 4 P\ngc 2 @0.0');
  output.write('stdout', "assignable to type 'number'.\nsrc/b.ts(1,1): error TS2304: Cannot find name 'x'.\nFiles:  12\nInstantiations:  40\n");
  output.write('stderr', '20s 5%: 0.1+1.2+0.01 ms clock, 0.2+0/0.5/1+0.02 ms cpu, 9->10->6 MB, 10 MB goal, 0 MB stacks, 0 MB globals, 4 P\n');
  output.write('stdout', '[77:0x1]      5 ms: Scavenge 4.8 (5.6) -> 4.5 (6.4) MB, 1.21 / 0.00 ms allocation failure;\nCheck time:  0.50s');
  output.end();
  assert.equal(output.messages('first'), "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\nsrc/b.ts(1,1): error TS2304: Cannot find name 'x'.");
  assert.deepEqual(output.go, { peakBytes: 10 * MiB, liveBytes: 6 * MiB, gcCount: 2 });
  assert.deepEqual(output.diagnostics, { files: 12, instantiations: 40, checkTimeMs: 500 });
  assert.equal(output.heaps.byPid.get(77)?.peakUsedBytes, Math.round(4.8 * MiB));
  assert.equal(output.configError, false);
});

test('RunOutput keeps the first 20 lines of messages for errors and the last 20 for a run that stopped, and tells config errors and out-of-memory', () => {
  const output = new RunOutput();
  for (let line = 1; line <= 100; line++) output.write('stdout', `src/a.ts(${line},1): error TS2322: line ${line}\n`);
  output.write('stderr', 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n');
  output.end();
  assert.equal(output.messages('first').split('\n').length, MESSAGE_LINES);
  assert.match(output.messages('first'), /^src\/a\.ts\(1,1\)/);
  assert.match(output.messages('last'), /Reached heap limit/);
  assert.equal(output.outOfMemory, true);
  for (const line of [
    "tsconfig.json(2,1): error TS1005: ']' expected.",
    "error TS5083: Cannot read file '/r/missing.json'.",
    "b/tsconfig.json(1,12): error TS6053: File '@nope/cfg/tsconfig.json' not found.",
    "\x1b[96mtsconfig.json\x1b[0m:\x1b[93m3\x1b[0m:\x1b[93m5\x1b[0m - \x1b[91merror\x1b[0m\x1b[90m TS5023: \x1b[0mUnknown compiler option 'x'.",
  ]) {
    const config = new RunOutput();
    config.write('stdout', `${line}\n`);
    assert.equal(config.configError, true, line);
  }
  const typeError = new RunOutput();
  typeError.write('stdout', "src/index.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.\n");
  assert.equal(typeError.configError, false);
});

test('a run that checked nothing where another run of the package did is no-check, never a figure', () => {
  const cold = figures({ diagnostics: { files: 10, instantiations: 500, checkTimeMs: 300 } });
  const warm = figures({ diagnostics: { files: 10, instantiations: 0, checkTimeMs: 0 } });
  const marked = markUncheckedRuns([cold, warm, { ...cold }]);
  assert.deepEqual(
    marked.map((run) => run.status),
    ['ok', 'no-check', 'ok'],
  );
  assert.match(marked[1]!.messages!, /checked nothing \(0 instantiations, check time 0 ms, where another run of the package had 500 instantiations\)/);
  // Measured runs carry no counts: their CPU time against the unmeasured counting run, itself a cold check.
  const counting = figures({ cpuMs: 4000, diagnostics: { files: 10, instantiations: 500 } });
  const noCounts = (cpuMs: number) => figures({ cpuMs, diagnostics: {} });
  const byCpu = markUncheckedRuns([noCounts(3900), noCounts(700), noCounts(4300)], counting);
  assert.deepEqual(
    byCpu.map((run) => run.status),
    ['ok', 'no-check', 'ok'],
  );
  assert.match(byCpu[1]!.messages!, /700 ms of CPU, where a cold check of the package took 4000 ms/);
  const short = figures({ cpuMs: 630, diagnostics: { files: 10, instantiations: 500 } });
  assert.deepEqual(
    markUncheckedRuns([noCounts(290)], short).map((run) => run.status),
    ['ok'],
    'too short a check for /proc samples of CPU time to tell',
  );
  const tiny = figures({ diagnostics: { files: 1, instantiations: 0, checkTimeMs: 0 } });
  assert.deepEqual(
    markUncheckedRuns([tiny, tiny]).map((run) => run.status),
    ['ok', 'ok'],
    'a package with nothing to instantiate is not flagged',
  );
  const report = buildReport({
    generatedAt: 'now',
    root: '/r',
    environment: ENVIRONMENT,
    options: { runs: 2, concurrency: 1, budgetBytes: 1, warm: false, script: null, timeoutMs: 1 },
    targets: [{ ...target('a') }],
    entries: [entry('a', 1, cold), entry('a', 2, warm)],
    skipped: [],
  });
  assert.equal(report.packages[0]?.status, 'no-check');
  assert.deepEqual(
    brokenPackages(report).map((pkg) => pkg.name),
    ['a'],
  );
  const warmBench = buildReport({
    generatedAt: 'now',
    root: '/r',
    environment: ENVIRONMENT,
    options: { runs: 2, concurrency: 1, budgetBytes: 1, warm: true, script: null, timeoutMs: 1 },
    targets: [target('a')],
    entries: [entry('a', 1, cold), entry('a', 2, warm)],
    skipped: [],
  });
  assert.equal(warmBench.packages[0]?.status, 'ok', '--warm measures the re-check on purpose');
});

test('GcThrashDetector reports thrash only once GC filled 70 % of a whole 4 s window', () => {
  const busy = new GcThrashDetector();
  let verdict: ReturnType<GcThrashDetector['observe']>;
  for (let at = 0; at <= 6000 && !verdict; at += 100) verdict = busy.observe({ atMs: at, pauseMs: 80 });
  assert.ok(verdict && verdict.gcMs >= 2800, JSON.stringify(verdict));
  const healthy = new GcThrashDetector();
  for (let at = 0; at <= 60_000; at += 100) assert.equal(healthy.observe({ atMs: at, pauseMs: 60 }), undefined);
  const early = new GcThrashDetector();
  for (let at = 0; at < 4000; at += 10) assert.equal(early.observe({ atMs: at, pauseMs: 10 }), undefined, 'not before a whole window');
  const marking = new GcThrashDetector();
  for (let at = 0; at <= 60_000; at += 100) assert.equal(marking.observe({ atMs: at, pauseMs: 5, incrementalMs: 90 }), undefined, 'a run: marking is not counted');
});

test("a --find-min-heap probe's guard counts incremental marking: half of the last 2 s in GC stops it", () => {
  const crawling = new GcThrashDetector(PROBE_THRASH);
  let verdict: ReturnType<GcThrashDetector['observe']>;
  // A near-limit Mark-Compact every 600 ms: a short pause after 300 ms of incremental marking, as zod's at 330 MiB.
  for (let at = 0; at <= 10_000 && !verdict; at += 600) verdict = crawling.observe({ atMs: at, pauseMs: 15, incrementalMs: 300 });
  assert.ok(verdict && verdict.windowMs === 2000 && verdict.gcMs >= 1000, JSON.stringify(verdict));
  const working = new GcThrashDetector(PROBE_THRASH);
  for (let at = 0; at <= 60_000; at += 600) assert.equal(working.observe({ atMs: at, pauseMs: 15, incrementalMs: 150 }), undefined, 'a third of the time in GC goes on');
});

test('withoutDiagnostics leaves the compiler messages and drops the --extendedDiagnostics block', () => {
  const output = "src/index.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.\nFiles:             168\nMemory used:    68477K\nCheck time:        0.10s\n";
  assert.equal(withoutDiagnostics(output), "src/index.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.\n");
});

function result(name: string, overrides: Partial<PackageResult> = {}, runs: RunFigures[] = [figures(overrides as Partial<RunFigures>)]): PackageResult {
  return { name, dir: `packages/${name}`, task: 'tsc -p tsconfig.json --noEmit', compiler: TS6, profile: 'typecheck', ...summarizeRuns(runs), runs, ...overrides };
}

function reportWith(packages: PackageResult[], overrides: Partial<BenchReport> = {}): BenchReport {
  return {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: '2026-11-01T00:00:00.000Z',
    root: '/r',
    environment: {
      node: 'v20',
      platform: 'linux',
      arch: 'x64',
      cpu: { model: 'x', count: 2 },
      memoryLimit: { bytes: 1, source: 'env', detail: 'E' },
      gitCommit: 'abcdef1234',
      compilers: [],
    },
    options: { runs: 1, concurrency: 1, budgetBytes: 1, warm: false, script: null, timeoutMs: 1 },
    packages,
    skipped: [],
    solution: null,
    recommendations: { heap: [], concurrency: null, notes: [] },
    ...overrides,
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
  assert.deepEqual(
    byName.get('grew')?.deltas.find((delta) => delta.field === 'peakRssBytes'),
    { field: 'peakRssBytes', before: 200 * MiB, after: 240 * MiB, growth: 0.2, over: true, allowedBytes: 20 * MiB, allowedBy: 'max-growth' },
  );
  assert.equal(byName.get('small')?.deltas[0]?.over, false, '+35 % but only 7 MiB: under the noise floor');
  assert.equal(byName.get('steady')?.deltas[0]?.over, false);
  assert.equal(byName.get('steady')?.compilerChange, '6.0.3 → 7.0.2');
  assert.deepEqual(byName.get('oom')?.deltas, [], 'a run that did not finish is no basis');
  assert.equal(byName.get('fresh')?.state, 'new');
  assert.equal(byName.get('gone')?.state, 'gone');
  assert.equal(comparison.gitCommit, 'abcdef1234');
  const md = renderMarkdownReport({ ...now, baseline: comparison });
  assert.match(
    md,
    /## Compared with the baseline\n\nbase\.json \(commit abcdef1, generated 2026-11-01T00:00:00\.000Z\): a figure regresses when it grows more than \+10 %, more than 8 MiB and more than the baseline's own spread \(max − min of its runs\)\. 1 package regressed/,
  );
  assert.match(md, /\| grew \| peak RSS 200 → 240 MiB \(\+20 %\), allowed \+20 MiB: max-growth ⚠ · /);
  assert.match(md, /\| steady \| peak RSS 200 → 215 MiB \(\+8 %\), allowed \+20 MiB: max-growth · .* · TypeScript 6\.0\.3 → 7\.0\.2 \|/);
  assert.match(md, /\| fresh \| new: not in the baseline \|/);
});

test('the baseline gate compares the worst run: a median that held while the largest run grew is a regression', () => {
  const runs = (...peaks: number[]) => peaks.map((peak) => figures({ peakRssBytes: peak * MiB }));
  const baseline = reportWith([result('a', {}, runs(200, 200, 200))]);
  const now = reportWith([result('a', {}, runs(200, 200, 240))]);
  const delta = compareWithBaseline(now, baseline, 'base.json', 0.1).packages[0]?.deltas.find((d) => d.field === 'peakRssBytes');
  assert.deepEqual(delta, { field: 'peakRssBytes', before: 200 * MiB, after: 240 * MiB, growth: 0.2, over: true, allowedBytes: 20 * MiB, allowedBy: 'max-growth' });
});

test("the baseline gate allows the baseline's own spread: a worst run inside it does not regress, one past it does", () => {
  const runs = (...peaks: number[]) => peaks.map((peak) => figures({ peakRssBytes: peak * MiB }));
  // The baseline's runs moved by 30 MiB: more than 10 % of 200 MiB and more than the 8 MiB floor.
  const baseline = reportWith([result('a', {}, runs(200, 215, 230))]);
  const deltaOf = (...peaks: number[]) =>
    compareWithBaseline(reportWith([result('a', {}, runs(...peaks))]), baseline, 'base.json', 0.1).packages[0]?.deltas.find((d) => d.field === 'peakRssBytes');
  const inside = deltaOf(210, 240, 259);
  assert.equal(inside?.over, false, '+29 MiB is inside the 30 MiB the baseline moved by itself');
  assert.equal(inside?.allowedBytes, 30 * MiB);
  assert.equal(inside?.allowedBy, 'baseline spread');
  assert.equal(deltaOf(230, 250, 261)?.over, true, '+31 MiB is past it');
  assert.match(deltaText(deltaOf(230, 250, 261)!), /^peak RSS 230 → 261 MiB \(\+13 %\), allowed \+30 MiB: baseline spread ⚠$/);
  // A steady baseline falls back on the floor, then on --max-growth.
  assert.equal(allowedGrowth(50 * MiB, 1 * MiB, 0.1).allowedBy, 'noise floor');
  assert.deepEqual(allowedGrowth(500 * MiB, 1 * MiB, 0.1), { allowedBytes: 50 * MiB, allowedBy: 'max-growth' });
});

test('a baseline with no package in common, or another compiler major for a package, is refused naming both sides', () => {
  const baseline = reportWith([result('a'), result('b')]);
  const env = { environment: baseline.environment, runs: 1 };
  const task = baseline.packages[0]!.task;
  assert.throws(
    () => comparableBaseline(baseline, 'base.json', [{ name: 'other', task, compiler: { version: '6.0.3' } }], env),
    (error: UsageError) =>
      /^memtune: --baseline "base\.json": has no package in common with this run \(by name and task\): the baseline measured a \(.*\), b \(.*\); this run plans other \(.*\)\./.test(
        formatError(error),
      ),
  );
  assert.throws(
    () =>
      comparableBaseline(
        baseline,
        'base.json',
        [
          { name: 'a', task, compiler: { version: '6.0.3' } },
          { name: 'b', task, compiler: { version: '7.0.2' } },
        ],
        env,
      ),
    (error: UsageError) =>
      /^memtune: --baseline "base\.json": b: the baseline measured TypeScript 6\.0\.3, this run uses 7\.0\.2 \(another major\)\.\nAnother compiler major is another figure: measure a new baseline with --update-baseline\.$/.test(
        formatError(error),
      ),
  );
  assert.deepEqual(comparableBaseline(baseline, 'base.json', [{ name: 'a', task, compiler: { version: '6.0.1' } }], env), [], 'a minor or patch change is comparable');
});

test('a baseline from another Node major, CPU count, memory limit or run count is compared with a warning for each', () => {
  const baseline = reportWith([result('a')]);
  const warnings = comparableBaseline(baseline, 'base.json', [{ name: 'a', task: baseline.packages[0]!.task, compiler: { version: '6.0.3' } }], {
    environment: {
      node: 'v99.0.0',
      cpu: { ...baseline.environment.cpu, count: baseline.environment.cpu.count + 6 },
      memoryLimit: { ...baseline.environment.memoryLimit, bytes: 64 * MiB },
    },
    runs: 3,
  });
  assert.equal(warnings.length, 4, warnings.join('\n'));
  assert.match(warnings.join('\n'), /Node v20.*v99\.0\.0/);
  assert.match(warnings.join('\n'), /took 1 run\(s\) per package, this run 3/);
  const comparison = compareWithBaseline(reportWith([result('a')]), baseline, 'base.json', 0.1, warnings);
  assert.match(
    renderMarkdownReport({ ...reportWith([result('a')]), baseline: comparison }),
    /\n> ⚠ base\.json: the baseline ran on Node .*\n\n(> ⚠ .*\n\n){3}\| Package \| Change \|/,
  );
});

test("a memory limit a few MiB off the baseline's (machines of one kind) is no warning; 1 % or more is", () => {
  const baseline = reportWith([result('a')]);
  const planned = [{ name: 'a', task: baseline.packages[0]!.task, compiler: { version: '6.0.3' } }];
  const limit = baseline.environment.memoryLimit.bytes;
  const warningsAt = (bytes: number) =>
    comparableBaseline(baseline, 'base.json', planned, { environment: { ...baseline.environment, memoryLimit: { ...baseline.environment.memoryLimit, bytes } }, runs: 1 });
  assert.deepEqual(warningsAt(limit - Math.floor(limit / 200)), [], 'half a percent apart');
  assert.match(warningsAt(Math.floor(limit * 0.9)).join('\n'), /memory limit of \d+ MiB, this run \d+ MiB/);
});

test('a shard judges the baseline on the whole bench by package name, so an empty shard takes the same baseline as the others', () => {
  const baseline = reportWith([result('a'), { ...result('b (tsconfig.app.json)'), dir: 'b' }]);
  const env = { environment: baseline.environment, runs: 1 };
  const whole = [
    { name: 'a', compiler: { version: '6.0.3' } },
    { name: 'b', compiler: { version: '6.0.2' } },
  ];
  assert.deepEqual(comparableBaseline(baseline, 'base.json', [], env, whole), [], 'nothing planned in this shard, and still comparable');
  assert.throws(
    () => comparableBaseline(baseline, 'base.json', [], env, [{ name: 'b', compiler: { version: '7.0.2' } }]),
    (error: UsageError) => /b \(tsconfig\.app\.json\): the baseline measured TypeScript 6\.0\.3, this run uses 7\.0\.2/.test(formatError(error)),
    "another shard's package on another major is refused in every shard",
  );
  assert.throws(
    () => comparableBaseline(baseline, 'base.json', [], env, [{ name: 'c', compiler: { version: '6.0.3' } }]),
    (error: UsageError) => /has no package in common with this run .*this run plans c\./.test(formatError(error)),
  );
});

test('parseBaseline checks every field the bench reads and names the one that is wrong by its path', () => {
  const good = reportWith([result('a')]);
  const [a] = good.packages as unknown as Array<Record<string, unknown>>;
  const spread = (a!.spread as Record<string, unknown>).peakRssBytes as Record<string, unknown>;
  const cases: Array<[unknown, string[]]> = [
    [{ ...good, environment: null }, ['environment is null, not an object.']],
    [{ ...good, environment: { ...good.environment, gitCommit: 7 } }, ['environment.gitCommit is 7, not a string or null.']],
    [{ ...good, generatedAt: undefined }, ['generatedAt is missing, not a string.']],
    [{ ...good, packages: {} }, ['packages is {}, not an array.']],
    [{ ...good, packages: [null] }, ['packages[0] is null, not an object.']],
    [{ ...good, packages: [[]] }, ['packages[0] is [], not an object.']],
    [{ ...good, packages: [{ ...a, name: 1, status: 'fine' }] }, ['packages[0].name is 1, not a string.', 'packages[0].status is "fine", not a run status.']],
    [{ ...good, packages: [{ ...a, compiler: {} }] }, ['packages[0].compiler.version is missing, not a string.']],
    [{ ...good, packages: [{ ...a, spread: undefined }] }, ['packages[0].spread is missing, not an object.']],
    [{ ...good, packages: [{ ...a, goHeapPeakBytes: '300' }] }, ['packages[0].goHeapPeakBytes is "300", not a number or null.']],
    [{ ...good, packages: [{ ...a, spread: { peakRssBytes: { ...spread, max: '320' } } }] }, ['packages[0].spread.peakRssBytes.max is "320", not a number.']],
    [{ ...good, packages: [{ ...a, spread: { wallMs: null } }] }, ['packages[0].spread.wallMs is null, not an object.']],
    [{ ...good, solution: {} }, ['solution.name is missing, not a string.', 'solution.dir is missing, not a string.']],
  ];
  for (const [report, problems] of cases) {
    assert.throws(
      () => parseBaseline(JSON.stringify(report), 'b.json'),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.deepEqual(
          error.problems.slice(0, problems.length),
          problems.map((message) => ({ where: '--baseline "b.json"', message })),
        );
        return true;
      },
      JSON.stringify(report).slice(0, 80),
    );
  }
  const many = { ...good, packages: Array.from({ length: 12 }, () => null) };
  assert.throws(
    () => parseBaseline(JSON.stringify(many), 'b.json'),
    (error: unknown) => error instanceof UsageError && error.problems.length === 10 && error.problems[9]?.message === 'and 3 more fields.',
  );
});

test('parseBaseline refuses what is not a memtune report of this schema, and parseMaxGrowth what is not a percentage', () => {
  const cases: Array<[string, RegExp]> = [
    ['{', /^memtune: --baseline "b\.json": not JSON/],
    ['[]', /^memtune: --baseline "b\.json": not a memtune report/],
    [JSON.stringify({ ...reportWith([]), schemaVersion: 1 }), /^memtune: --baseline "b\.json": has schemaVersion 1; this memtune reads 2\.\nMeasure the baseline again/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseBaseline(text, 'b.json'),
      (error: unknown) => error instanceof UsageError && message.test(formatError(error)),
      text,
    );
  }
  assert.equal(parseBaseline(JSON.stringify(reportWith([result('a')])), 'b.json').packages[0]?.name, 'a');
  assert.equal(parseBaseline(JSON.stringify(reportWith([result('a')], { solution: result('(solution)') })), 'b.json').solution?.name, '(solution)');
  for (const [text, expected] of [
    ['10%', 0.1],
    ['25', 0.25],
    [' 5 % ', 0.05],
  ] as const)
    assert.equal(parseMaxGrowth(text), expected, text);
  for (const text of ['0%', '-5%', 'ten', '5MiB']) {
    assert.throws(
      () => parseMaxGrowth(text),
      (error: unknown) => error instanceof UsageError && /^memtune: --max-growth ".*": not a percentage/.test(formatError(error)),
      text,
    );
  }
});
