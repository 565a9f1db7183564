import { recommend } from '../recommend.js';
import { recommendForRunner } from '../runner-fit.js';
import type { Profiles } from '../../shared/profiles.js';
import { finished, markUncheckedRuns, summarizeRuns } from '../stats.js';
import { minHeapSearch, probeOf, searchBounds, searchFailed } from '../min-heap.js';
import {
  SCHEMA_VERSION,
  type AppliedProfile,
  type MinHeapProbe,
  type MinHeapSearch,
  type RunFigures,
  type BenchEnvironment,
  type BenchReport,
  type CompilerInfo,
  type JournalEntry,
  type PackageResult,
  type RunnerSpec,
  type SkippedPackage,
  type VariantSpec,
} from '../types.js';
import { compareVariants } from '../variants.js';

export interface MeasuredTarget {
  key: string;
  name: string;
  dir: string;
  task: string;
  compiler: CompilerInfo;
  profile: string | null;
  /** With --profile: the settings every run of it got. */
  applied?: AppliedProfile | undefined;
  /** With --variant: the variant it is measured under. */
  variant?: string | undefined;
}

export interface ReportInput {
  generatedAt: string;
  root: string;
  environment: BenchEnvironment;
  options: BenchReport['options'];
  targets: MeasuredTarget[];
  /** The journal's entries: this bench's runs and, with --resume, those of the bench it continues. */
  entries: JournalEntry[];
  skipped: SkippedPackage[];
  solution?: MeasuredTarget;
  /** With --runner-memory/--runner-cpus: the runner to recommend for as well, and the profiles to size its heaps. */
  runner?: { spec: RunnerSpec; profiles: Profiles };
  /** With --variant: the variants, the first being what the others are compared with. */
  variants?: VariantSpec[];
}

/** A target's measured runs as the report counts them (runs that checked nothing marked), and its unmeasured counting run. */
export function measuredRuns(
  key: string,
  entries: readonly JournalEntry[],
  options: Pick<ReportInput['options'], 'runs' | 'warm'>,
): { figures: RunFigures[]; counting: RunFigures | undefined } {
  const own = entries.filter((entry) => entry.key === key).sort((a, b) => a.run - b.run);
  const counting = own.find((entry) => entry.run === 0)?.figures;
  const measured = own
    .filter((entry) => entry.run > 0)
    .slice(0, options.runs)
    .map((entry) => entry.figures);
  // --warm measures the re-check that checks nothing new on purpose.
  return { figures: options.warm ? measured : markUncheckedRuns(measured, counting), counting };
}

/** A target's --find-min-heap probes from the journal, in the order they ran. */
export function heapProbes(key: string, entries: readonly JournalEntry[]): MinHeapProbe[] {
  return entries
    .filter((entry) => entry.key === key && entry.heapProbe !== undefined)
    .sort((a, b) => b.run - a.run)
    .map((entry) => probeOf(entry.heapProbe!.bytes, entry.figures));
}

/** With --find-min-heap: the package's search, from its measured runs and its probes; undefined where no search could start. */
function minHeapOf(target: MeasuredTarget, figures: readonly RunFigures[], entries: readonly JournalEntry[]): MinHeapSearch | undefined {
  const bounds = searchBounds(target.compiler.native, figures);
  return typeof bounds === 'string' ? undefined : minHeapSearch(bounds, heapProbes(target.key, entries));
}

function resultOf(target: MeasuredTarget, entries: readonly JournalEntry[], options: ReportInput['options']): PackageResult | undefined {
  const { figures, counting } = measuredRuns(target.key, entries, options);
  if (figures.length === 0) return undefined;
  const summary = summarizeRuns(figures);
  // The counts come from the unmeasured counting run: measured runs go without --extendedDiagnostics.
  const diagnostics = counting && finished(counting.status) ? counting.diagnostics : summary.diagnostics;
  const applied = target.applied ? { applied: target.applied } : {};
  const variant = target.variant === undefined ? {} : { variant: target.variant };
  const minHeap = options.findMinHeap ? minHeapOf(target, figures, entries) : undefined;
  return {
    name: target.name,
    dir: target.dir,
    task: target.task,
    compiler: target.compiler,
    profile: target.profile,
    ...summary,
    diagnostics,
    runs: figures,
    ...applied,
    ...variant,
    ...(minHeap ? { minHeap } : {}),
  };
}

/** The report of a bench: every target with at least one finished run, in plan order. */
export function buildReport(input: ReportInput): BenchReport {
  const packages = input.targets.flatMap((target) => resultOf(target, input.entries, input.options) ?? []);
  const report: Omit<BenchReport, 'recommendations'> = {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: input.generatedAt,
    root: input.root,
    environment: input.environment,
    options: input.options,
    packages,
    skipped: input.skipped,
    solution: input.solution ? (resultOf(input.solution, input.entries, input.options) ?? null) : null,
  };
  return recommendedReport(report, input.variants, input.runner);
}

/**
 * A report's recommendations (and with variants, their comparisons) from its packages: a bench's, or the
 * packages of several reports merged into one (memtune bench merge).
 */
export function recommendedReport(report: Omit<BenchReport, 'recommendations' | 'variants'>, variants?: VariantSpec[], runner?: ReportInput['runner']): BenchReport {
  const { packages } = report;
  // With variants, what to set comes from the first (one heap per package, not one per variant); the others are compared with it.
  const first = variants?.[0]?.name;
  const basis = first === undefined ? report : { ...report, packages: packages.filter((pkg) => pkg.variant === first) };
  const recommendations = recommend(basis);
  if (first !== undefined) recommendations.notes.unshift(`with --variant, these come from the first variant (${first}) only; the others are compared with it under Variants`);
  if (runner) recommendations.runner = recommendForRunner(basis, recommendations.heap, runner.spec, runner.profiles);
  const compared = variants ? { variants: { list: variants, comparisons: compareVariants(packages, variants) } } : {};
  return { ...report, ...compared, recommendations };
}

/** Runs still to do per key: all of them, or with --resume those the journal does not have yet. */
export function missingRuns(key: string, entries: readonly JournalEntry[], runs: number): number[] {
  const done = new Set(entries.filter((entry) => entry.key === key).map((entry) => entry.run));
  return Array.from({ length: runs }, (_, index) => index + 1).filter((run) => !done.has(run));
}

/**
 * Runs that ended badly enough that the bench must not pass: not type errors, but the compiler not finishing, or
 * (--find-min-heap) not finishing even under its measured peak, as an oom would.
 */
export function brokenPackages(report: BenchReport): PackageResult[] {
  return [...report.packages, ...(report.solution ? [report.solution] : [])].filter((pkg) => !finished(pkg.status) || searchFailed(pkg.minHeap));
}

/** A package's name, with its variant in a bench of variants: `@acme/api [ts7]`. */
export function shownName(result: { name: string; variant?: string | undefined }): string {
  return result.variant === undefined ? result.name : `${result.name} [${result.variant}]`;
}

/** How a package's task ended, with the compiler's first messages of the run that ended so: the terminal and GitHub say the same. */
export function endedText(pkg: PackageResult): string {
  if (finished(pkg.status) && searchFailed(pkg.minHeap)) return `${pkg.name} (${pkg.dir}): --find-min-heap: ${pkg.minHeap!.basis}`;
  const messages = pkg.runs.find((figures) => figures.status === pkg.status)?.messages?.trim();
  return `${shownName(pkg)} (${pkg.dir}): ${pkg.task} ended ${pkg.status}${pkg.exitCode !== null ? ` (exit ${pkg.exitCode})` : ''}${messages ? `:\n${messages}` : ''}`;
}
