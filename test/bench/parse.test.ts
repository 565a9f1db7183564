import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyExit, parseExtendedDiagnostics, parseGoGcTrace, withoutGcTrace } from '../../src/bench/parse.js';
import { estimatePeakRss, fitsBudget } from '../../src/bench/schedule.js';

const TS6 = `Files:                        168
Lines of Library:           11628
Lines of TypeScript:           74
Identifiers:                48342
Symbols:                    36495
Types:                        551
Instantiations:               446
Memory used:               68477K
Check time:                 0.10s
Total time:                 0.99s
`;
const TS7 = `Files:                   171
Lines:                 64481
Identifiers:           49735
Symbols:               36609
Types:                   356
Instantiations:            0
Memory used:          32400K
Memory allocs:        104878
Check time:           0.012s
Total time:           0.169s
`;

test('parseExtendedDiagnostics reads the JS compiler fields (5.x/6.x)', () => {
  assert.deepEqual(parseExtendedDiagnostics(TS6), {
    files: 168,
    lines: 74,
    identifiers: 48342,
    symbols: 36495,
    types: 551,
    instantiations: 446,
    memoryUsedBytes: 68477 * 1024,
    checkTimeMs: 100,
    totalTimeMs: 990,
  });
});

test('parseExtendedDiagnostics reads the native compiler fields (7.x)', () => {
  assert.deepEqual(parseExtendedDiagnostics(TS7), {
    files: 171,
    lines: 64481,
    identifiers: 49735,
    symbols: 36609,
    types: 356,
    instantiations: 0,
    memoryUsedBytes: 32400 * 1024,
    checkTimeMs: 12,
    totalTimeMs: 169,
  });
});

test('parseExtendedDiagnostics ignores type errors and other output', () => {
  assert.deepEqual(parseExtendedDiagnostics("src/a.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.\n"), {});
});

const GCTRACE = `gc 1 @0.028s 4%: 0.21+4.6+0.008 ms clock, 0.43+0.008/2.4/0+0.017 ms cpu, 3->4->2 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P
gc 2 @0.042s 9%: 1.8+6.3+0.005 ms clock, 3.6+1.3/5.4/0+0.011 ms cpu, 40->52->31 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P
Files: 3
gc 3 @0.059s 11%: 1.2+8.0+0.058 ms clock, 2.4+2.5/4.0/0+0.11 ms cpu, 48->49->38 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P
`;

test('parseGoGcTrace takes the largest heap seen and the largest live heap', () => {
  assert.deepEqual(parseGoGcTrace(GCTRACE), { peakBytes: 52 * 1024 * 1024, liveBytes: 38 * 1024 * 1024, gcCount: 3 });
  assert.equal(parseGoGcTrace('no trace here'), undefined);
  assert.equal(withoutGcTrace(GCTRACE), 'Files: 3\n');
});

const base = { exitCode: null, signal: null, timedOut: false, interrupted: false, outOfMemory: false, configError: false };
for (const [name, facts, status] of [
  ['exit 0 is ok', { ...base, exitCode: 0 }, 'ok'],
  ['type errors (exit 2) are failed', { ...base, exitCode: 2 }, 'failed'],
  ['SIGABRT at the V8 heap limit is oom', { ...base, signal: 'SIGABRT', outOfMemory: true }, 'oom'],
  ['exit 134 with the V8 message (through a shell) is oom', { ...base, exitCode: 134, outOfMemory: true }, 'oom'],
  ['a Go out-of-memory is oom', { ...base, exitCode: 2, outOfMemory: true }, 'oom'],
  ['errors in the tsconfig itself are config-error', { ...base, exitCode: 2, configError: true }, 'config-error'],
  ['SIGKILL from outside is killed (the OOM killer)', { ...base, signal: 'SIGKILL' }, 'killed'],
  ['our own time limit is timeout', { ...base, signal: 'SIGKILL', timedOut: true }, 'timeout'],
  ['SIGSEGV is crashed', { ...base, signal: 'SIGSEGV' }, 'crashed'],
] as const) {
  test(`classifyExit: ${name}`, () => assert.equal(classifyExit(facts), status));
}

test('fitsBudget always lets one run start, and never more than fits or the concurrency', () => {
  const GiB = 1024 ** 3;
  assert.equal(fitsBudget(10 * GiB, [], 1 * GiB, 2), true);
  assert.equal(fitsBudget(1 * GiB, [1 * GiB], 2 * GiB, 2), true);
  assert.equal(fitsBudget(1 * GiB, [1.5 * GiB], 2 * GiB, 2), false);
  assert.equal(fitsBudget(1, [1, 1], 10 * GiB, 2), false);
  assert.ok(estimatePeakRss(false, 1000) > estimatePeakRss(true, 1000));
});
