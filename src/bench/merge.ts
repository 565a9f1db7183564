import { UsageError, quote } from '../shared/errors.js';
import { recommendedReport } from './report/report.js';
import { SCHEMA_VERSION, type BenchEnvironment, type BenchReport, type PackageResult, type SkippedPackage, type VariantSpec } from './types.js';

/** One report to merge: `file` as the user gave it (messages and the merged report name it), `real` its real path. */
export interface MergeInput {
  file: string;
  real: string;
  report: BenchReport;
}

const FIX_SAME = 'Give each shard or package report once: merge the reports of different packages.';

const major = (version: string) => version.replace(/^v/, '').split('.')[0] ?? version;

/** One measured result per package, task and variant across all inputs: the same one twice is two answers to one question. */
function packageKey(pkg: PackageResult): string {
  return [pkg.dir, pkg.task, pkg.variant ?? ''].join('\0');
}

function refuseRepeats(inputs: readonly MergeInput[]): void {
  const seen = new Map<string, MergeInput>();
  for (const input of inputs) {
    const earlier = seen.get(input.real);
    if (earlier !== undefined) {
      throw new UsageError({
        where: `merge ${quote(input.file)}`,
        message: earlier.file === input.file ? 'is given twice.' : `is the same report as ${quote(earlier.file)}: a report merged with itself.`,
        fix: FIX_SAME,
      });
    }
    seen.set(input.real, input);
  }
  const schemas = new Set(inputs.map((input) => input.report.schemaVersion));
  if (schemas.size > 1) {
    throw new UsageError({
      message: `the reports have different schemaVersion: ${inputs.map((input) => `${input.file} ${input.report.schemaVersion}`).join(', ')}; this memtune writes ${SCHEMA_VERSION}.`,
      fix: 'Measure them again with one version of memtune.',
    });
  }
}

function refuseSharedPackages(inputs: readonly MergeInput[]): void {
  const owner = new Map<string, MergeInput>();
  for (const input of inputs) {
    for (const pkg of input.report.packages) {
      const other = owner.get(packageKey(pkg));
      if (other !== undefined && other !== input) {
        const variant = pkg.variant === undefined ? '' : ` [${pkg.variant}]`;
        throw new UsageError({
          where: `merge ${quote(input.file)}`,
          message: `holds ${pkg.name}${variant} (${pkg.dir}, ${pkg.task}), which ${quote(other.file)} holds too.`,
          fix: `${FIX_SAME} (Two shards of one --shard n split never share a package.)`,
        });
      }
      owner.set(packageKey(pkg), input);
    }
  }
}

/** Node majors and a package name's compiler versions that differ between the inputs: one sentence each. */
function mixedFacts(inputs: readonly MergeInput[]): string[] {
  const facts: string[] = [];
  const nodes = new Map<string, string[]>();
  for (const input of inputs) {
    const node = major(input.report.environment.node);
    nodes.set(node, [...(nodes.get(node) ?? []), input.file]);
  }
  if (nodes.size > 1) {
    facts.push(`Node majors differ: ${[...nodes].map(([node, files]) => `Node ${node} (${files.join(', ')})`).join('; ')}`);
  }
  const compilers = new Map<string, Map<string, string[]>>();
  for (const input of inputs) {
    for (const pkg of input.report.packages) {
      const versions = compilers.get(pkg.name) ?? new Map<string, string[]>();
      versions.set(pkg.compiler.version, [...new Set([...(versions.get(pkg.compiler.version) ?? []), input.file])]);
      compilers.set(pkg.name, versions);
    }
  }
  for (const [name, versions] of compilers) {
    if (versions.size > 1) {
      facts.push(`${name} is measured with different compilers: ${[...versions].map(([version, files]) => `TypeScript ${version} (${files.join(', ')})`).join('; ')}`);
    }
  }
  return facts;
}

function compilersOf(inputs: readonly MergeInput[]): BenchEnvironment['compilers'] {
  const all = new Map<string, BenchEnvironment['compilers'][number]>();
  for (const input of inputs) for (const compiler of input.report.environment.compilers) all.set(`${compiler.version}\0${compiler.native}`, compiler);
  return [...all.values()];
}

const byDir = <T extends { dir: string; name: string }>(a: T, b: T) => a.dir.localeCompare(b.dir) || a.name.localeCompare(b.name);

function skippedOf(inputs: readonly MergeInput[], packages: readonly PackageResult[]): SkippedPackage[] {
  const measured = new Set(packages.map((pkg) => pkg.dir));
  const all = new Map<string, SkippedPackage>();
  for (const input of inputs) {
    // A package one shard skipped for not being its own is measured in another.
    for (const skip of input.report.skipped) if (!measured.has(skip.dir)) all.set(`${skip.dir}\0${skip.reason}`, skip);
  }
  return [...all.values()].sort(byDir);
}

function solutionOf(inputs: readonly MergeInput[]): PackageResult | null {
  const withSolution = inputs.filter((input) => input.report.solution !== null);
  if (withSolution.length > 1) {
    throw new UsageError({
      where: `merge ${quote(withSolution[1]!.file)}`,
      message: `holds a --solution build, and so does ${quote(withSolution[0]!.file)}: the root build is measured once.`,
      fix: 'Run --solution in one shard only.',
    });
  }
  return withSolution[0]?.report.solution ?? null;
}

const plural = (numbers: number[]) => (numbers.length === 1 ? `shard ${numbers[0]}` : `shards ${numbers.slice(0, -1).join(', ')} and ${numbers.at(-1)}`);

/**
 * The shard reports (those with `shard`) must be the whole of one `--shard i/n` split: one n, balanced by one baseline, each i once. A shard whose CI
 * job failed made no report, and merging without it would pass for a bench of fewer packages. Refuses mixed n, mixed
 * baselines and a repeated i always, missing shards unless `allowMissing`; then returns the note that names them.
 */
function missingShardsNote(inputs: readonly MergeInput[], allowMissing: boolean): string | undefined {
  const shards = inputs.flatMap((input) => (input.report.shard ? [{ input, ...input.report.shard }] : []));
  if (shards.length === 0) return undefined;
  const counts = new Set(shards.map((shard) => shard.count));
  if (counts.size > 1) {
    throw new UsageError({
      where: 'merge',
      message: `the shard reports come from different splits: ${shards.map((shard) => `shard ${shard.index}/${shard.count} (${shard.input.file})`).join(', ')}.`,
      fix: 'Merge the shards of one split: the reports of --shard 1/n to n/n with one n.',
    });
  }
  // Shards split by different baselines (a cache restored by some shard jobs and not others, or a newer one) split
  // differently: some packages measured twice, others by no shard.
  const balanced = new Map<string, string[]>();
  for (const shard of shards) {
    if (shard.balancedBy === undefined) continue;
    const by = shard.balancedBy === null ? 'source sizes (no --baseline)' : `the baseline of ${shard.balancedBy}`;
    balanced.set(by, [...(balanced.get(by) ?? []), `${shard.index}/${shard.count}`]);
  }
  if (balanced.size > 1) {
    throw new UsageError({
      where: 'merge',
      message: `the shards were split by different costs: ${[...balanced].map(([by, list]) => `shard ${list.join(', ')} by ${by}`).join('; ')}; their splits differ, and a package may be measured twice or by no shard.`,
      fix: 'Give every shard of the split the same --baseline file (or none), then measure them again.',
    });
  }
  const count = shards[0]!.count;
  const byIndex = new Map<number, MergeInput>();
  for (const shard of shards) {
    const earlier = byIndex.get(shard.index);
    if (earlier !== undefined) {
      throw new UsageError({ where: `merge ${quote(shard.input.file)}`, message: `is shard ${shard.index}/${count}, and so is ${quote(earlier.file)}.`, fix: FIX_SAME });
    }
    byIndex.set(shard.index, shard.input);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !byIndex.has(index));
  if (missing.length === 0) return undefined;
  const text = `${plural(missing)} of ${count} ${missing.length === 1 ? 'is' : 'are'} missing`;
  if (!allowMissing) {
    throw new UsageError({
      where: 'merge',
      message: `${text}: the merged report would lack ${missing.length === 1 ? 'its' : 'their'} packages and pass for a bench of fewer.`,
      fix: "Pass every shard's report (a CI job that failed made none: see its log), or --allow-missing-shards to merge what there is.",
    });
  }
  return `merged with --allow-missing-shards: ${text}; ${missing.length === 1 ? 'its' : 'their'} packages are not in this report`;
}

/** The variants when every input has the same list; otherwise none, with why. */
function variantsOf(inputs: readonly MergeInput[]): { list: VariantSpec[]; note?: string } | undefined {
  const lists = inputs.map((input) => JSON.stringify(input.report.variants?.list ?? null));
  if (lists.every((list) => list === 'null')) return undefined;
  if (lists.every((list) => list === lists[0])) return { list: inputs[0]!.report.variants!.list };
  return { list: [], note: 'the merged reports were measured with different --variant lists: their variant comparisons are left out' };
}

/**
 * One report from several (the shards of one bench, or per-package reports): packages and skipped together,
 * sorted by directory; the environment and options of the first (its runs the fewest of any, its compilers
 * all of theirs); recommendations made again over every package. Refuses a report given twice, a package
 * in two reports, a second --solution build, shard reports of different splits or of one split with a shard
 * missing (unless `allowMissingShards`, which says so in the notes); reports from different Node majors or a package measured
 * with different compilers unless `allowMixed`, which lists them under `merged.mixed`.
 */
export function mergeReports(inputs: readonly MergeInput[], options: { allowMixed: boolean; allowMissingShards?: boolean; generatedAt: string }): BenchReport {
  if (inputs.length === 0) {
    throw new UsageError({
      message: 'bench merge needs at least one report to merge.',
      fix: 'Pass memtune-report.json files or the directories holding them, e.g. memtune bench merge shard-*/.memtune --out merged',
    });
  }
  refuseRepeats(inputs);
  // Before the packages: shards of two different splits share packages, and the split is what to fix.
  const missingShards = missingShardsNote(inputs, options.allowMissingShards === true);
  refuseSharedPackages(inputs);
  const mixed = mixedFacts(inputs);
  if (mixed.length > 0 && !options.allowMixed) {
    throw new UsageError({
      problems: mixed.map((message) => ({ where: 'merge', message: `${message}.` })),
      fix: 'Measure every shard on one Node major with one compiler per package, or pass --allow-mixed to merge them anyway (the merged report says so).',
    });
  }
  const first = inputs[0]!.report;
  const packages = inputs.flatMap((input) => input.report.packages).sort((a, b) => byDir(a, b) || (a.variant ?? '').localeCompare(b.variant ?? ''));
  const variants = variantsOf(inputs);
  const report = recommendedReport(
    {
      schemaVersion: SCHEMA_VERSION,
      generatedAt: options.generatedAt,
      root: first.root,
      environment: { ...first.environment, compilers: compilersOf(inputs) },
      options: { ...first.options, runs: Math.min(...inputs.map((input) => input.report.options.runs)) },
      packages,
      skipped: skippedOf(inputs, packages),
      solution: solutionOf(inputs),
      merged: { from: inputs.map((input) => input.file), mixed },
    },
    variants?.note === undefined ? variants?.list : undefined,
  );
  if (variants?.note !== undefined) report.recommendations.notes.push(variants.note);
  for (const fact of mixed) report.recommendations.notes.push(`merged with --allow-mixed: ${fact}`);
  if (missingShards !== undefined) report.recommendations.notes.push(missingShards);
  return report;
}
