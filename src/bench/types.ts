import type { CompilerInfo } from '../shared/compiler-info.js';

/** The shape of `memtune-report.json` and of each journal line. Bump SCHEMA_VERSION on any breaking change. */
export const SCHEMA_VERSION = 2;

export type { CompilerInfo };

/**
 * `no-check`: the compiler ended without checking anything where another run of the package did (a
 * warm re-check of old build info): not a figure. `config-error`: its compiler cannot read the tsconfig.
 */
export type RunStatus = 'ok' | 'failed' | 'oom' | 'timeout' | 'killed' | 'crashed' | 'no-check' | 'config-error';

/** What the compiler printed with --extendedDiagnostics; the fields differ per major, so all are optional. */
export interface CompilerDiagnostics {
  files?: number;
  lines?: number;
  identifiers?: number;
  symbols?: number;
  types?: number;
  instantiations?: number;
  memoryUsedBytes?: number;
  checkTimeMs?: number;
  totalTimeMs?: number;
}

/** One measured process. Byte figures are null where they do not apply (V8 figures for a native compiler). */
export interface RunFigures {
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  wallMs: number;
  cpuMs: number | null;
  peakRssBytes: number | null;
  peakHeapUsedBytes: number | null;
  retainedHeapBytes: number | null;
  heapLimitBytes: number | null;
  gcCount: number | null;
  gcMs: number | null;
  goHeapPeakBytes: number | null;
  goHeapLiveBytes: number | null;
  diagnostics: CompilerDiagnostics;
  /** True when other measured runs overlapped this one: its timings are not clean. */
  parallel: boolean;
  /**
   * The compiler's own messages when the run was not ok (no GC lines, no diagnostics block): the first
   * lines for type and config errors, the last lines for a run that ended early.
   */
  messages?: string;
}

export const SUMMARY_FIELDS = [
  'peakRssBytes',
  'peakHeapUsedBytes',
  'retainedHeapBytes',
  'heapLimitBytes',
  'wallMs',
  'cpuMs',
  'gcCount',
  'gcMs',
  'goHeapPeakBytes',
  'goHeapLiveBytes',
] as const;
export type SummaryField = (typeof SUMMARY_FIELDS)[number];

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** The runs spread more than ±3 % around the median: size by `max`, and measure with more runs. */
  unsteady: boolean;
}

export interface PackageResult {
  name: string;
  /** Relative to the workspace root, `.` for the root itself. */
  dir: string;
  /** What was measured, e.g. `tsc -p tsconfig.json --noEmit` or `npm run build`. */
  task: string;
  compiler: CompilerInfo;
  /** The memtune profile the measured command runs under (`typecheck` for a check; a script's `memtune run <profile>`); null when unknown. */
  profile: string | null;
  /** The worst status over the runs (oom > timeout > killed > crashed > failed > ok). */
  status: RunStatus;
  exitCode: number | null;
  /** Medians over the runs. */
  peakRssBytes: number | null;
  peakHeapUsedBytes: number | null;
  retainedHeapBytes: number | null;
  heapLimitBytes: number | null;
  wallMs: number;
  cpuMs: number | null;
  gcCount: number | null;
  gcMs: number | null;
  goHeapPeakBytes: number | null;
  goHeapLiveBytes: number | null;
  diagnostics: CompilerDiagnostics;
  /** median/min/max of each figure that has a value in at least one run. */
  spread: Partial<Record<SummaryField, Spread>>;
  parallel: boolean;
  runs: RunFigures[];
  /** With --variant: the variant these runs belong to (one result per package and variant). */
  variant?: string;
  /** With --profile: what the checks ran under (`memtune run <profile>`'s settings for this package). */
  applied?: AppliedProfile;
  /** With --find-min-heap: the smallest heap setting with which the check completed, and how it was found. */
  minHeap?: MinHeapSearch;
}

/** The settings `memtune run <profile>` gives a package's check, applied to every measured run of it. */
export interface AppliedProfile {
  profile: string;
  /** NODE_OPTIONS as `memtune run` sets it (the heap flag among them; for the native compiler it reaches only its node launcher). */
  nodeOptions: string;
  /** The other variables it sets (GOMEMLIMIT, GOGC for the native compiler). */
  env: Record<string, string>;
  /** Arguments it adds to the compiler's (`--checkers`, `--builders`). */
  addedArgs: string[];
  /** The --max-old-space-size applied, and where it came from (a `.node-options` line, the profile's share). */
  heapMiB: number | null;
  heapFrom: string | null;
}

/** One probe of a --find-min-heap search: the check run once under `heapMiB`. */
export interface MinHeapProbe {
  heapMiB: number;
  status: RunStatus;
  wallMs: number;
  peakRssBytes: number | null;
}

/**
 * `--find-min-heap`: for a JS compiler the smallest --max-old-space-size with which the check completed; for
 * the native compiler the smallest GOMEMLIMIT that keeps its wall time within a bound of the unconstrained run.
 */
export interface MinHeapSearch {
  setting: 'max-old-space-size' | 'GOMEMLIMIT';
  /** The smallest setting that completed (within `resolutionBytes`); null when none did, not even the upper bound. */
  bytes: number | null;
  /** The search's bounds and how close it got. */
  lowerBytes: number;
  upperBytes: number;
  resolutionBytes: number;
  probes: MinHeapProbe[];
  /** Why the search ended as it did, in a sentence. */
  basis: string;
  /**
   * False while probes are still to run (the bench was stopped; --resume continues it): `bytes` is null then
   * without meaning that nothing passed. Added beside `bytes` so a reader can tell the two nulls apart.
   */
  complete: boolean;
  /** Native compiler: a probe slower than this did not pass (NATIVE_WALL_FACTOR × the unconstrained median wall time). */
  wallLimitMs?: number;
  /** The unconstrained runs' largest peak RSS minus that of the probe at `bytes`: what the setting saves (the native search's point). */
  savedRssBytes: number | null;
}

/** One `--variant NAME=SPEC`: the same packages under another tsconfig overlay, compiler or profile. */
export interface VariantSpec {
  name: string;
  /** As given after `NAME=`. */
  spec: string;
  /** A tsconfig whose options are laid over each package's, absolute; null: none. */
  tsconfig: string | null;
  /** The typescript package every package is checked with, absolute; null: each package's own. */
  compiler: string | null;
  /** Checks run under what `memtune run <profile>` gives them; null: node's default heap. */
  profile: string | null;
}

/** A figure of one package under one variant against the first variant: the runs paired in their interleaved order. */
export interface VariantComparison {
  package: string;
  dir: string;
  variant: string;
  field: SummaryField;
  /** Median of this variant's runs and of the first variant's. */
  value: number;
  reference: number;
  /** median/min/max of the per-pair ratios (run i of this variant over run i of the first); 1.1 is 10 % more. */
  ratio: Spread;
}

export interface VariantsReport {
  /** In the order given; the first is what the others are compared with. */
  list: VariantSpec[];
  comparisons: VariantComparison[];
}

export interface SkippedPackage {
  name: string;
  dir: string;
  reason: string;
}

/** What `memtune bench --dry-run` shows: the bench as planned, nothing built, measured or written. */
export interface DryRun {
  root: string;
  shard: { index: number; count: number; packages: string[] } | null;
  runs: number;
  targets: Array<{
    name: string;
    dir: string;
    task: string;
    /** Its version, `(native)` after it for TypeScript 7. */
    compiler: string;
    profile: string | null;
    variant?: string;
    /** The baseline's peak for it, else a guess from its source size: what the budget reserves for it. */
    expectedPeakRssBytes: number;
    /** Its tsconfig cannot be read by its compiler: the bench reports that instead of a run. */
    unreadable?: string;
  }>;
  skipped: SkippedPackage[];
  /** The projects the packages reference, which a bench brings up to date with `tsc -b` before measuring. */
  references: string[];
}

export interface BenchEnvironment {
  node: string;
  platform: string;
  arch: string;
  cpu: { model: string; count: number };
  memoryLimit: { bytes: number; source: string; detail: string };
  gitCommit: string | null;
  compilers: Array<{ version: string; native: boolean }>;
}

export interface BenchReport {
  schemaVersion: typeof SCHEMA_VERSION;
  generatedAt: string;
  root: string;
  environment: BenchEnvironment;
  options: { runs: number; concurrency: number; budgetBytes: number; warm: boolean; script: string | null; timeoutMs: number; findMinHeap?: boolean };
  packages: PackageResult[];
  skipped: SkippedPackage[];
  /** `tsc -b --force` at the root, with --solution. */
  solution: PackageResult | null;
  /** With --baseline: each package against the same package in an earlier report. */
  baseline?: BaselineComparison;
  /** With --variant: each variant's figures against the first's. */
  variants?: VariantsReport;
  /**
   * With --shard: which shard of how many this report is, and the directories of its packages. `balancedBy`: the
   * `generatedAt` of the --baseline report whose costs split the packages, null when their source sizes did (no
   * baseline); absent in reports of older benches.
   */
  shard?: { index: number; count: number; packages: string[]; balancedBy?: string | null };
  recommendations: Recommendations;
  /** Made by `memtune bench merge`: the reports it was merged from, and what differed between them (with --allow-mixed). */
  merged?: MergedFrom;
}

export interface MergedFrom {
  /** The input reports, as given. */
  from: string[];
  /** What differed between them that --allow-mixed let through (Node majors, a package's compiler versions); empty: nothing. */
  mixed: string[];
}

export interface HeapRecommendation {
  package: string;
  dir: string;
  maxOldSpaceSizeMiB: number;
  /** The figure it came from (the largest over the runs, or the smallest heap --find-min-heap saw complete) and the headroom factor applied to it. */
  figure: 'peakHeapUsedBytes' | 'minHeapBytes' | 'appliedHeapBytes';
  figureBytes: number;
  factor: number;
  /** The `.node-options` section it belongs in: the profile the measured command runs under; null when unknown. */
  section: string | null;
  basis: string;
}

export interface ConcurrencyRecommendation {
  value: number;
  budgetBytes: number;
  /** The package with the largest peak RSS over its runs. */
  boundBy: string;
  peakRssBytes: number;
  /** The sum of the `value` largest peaks: any `value` checks at once fit the budget. */
  sumBytes: number;
  basis: string;
}

export interface Recommendations {
  heap: HeapRecommendation[];
  concurrency: ConcurrencyRecommendation | null;
  notes: string[];
  /** With --runner-memory/--runner-cpus: the same figures sized for that runner. */
  runner?: RunnerRecommendation;
}

/**
 * The memory figures a baseline compares; each applies only where both reports have it. Not the
 * retained heap: what is left after a full GC depends on where the full GCs fall, and moved 5× between
 * runs of an unchanged package; a gate on it cries wolf. Not the Go heap peak either: it is read at the
 * native compiler's GC points, which its pacer moves, and a fresh-clone CI run saw it grow 33 → 42 MiB
 * (+27 %) on an unchanged package whose peak RSS moved 1 %. A native package is gated by its peak RSS.
 */
export const BASELINE_FIELDS = ['peakRssBytes', 'peakHeapUsedBytes'] as const;
export type BaselineField = (typeof BASELINE_FIELDS)[number];

export interface BaselineDelta {
  field: BaselineField;
  before: number;
  after: number;
  /** (after - before) / before: 0.1 is 10 % more. */
  growth: number;
  /** Grew by more than `allowedBytes`. */
  over: boolean;
  /** The growth allowed: the largest of --max-growth × before, the noise floor and the baseline's own spread (max − min over its runs). */
  allowedBytes: number;
  /** Which of the three set `allowedBytes`. */
  allowedBy: BaselineThreshold;
}

/** What set a figure's allowed growth (see compareWithBaseline). */
export type BaselineThreshold = 'max-growth' | 'noise floor' | 'baseline spread';

export interface BaselinePackage {
  name: string;
  dir: string;
  task: string;
  /** `compared`: in both; `new`: only now; `gone`: only in the baseline. */
  state: 'compared' | 'new' | 'gone';
  /** e.g. `6.0.3 → 7.0.2` when the compiler changed between the reports. */
  compilerChange: string | null;
  deltas: BaselineDelta[];
}

export interface BaselineComparison {
  file: string;
  generatedAt: string;
  gitCommit: string | null;
  /** The allowed growth as a share (0.1 = 10 %). */
  maxGrowth: number;
  /** Growth below this many bytes never counts: small packages move by a few MiB from run to run. */
  noiseFloorBytes: number;
  packages: BaselinePackage[];
  regressions: number;
  /** Differences between the two benches that weaken the comparison (Node major, CPU count, memory limit, runs). */
  warnings: string[];
}

/** One line of the JSON-lines journal: a finished run of one package. */
export interface JournalEntry {
  schemaVersion: typeof SCHEMA_VERSION;
  key: string;
  name: string;
  dir: string;
  run: number;
  compiler: CompilerInfo;
  task: string;
  /** With --variant: the variant this run belongs to (its key says so too). */
  variant?: string;
  figures: RunFigures;
  /**
   * A --find-min-heap probe (its `run` is negative: -1, -2, … in the order they ran), not a measured run:
   * the setting it ran under. A --resume replays a package's probes to continue its search.
   */
  heapProbe?: { setting: MinHeapSearch['setting']; bytes: number };
}

/**
 * What a bench measures, as its journal records it: `--resume` continues with these. Concurrency and the
 * budget are left out: they change how the runs are scheduled, not which runs there are.
 */
export interface RecordedOptions {
  /** Where the bench was started, relative to the workspace root (`.`: the root); inside a package it measures that package. */
  dir: string;
  filters: string[];
  /** `--compiler`, absolute; null: each package's own. */
  compiler: string | null;
  runs: number;
  warm: boolean;
  script: string | null;
  solution: boolean;
  timeoutMs: number;
  /** `--baseline`, absolute; null: none. */
  baseline: string | null;
  maxGrowth: number;
  /** `--profile`: each check runs under what `memtune run <profile>` gives it; null: node's default heap. */
  profile: string | null;
  /** `--variant`, each looked up (the overlay and the compiler absolute); empty: none. */
  variants: VariantSpec[];
  /** `--find-min-heap`: after its measured runs, each package's smallest heap setting is searched. Absent in journals of older benches: false. */
  findMinHeap: boolean;
  /** `--shard i/n` as given; null: every package. Absent in journals of older benches: null. */
  shard: string | null;
}

/** The first line of the journal. */
export interface JournalHeader {
  schemaVersion: typeof SCHEMA_VERSION;
  options: RecordedOptions;
}

/** The runner `--runner-memory`/`--runner-cpus` describe: each figure not given is this machine's. */
export interface RunnerSpec {
  memoryBytes: number;
  memoryFrom: 'runner-memory' | 'this machine';
  cpus: number;
  cpusFrom: 'runner-cpus' | 'this machine';
  /** `--budget` as a share (applies to the runner's memory too); null: the default 80 %. */
  budgetPercent: number | null;
}

/** One profile the measured packages run under, on the runner: what `memtune run <profile>` gives there against the largest need. */
export interface RunnerProfile {
  profile: string;
  /** `--max-old-space-size` that `memtune run <profile>` gives on the runner (its share of the runner's memory, within its bounds). */
  heapMiB: number;
  heapBasis: string;
  /** The largest heap recommendation among the packages under this profile, and whose. */
  needMiB: number;
  neededBy: string;
  fits: boolean;
  /** Packages whose recommended heap is above `heapMiB`: each needs its own `--max-old-space-size` under `[profile]`. */
  raise: Array<{ package: string; dir: string; maxOldSpaceSizeMiB: number }>;
  /** `concurrency` × `heapMiB`: what that many tasks under this profile may grow to together. */
  concurrentHeapMiB: number;
}

export interface RunnerRecommendation extends RunnerSpec {
  /** 80 % of the runner's memory, or `--budget` given as a share of it. */
  budgetBytes: number;
  budgetBasis: string;
  concurrency: ConcurrencyRecommendation | null;
  profiles: RunnerProfile[];
  /** Packages whose peak RSS alone is above the runner's memory: the runner cannot run their check at all. */
  tooLarge: Array<{ package: string; peakRssBytes: number }>;
  notes: string[];
}
