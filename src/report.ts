/**
 * `memtune/report`: the shape of memtune-report.json (and of a baseline), for scripts that read reports.
 * `import type { BenchReport } from 'memtune/report'`; the JSON Schema is `memtune/report/schema.json`.
 */
export type {
  BaselineComparison,
  BaselineDelta,
  BaselineField,
  BaselinePackage,
  BenchEnvironment,
  BenchReport,
  CompilerDiagnostics,
  CompilerInfo,
  ConcurrencyRecommendation,
  HeapRecommendation,
  PackageResult,
  Recommendations,
  RunFigures,
  RunStatus,
  SkippedPackage,
  Spread,
  SummaryField,
} from './bench/types.js';
export { BASELINE_FIELDS, SCHEMA_VERSION, SUMMARY_FIELDS } from './bench/types.js';
