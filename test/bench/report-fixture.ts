import { recommend } from '../../src/bench/recommend.js';
import { SCHEMA_VERSION, type BenchReport, type PackageResult, type RunFigures } from '../../src/bench/types.js';

const MiB = 1024 * 1024;

export const TS5 = { name: 'typescript', version: '5.9.3', native: false, path: '/x/typescript-5/bin/tsc' } as const;

/** One run with the figures of `result`. */
export function runOf(result: Omit<PackageResult, 'runs'>, overrides: Partial<RunFigures> = {}): RunFigures {
  return {
    status: result.status,
    exitCode: result.exitCode,
    signal: null,
    wallMs: result.wallMs,
    cpuMs: result.cpuMs,
    peakRssBytes: result.peakRssBytes,
    peakHeapUsedBytes: result.peakHeapUsedBytes,
    retainedHeapBytes: result.retainedHeapBytes,
    heapLimitBytes: result.heapLimitBytes,
    gcCount: result.gcCount,
    gcMs: result.gcMs,
    goHeapPeakBytes: result.goHeapPeakBytes,
    goHeapLiveBytes: result.goHeapLiveBytes,
    diagnostics: result.diagnostics,
    parallel: result.parallel,
    ...overrides,
  };
}

/** A package `packages/<name>` checked with TypeScript 5.9.3, one ok run: 300 MiB peak RSS, 200 MiB peak heap. */
export function packageOf(name: string, overrides: Partial<PackageResult> = {}): PackageResult {
  const base: Omit<PackageResult, 'runs'> = {
    name,
    dir: `packages/${name}`,
    task: 'tsc -p tsconfig.json --noEmit',
    compiler: TS5,
    profile: 'typecheck',
    status: 'ok',
    exitCode: 0,
    peakRssBytes: 300 * MiB,
    peakHeapUsedBytes: 200 * MiB,
    retainedHeapBytes: 120 * MiB,
    heapLimitBytes: 2048 * MiB,
    wallMs: 1234,
    cpuMs: 1500,
    gcCount: 10,
    gcMs: 50,
    goHeapPeakBytes: null,
    goHeapLiveBytes: null,
    diagnostics: { files: 168, types: 12345 },
    spread: {},
    parallel: false,
    ...overrides,
  };
  return { ...base, runs: overrides.runs ?? [runOf(base)] };
}

/** A whole report around `packages`, as a bench of this machine would write it, its recommendations computed. */
export function reportOf(packages: PackageResult[], overrides: Partial<BenchReport> = {}, options: Partial<BenchReport['options']> = {}): BenchReport {
  const report: Omit<BenchReport, 'recommendations'> = {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: '2026-11-22T10:00:00.000Z',
    root: '/repo',
    environment: {
      node: 'v20.20.2',
      platform: 'linux',
      arch: 'x64',
      cpu: { model: 'Test CPU', count: 4 },
      memoryLimit: { bytes: 24 * 1024 * MiB, source: 'cgroup', detail: '/sys/fs/cgroup/memory.max' },
      gitCommit: '0123456789abcdef0123456789abcdef01234567',
      compilers: [
        { version: '5.9.3', native: false },
        { version: '7.0.2', native: true },
      ],
    },
    options: { runs: 1, concurrency: 2, budgetBytes: 1000 * MiB, warm: false, script: null, timeoutMs: 600_000, ...options },
    packages,
    skipped: [],
    solution: null,
    ...overrides,
  };
  return { ...report, recommendations: overrides.recommendations ?? recommend(report) };
}
