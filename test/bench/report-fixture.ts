import { recommend } from '../../src/bench/recommend.js';
import { SCHEMA_VERSION, type BenchReport, type PackageResult } from '../../src/bench/types.js';

const MiB = 1024 * 1024;

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
