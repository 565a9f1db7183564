import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { baselineKey, baselinePeaks, comparableBaseline, compareWithBaseline, maxGrowthWithoutBaseline, packageNameOf, parseBaseline } from '../baseline.js';
import { JOURNAL_FILE, describeOptions, formatJournalHeader, formatJournalLine, parseJournal, resumeOptions, runKey, type ParsedJournal } from '../journal.js';
import { expandSolutionTargets, matchesFilter, planBench, sourceBytes, type BenchPlan, type BenchTarget } from './plan.js';
import { compilerFromOverride, resolveCompiler } from '../../shared/effects/typescript-compiler.js';
import { buildReport, missingRuns, shownName, type MeasuredTarget } from '../report/report.js';
import { renderMarkdownReport } from '../report/markdown.js';
import { renderSvgReport } from '../report/svg.js';
import { benchmarkActionEntries } from '../report/benchmark-action.js';
import { estimatePeakRss } from '../schedule.js';
import { unmeasuredFigures } from '../stats.js';
import { checkTask, scriptTask, solutionTask, type BenchTask } from '../task.js';
import {
  SCHEMA_VERSION,
  type BenchEnvironment,
  type BenchReport,
  type CompilerInfo,
  type DryRun,
  type JournalEntry,
  type RecordedOptions,
  type RunFigures,
  type RunnerSpec,
  type SkippedPackage,
  type VariantSpec,
} from '../types.js';
import { UsageError, errorCode, quote } from '../../shared/errors.js';
import type { MemoryLimit } from '../../shared/effects/memory-limit.js';
import { readManifest, workspacePatterns } from '../../shared/effects/workspace.js';
import { runJobs, type BenchJob } from './run-jobs.js';
import { MinHeapJobs } from './min-heap-jobs.js';
import { NATIVE_WALL_FACTOR } from '../min-heap.js';
import { MiB } from '../../shared/size.js';
import { buildProjects, isUnreadable, readProjectConfig, type ProjectConfig, type UnreadableConfig } from './compiler-project.js';
import { loadProfiles } from '../../shared/effects/load-profiles.js';
import { writeFileAtomic } from '../../shared/effects/write-file-atomic.js';
import { findPackageDirs, type PackageDirs } from '../../shared/effects/package-dirs.js';
import { applyProfile } from './applied-profile.js';
import { removeVariantConfigs, resolveVariants, variantConfigPath, writeVariantConfigs } from './variants.js';
import { interleaved } from '../variants.js';
import { TASK_LIMITS_VAR, parseTaskLimits } from '../../shared/task-limits.js';
import { assignShards, baselineCosts, parseShard, type Shard, type ShardUnit } from '../shard.js';

/** What `memtune bench` was asked to do, parsed and checked by the command. */
export interface BenchOptions {
  cwd: string;
  /**
   * What to measure, defaults filled in; with --resume the journal's record of them is used instead. The
   * baseline's path is absolute, the compiler's as given (relative to `cwd`).
   */
  measure: Omit<RecordedOptions, 'dir'>;
  /** Those of `measure` given on the command line: with --resume each must agree with the journal. */
  given: Partial<RecordedOptions>;
  concurrency: number;
  budgetBytes: number;
  /** The limit the budget was sized from; the report's environment shows it. */
  memoryLimit: MemoryLimit;
  /** `--out` as given; default `.memtune` at the workspace root, or in the package with `package`. */
  out?: string | undefined;
  /** `--package`: the package memtune runs in, alone, its reports in its own `.memtune` (a per-package turbo task). */
  package?: boolean;
  resume: boolean;
  /** --runner-memory/--runner-cpus: also recommend for that runner. */
  runner?: RunnerSpec | undefined;
}

/** Where the session reports what happens; the command decides how to show it. */
export interface BenchHooks {
  notice: (text: string) => void;
  planned: (runs: number) => void;
  started: (job: BenchJob) => void;
  ended: (job: BenchJob, figures: RunFigures) => void;
}

export interface BenchOutcome {
  report: BenchReport;
  /** Absolute. */
  out: string;
  interrupted: boolean;
  plannedRuns: number;
  finishedRuns: number;
  /** The command that continues this bench: `memtune bench --resume`, with its --out. */
  resumeCommand: string;
}

/** A path as a message shows it: relative to where memtune was started when it is inside it. */
export function shownPath(cwd: string, path: string): string {
  const shown = relative(cwd, path);
  return shown.startsWith('..') || shown === '' ? path : shown;
}

/** Kernel file systems: no place for files. (/dev/shm is a real tmpfs.) */
const PSEUDO_FILESYSTEMS = ['/proc', '/sys', '/dev'];

/**
 * Refuses an --out on /proc, /sys or /dev, as given or through a symlink: nothing belongs there, and Node's
 * recursive mkdir of /proc/x spins forever at full CPU, deaf to SIGTERM.
 */
export function refusePseudoFilesystem(out: string, given: string): void {
  let existing = out;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  let real = existing;
  try {
    real = realpathSync(existing);
  } catch {
    // Unreadable: the path as given is all there is to judge.
  }
  for (const path of [out, join(real, relative(existing, out))]) {
    const under = (dir: string) => path === dir || path.startsWith(`${dir}/`);
    const hit = PSEUDO_FILESYSTEMS.find(under);
    if (hit !== undefined && !under('/dev/shm')) {
      throw new UsageError({
        where: `--out ${quote(given)}`,
        message: `is under ${hit}, a file system the kernel makes up, not a place for files.`,
        fix: 'Pass a directory on a disk, e.g. --out .memtune',
      });
    }
  }
}

/** mkdir -p one level at a time: a bounded loop, where Node's recursive mkdir can spin forever (ENOENT from /proc). */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let current = dir; !existsSync(current) && dirname(current) !== current; current = dirname(current)) missing.unshift(current);
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      // Made by another process in the meantime: fine, as long as it is a directory.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(level).isDirectory()) throw error;
    }
  }
}

/** Fails before anything runs when --out cannot take our files. */
export function ensureWritable(out: string, given: string): void {
  try {
    makeDirectory(out);
    const probe = join(out, `.memtune-write-check-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    throw new UsageError({
      where: `--out ${quote(given)}`,
      message: `cannot be written (${errorCode(error)}).`,
      fix: 'Pass a directory you can write to, e.g. --out .memtune',
    });
  }
}

/** `path` is absolute; `shown` is how messages and the report name it. */
export function readBaseline(path: string, shown: string): BenchReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError({
      where: `--baseline ${quote(shown)}`,
      message: `cannot be read (${errorCode(error)}).`,
      fix: "Pass the memtune-report.json of an earlier run, e.g. your main branch's CI artifact.",
    });
  }
  return parseBaseline(text, shown);
}

function gitCommit(root: string): string | null {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

function environmentOf(root: string, compilers: CompilerInfo[], limit: MemoryLimit): BenchEnvironment {
  const versions = new Map(compilers.map((compiler) => [compiler.version, compiler.native]));
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: { model: cpus()[0]?.model ?? 'unknown', count: availableParallelism() },
    memoryLimit: { bytes: limit.bytes, source: limit.source, detail: limit.detail },
    gitCommit: gitCommit(root),
    compilers: [...versions].map(([version, native]) => ({ version, native })).sort((a, b) => a.version.localeCompare(b.version)),
  };
}

function nothingToMeasure(root: string, skipped: SkippedPackage[]): UsageError {
  const reasons = skipped.map((pkg) => `  ${pkg.name} (${pkg.dir}): ${pkg.reason}`).join('\n');
  return new UsageError(
    {
      message: `nothing to measure in ${root}:\n${reasons || '  no packages'}`,
      fix: 'Give the packages a tsconfig.json and a typescript to resolve, or pass --compiler.',
    },
    1,
  );
}

/** --package at a workspace root: the root is not a package of its own to measure (a repository without workspaces is). */
function refuseWorkspaceRoot(dirs: PackageDirs): void {
  const manifest = readManifest(dirs.repoRoot);
  if (dirs.packageDir !== dirs.repoRoot || !manifest || workspacePatterns(dirs.repoRoot, manifest) === undefined) return;
  throw new UsageError({
    where: '--package',
    message: `measures the package memtune runs in, and ${dirs.repoRoot} is the workspace root, not one of its packages.`,
    fix: "Run it in a package (turbo runs each package's bench script there), or drop --package to measure every package.",
  });
}

/** A target as this bench will measure it; runs of one lane (a package's variants) never overlap. */
type Planned = MeasuredTarget & { lane: string; estimate: number; spec: BenchTask; unreadable?: string | undefined };

/** The lane of a target: its project, all its variants in it. */
function laneOf(target: BenchTarget): string {
  return JSON.stringify([target.relDir, target.tsconfig]);
}

/**
 * `--shard`: this shard's packages, split by directory before any tsconfig is read (a shard reads only its own), by
 * their cost in the baseline (source size when unknown), never by the local report, which differs between CI machines
 * and would drop or double packages. `baseline` keeps the baseline's packages this shard compares with: its own, and
 * in shard 1 those whose directory no shard measures (they are gone).
 */
function shardOf(
  targets: BenchTarget[],
  shard: Shard,
  baseline: BenchReport | undefined,
  notice: (text: string) => void,
): Shard & { dirs: Set<string>; packages: string[]; baseline: (report: BenchReport) => BenchReport } {
  const costs = baseline ? baselineCosts(baseline) : new Map<string, number>();
  const units = new Map<string, ShardUnit>();
  for (const target of targets) {
    if (!units.has(target.relDir))
      units.set(target.relDir, { dir: target.relDir, name: target.name, cost: costs.get(target.relDir) ?? null, sourceBytes: sourceBytes(target.dir) });
  }
  const mine = assignShards([...units.values()], shard.count)[shard.index - 1]!;
  const dirs = new Set(mine.map((unit) => unit.dir));
  const packages = [...dirs].sort();
  const named = `shard ${shard.index}/${shard.count}`;
  if (mine.length === 0) notice(`${named} has no package: ${units.size} package${units.size === 1 ? '' : 's'} over ${shard.count} shards`);
  else notice(`${named}: ${mine.length} of ${units.size} packages (${packages.join(', ')})`);
  const keep = (dir: string) => dirs.has(dir) || (!units.has(dir) && shard.index === 1);
  return {
    ...shard,
    dirs,
    packages,
    baseline: (report) => ({ ...report, packages: report.packages.filter((pkg) => keep(pkg.dir)), solution: null }),
  };
}

/**
 * The baseline's packages this bench selected: with --filter those it matches, run inside a package (--package) that
 * package's. The others are not `gone` from the workspace, just not measured here.
 */
function withinSelection(baseline: BenchReport, filters: string[], packageDir: string | undefined): BenchReport {
  if (filters.length === 0 && packageDir === undefined) return baseline;
  // --filter matched the package's name, not its projects'.
  const selected = (pkg: { name: string; dir: string }) =>
    (packageDir === undefined || pkg.dir === packageDir) && (filters.length === 0 || filters.some((filter) => matchesFilter(filter, packageNameOf(pkg.name), pkg.dir)));
  return { ...baseline, packages: baseline.packages.filter(selected) };
}

type Configs = Map<string, ProjectConfig | UnreadableConfig>;

/**
 * Each project as its compiler resolves it: one `tsc --showConfig` per project is the bench's fixed cost before
 * anything is measured. Read side by side, as many at once as there are cores: hundreds of compiler processes at once
 * would only queue for the cores and hold their memory meanwhile.
 */
async function readConfigs(requests: Array<{ compiler: CompilerInfo; tsconfig: string }>, known: Configs): Promise<void> {
  const missing = [...new Map(requests.map((request) => [request.tsconfig, request])).values()].filter((request) => !known.has(request.tsconfig));
  let next = 0;
  const reader = async () => {
    while (next < missing.length) {
      const request = missing[next++]!;
      const config = await readProjectConfig(request.compiler, request.tsconfig, process.env);
      known.set(config.tsconfig, config);
    }
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), missing.length) }, reader));
}

function readable(configs: Configs, tsconfig: string): ProjectConfig | undefined {
  const config = configs.get(tsconfig);
  return config === undefined || isUnreadable(config) ? undefined : config;
}

/**
 * A package that references other projects is checked against their outputs (`tsc -p` on it fails with
 * TS6305 until they exist, and checks against old declarations when they are stale). Bring every
 * project they reference, transitively, up to date first, outside the measurement, as `tsc -b` would:
 * references before the projects that use them, each with the compiler its own package resolves.
 */
async function buildReferences(targets: BenchTarget[], root: string, configs: Configs, progress: (text: string) => void): Promise<void> {
  const compilerOf = new Map<string, CompilerInfo>();
  const order: string[] = [];
  const visit = async (tsconfig: string, fallback: CompilerInfo, trail: string[]): Promise<void> => {
    if (compilerOf.has(tsconfig) || trail.includes(tsconfig)) return;
    const compiler = resolveCompiler(dirname(tsconfig)) ?? fallback;
    compilerOf.set(tsconfig, compiler);
    await readConfigs([{ compiler, tsconfig }], configs);
    const config = configs.get(tsconfig)!;
    if (isUnreadable(config)) {
      throw new UsageError(
        { message: `a referenced project cannot be read: ${config.unreadable}`, fix: 'Fix its tsconfig, or leave the packages that reference it out with --filter.' },
        1,
      );
    }
    for (const reference of config.references) await visit(reference, compiler, [...trail, tsconfig]);
    order.push(tsconfig);
  };
  for (const target of targets) {
    for (const reference of readable(configs, target.tsconfig)?.references ?? []) await visit(reference, target.compiler, [target.tsconfig]);
  }
  if (order.length === 0) return;
  const names = order.map((tsconfig) => relative(root, tsconfig).replaceAll('\\', '/'));
  const shown = names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
  progress(`bringing the referenced projects up to date first with tsc -b (outside the measurement): ${shown}`);
  // Consecutive projects with the same compiler go to one tsc -b: it builds them in the order given.
  for (let start = 0; start < order.length; ) {
    const compiler = compilerOf.get(order[start]!)!;
    let end = start + 1;
    while (end < order.length && compilerOf.get(order[end]!)!.path === compiler.path) end++;
    const failed = buildProjects(
      compiler,
      order.slice(start, end).map((tsconfig) => relative(root, tsconfig) || tsconfig),
      root,
      process.env,
    );
    if (failed) progress(`bringing the referenced projects up to date had errors; the checks go on against what it wrote:\n${failed}`);
    start = end;
  }
}

/** The profile a script runs under: its own `memtune run <profile>`, else a script named like a profile. */
function scriptProfile(dir: string, script: string): string | null {
  const text = readManifest(dir)?.scripts?.[script] ?? '';
  const named = /\bmemtune run ([\w-]+)/.exec(text)?.[1];
  if (named !== undefined) return named;
  return Object.hasOwn(loadProfiles(), script) ? script : null;
}

/** With --resume: the options and runs of the bench it continues; undefined when there is no journal yet. */
function readJournal(path: string, name: string, notice: (text: string) => void): ParsedJournal | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UsageError({ where: name, message: `cannot be read (${errorCode(error)}).`, fix: 'Make it a file you can read, or run without --resume to start a new bench.' });
    }
    notice(`no journal at ${name} yet; measuring everything.`);
    return undefined;
  }
  const parsed = parseJournal(text, name);
  if (parsed.note) notice(parsed.note);
  return parsed;
}

/** With --script: the packages that have the script; the others are skipped with the reason. */
function withScript(plan: BenchPlan, script: string): BenchTarget[] {
  return plan.targets.filter((target) => {
    if (readManifest(target.dir)?.scripts?.[script] !== undefined) return true;
    plan.skipped.push({ name: target.name, dir: target.relDir, reason: `no ${quote(script)} script in package.json` });
    return false;
  });
}

/** With --solution: the root's `tsc -b --force`, refused before anything runs when the root cannot build. */
async function planSolution(root: string, override: string | null, cwd: string): Promise<Planned> {
  const tsconfig = join(root, 'tsconfig.json');
  const compiler = override === null ? resolveCompiler(root) : compilerFromOverride(override, cwd);
  if (!compiler) {
    throw new UsageError({
      message: `--solution needs the root's typescript, and ${root} resolves none.`,
      fix: 'Install it at the root (npm i -D typescript) or pass --compiler.',
    });
  }
  const config = await readProjectConfig(compiler, tsconfig, process.env);
  if (isUnreadable(config)) throw new UsageError({ where: '--solution', message: `${config.unreadable}`, fix: 'Fix the root tsconfig.json, or drop --solution.' }, 1);
  if (config.references.length === 0) {
    throw new UsageError({
      where: '--solution',
      message: `builds the root ${tsconfig} with tsc -b, but it has no references.`,
      fix: 'Add the packages as references (see presets/tsconfig/solution.json), or drop --solution.',
    });
  }
  const task = solutionTask(root, tsconfig, compiler, { node: process.execPath, godebug: process.env.GODEBUG });
  return {
    key: runKey('.', task.task, compiler.path),
    lane: '(solution)',
    name: '(solution)',
    dir: '.',
    task: task.task,
    spec: task,
    compiler,
    profile: 'build',
    estimate: estimatePeakRss(compiler.native, sourceBytes(root)),
  };
}

/**
 * A type-check needs each project as its compiler reads it: solution-style package configs expand into
 * their projects. (The projects they reference are built later, only for targets that still have runs to do.)
 */
async function prepareChecks(targets: BenchTarget[], plan: BenchPlan, configs: Configs): Promise<BenchTarget[]> {
  await readConfigs(targets, configs);
  const shapes = new Map([...configs].flatMap(([tsconfig, config]) => (isUnreadable(config) ? [] : [[tsconfig, config] as const])));
  const expanded = expandSolutionTargets(targets, shapes);
  plan.skipped.push(...expanded.skipped);
  await readConfigs(expanded.targets, configs);
  return expanded.targets;
}

/**
 * Each target with the task that measures it and its first expected peak (the baseline's, else a guess from its
 * sources). With --profile, a check runs under what `memtune run <profile>` gives it in its package. With
 * --variant, one per target and variant: its compiler, its generated tsconfig, its profile (over --profile).
 */
function planTargets(root: string, targets: BenchTarget[], configs: Configs, options: RecordedOptions, baselinePeak: Map<string, number>): Planned[] {
  const script = options.script ?? undefined;
  const variants: Array<VariantSpec | undefined> = options.variants.length > 0 ? options.variants : [undefined];
  const profiles = options.profile === null && !options.variants.some((variant) => variant.profile !== null) ? undefined : loadProfiles();
  return targets.flatMap((target) => {
    const bytes = sourceBytes(target.dir);
    return variants.map((variant) => {
      const compiler = variant?.compiler ? compilerFromOverride(variant.compiler, root) : target.compiler;
      const tsconfig = variant?.tsconfig ? variantConfigPath({ variant: variant.name, tsconfig: target.tsconfig }) : target.tsconfig;
      const checked = { ...target, compiler, tsconfig };
      const checkOptions = { node: process.execPath, warm: options.warm, godebug: process.env.GODEBUG, incremental: readable(configs, tsconfig)?.incremental ?? false };
      const plain = script !== undefined ? scriptTask(checked, script, { godebug: process.env.GODEBUG }) : checkTask(checked, checkOptions);
      // Named after the package's own tsconfig: the generated one is gone when the bench ends, and the variant says what was laid over it.
      const named = tsconfig === target.tsconfig ? plain : { ...plain, task: checkTask(target, checkOptions).task };
      const profile = variant?.profile ?? options.profile;
      const { task, applied } = profile === null ? { task: named, applied: undefined } : applyProfile(named, checked, profile, profiles!, root);
      return {
        key: runKey(target.relDir, task.task, compiler.path, variant?.name),
        lane: laneOf(target),
        name: target.name,
        dir: target.relDir,
        task: task.task,
        spec: task,
        compiler,
        profile: script === undefined ? (profile ?? 'typecheck') : scriptProfile(target.dir, script),
        ...(applied ? { applied } : {}),
        ...(variant ? { variant: variant.name } : {}),
        unreadable: script === undefined ? (configs.get(tsconfig) as UnreadableConfig | undefined)?.unreadable : undefined,
        estimate: baselinePeak.get(baselineKey(target.name, task.task)) ?? estimatePeakRss(compiler.native, bytes),
      };
    });
  });
}

/**
 * --variant with a tsconfig: each package's generated tsconfig (its own with the overlay laid over it) written
 * beside its own, each file added to `generated` as it is written, then read as the variant's compiler reads it.
 */
async function prepareVariantConfigs(targets: BenchTarget[], variants: VariantSpec[], root: string, configs: Configs, generated: string[]): Promise<void> {
  const requests = targets.flatMap((target) =>
    variants
      .filter((variant) => variant.tsconfig !== null)
      .map((variant) => {
        const compiler = variant.compiler ? compilerFromOverride(variant.compiler, root) : target.compiler;
        if (Number(compiler.version.split('.')[0]) < 5) {
          throw new UsageError({
            where: `--variant ${quote(`${variant.name}=${variant.spec}`)}`,
            message: `lays its tsconfig over ${target.name}'s with an "extends" array, which TypeScript ${compiler.version} cannot read (it came with 5.0).`,
            fix: 'Check that package with TypeScript 5.0 or later (add compiler:typescript@X.Y.Z to the variant), or leave it out with --filter.',
          });
        }
        const references = readable(configs, target.tsconfig)?.references ?? [];
        return { config: { variant: variant.name, tsconfig: target.tsconfig, overlay: variant.tsconfig!, references }, compiler };
      }),
  );
  if (requests.length === 0) return;
  generated.push(...writeVariantConfigs(requests.map((request) => request.config)));
  await readConfigs(
    requests.map((request) => ({ compiler: request.compiler, tsconfig: variantConfigPath(request.config) })),
    configs,
  );
}

/**
 * --find-min-heap: the searches of the packages that check (not the solution), each ending with a line on stderr.
 * V8 heap flags do not reach the native compiler: its packages get the GOMEMLIMIT search instead, and the bench says so.
 */
function minHeapJobs(measured: Planned[], journal: Journal, bench: RecordedOptions, notice: (text: string) => void): MinHeapJobs {
  const targets = measured.filter((target) => target.unreadable === undefined);
  const native = targets.filter((target) => target.compiler.native);
  if (native.length > 0) {
    const which = native.length === targets.length ? 'every package here runs on' : `${native.map(shownName).join(', ')} ${native.length === 1 ? 'runs' : 'run'} on`;
    notice(
      `--find-min-heap: ${which} the native compiler (TypeScript 7), which V8 heap flags do not reach; for ${native.length === 1 ? 'it' : 'them'} it searches instead the smallest GOMEMLIMIT that keeps the check within ${NATIVE_WALL_FACTOR} × its unconstrained wall time (each probe alone).`,
    );
  }
  return new MinHeapJobs(
    targets.map((target) => ({ key: target.key, lane: target.lane, name: shownName(target), native: target.compiler.native, spec: target.spec })),
    () => journal.entries,
    { runs: bench.runs, timeoutMs: bench.timeoutMs },
    (target, search) => {
      if (typeof search === 'string') notice(`--find-min-heap: ${target.name}: no search (${search}).`);
      else if (search.complete)
        notice(`--find-min-heap: ${target.name}: ${search.bytes === null ? 'nothing passed' : `${search.setting} ${Math.round(search.bytes / MiB)} MiB`}: ${search.basis}.`);
    },
  );
}

/**
 * The runs still to do (each package's counting run first): packages largest expected first (they bound how long
 * the bench takes and how tightly the budget packs), the solution apart. The variants of a package share its lane
 * (never two of its runs at once) and take turns: run i of each before run i + 1 of any.
 */
function plannedJobs(all: Planned[], previous: JournalEntry[], runs: number, solution: Planned | undefined): { packageJobs: BenchJob[]; solutionJobs: BenchJob[] } {
  const jobsOf = (target: Planned): BenchJob[] => {
    if (target.unreadable !== undefined) return [];
    // The counting run goes first: it also takes the cold start of the package's files off run 1.
    const counting = target.spec.countArgs !== undefined && !previous.some((entry) => entry.key === target.key && entry.run === 0);
    const measured = missingRuns(target.key, previous, runs);
    const name = shownName(target);
    return [...(counting ? [0] : []), ...measured].map((runNumber) => ({
      key: target.key,
      lane: target.lane,
      label: runNumber === 0 ? `${name} (counts, unmeasured)` : runs > 1 ? `${name} #${runNumber}` : name,
      run: runNumber,
      task: target.spec,
    }));
  };
  const lanes = new Map<string, Planned[]>();
  for (const target of all.filter((target) => target !== solution)) lanes.set(target.lane, [...(lanes.get(target.lane) ?? []), target]);
  const packageJobs = [...lanes.values()]
    .map((targets) => ({ estimate: Math.max(...targets.map((target) => target.estimate)), jobs: interleaved(targets.map(jobsOf)) }))
    .sort((a, b) => b.estimate - a.estimate)
    .flatMap((lane) => lane.jobs);
  return { packageJobs, solutionJobs: solution ? jobsOf(solution) : [] };
}

/**
 * Appends each finished run to the journal as it ends, and keeps the entries for the report. A write that
 * fails (the file taken away, a full disk) is kept as `failure` and reported through `onFailure`, which
 * stops the bench: a run that cannot be journaled cannot be resumed.
 */
class Journal {
  readonly entries: JournalEntry[];
  failure: unknown;

  /**
   * Makes the file what runs are appended to, before any run: a new journal with its options line, or a
   * resumed one with its whole lines (a line cut off by a kill removed) and an options line if it had none.
   * Fails with a message when it cannot be written.
   */
  constructor(
    private readonly path: string,
    private readonly name: string,
    options: RecordedOptions,
    previous: ParsedJournal | undefined,
    private readonly onFailure: () => void,
  ) {
    this.entries = [...(previous?.entries ?? [])];
    try {
      if (previous === undefined) writeFileSync(path, formatJournalHeader(options));
      else if (previous.options === undefined) writeFileAtomic(path, formatJournalHeader(options) + (previous.repaired ?? readFileSync(path, 'utf8')), true);
      else if (previous.repaired !== undefined) writeFileAtomic(path, previous.repaired, true);
      else closeSync(openSync(path, 'a'));
    } catch (error) {
      throw this.error(error, 'Make it a file you can write, or pass another --out.');
    }
  }

  add(target: Planned, run: number, figures: RunFigures, heapProbe?: JournalEntry['heapProbe']): void {
    if (this.failure !== undefined) return;
    const { key, name, dir, compiler, task } = target;
    const variant = target.variant === undefined ? {} : { variant: target.variant };
    const entry: JournalEntry = { schemaVersion: SCHEMA_VERSION, key, name, dir, run, compiler, task, ...variant, figures, ...(heapProbe ? { heapProbe } : {}) };
    try {
      appendFileSync(this.path, formatJournalLine(entry));
    } catch (error) {
      this.failure = error;
      this.onFailure();
      return;
    }
    this.entries.push(entry);
  }

  error(error: unknown, fix: string): UsageError {
    return new UsageError({ where: this.name, message: `cannot be written (${errorCode(error)}).`, fix });
  }
}

/** `memtune bench --resume`, with the --out the bench was given (and --package, whose journal is in the package): the journal is there. */
function resumeCommand(out: string | undefined, inPackage: boolean): string {
  const command = inPackage ? 'memtune bench --package --resume' : 'memtune bench --resume';
  if (out === undefined) return command;
  return `${command} --out ${/^[\w./@:+-]+$/.test(out) ? out : `'${out.replaceAll("'", "'\\''")}'`}`;
}

/**
 * The bench to run: the one asked, or, with --resume, the one its journal records (planned from where that one
 * was started; options given that conflict with it are refused). `compiler` is as the user wrote it, so a message
 * about it quotes their text.
 */
function benchToRun(
  options: BenchOptions,
  hooks: BenchHooks,
  dirs: PackageDirs,
  journalPath: string,
  journalName: string,
): { bench: RecordedOptions; previous: ParsedJournal | undefined; compiler: string | null; planCwd: string } {
  const { cwd } = options;
  // The journal has the compiler's path absolute: a relative one would mean another compiler from another directory.
  // The variants looked up too (their files and compilers), so that a --resume compares what they are, and finds any gone since.
  const lookUp = (variants: VariantSpec[]) => resolveVariants(variants, cwd, dirs.repoRoot);
  const absolute = <T extends { compiler?: string | null; variants?: VariantSpec[] }>(given: T): T => ({
    ...given,
    ...(given.compiler ? { compiler: resolve(cwd, given.compiler) } : {}),
    ...(given.variants && given.variants.length > 0 ? { variants: lookUp(given.variants) } : {}),
  });
  const asked: RecordedOptions = { dir: relative(dirs.repoRoot, dirs.packageDir).replaceAll('\\', '/') || '.', ...absolute(options.measure) };
  const previous = options.resume ? readJournal(journalPath, journalName, hooks.notice) : undefined;
  if (!previous?.options) {
    if (previous && previous.entries.length > 0)
      hooks.notice(`${journalName} does not say which options its bench was started with (an older memtune wrote it); resuming with the options given.`);
    return { bench: asked, previous, compiler: options.measure.compiler, planCwd: cwd };
  }
  const resumed = resumeOptions(previous.options, absolute(options.given), journalName);
  const bench = resumed.variants.length > 0 ? { ...resumed, variants: lookUp(resumed.variants) } : resumed;
  hooks.notice(`resuming the bench in ${journalName}: ${describeOptions(bench)}`);
  return { bench, previous, compiler: bench.compiler, planCwd: join(dirs.repoRoot, bench.dir) };
}

/**
 * A whole bench: plan, build what the packages reference, measure every run (several at once under
 * the memory budget), journal each run as it ends, and write the reports atomically. After `signal`
 * aborts, nothing new starts, the running children are killed, and the report has what finished.
 */
export async function runBench(options: BenchOptions, hooks: BenchHooks, signal: AbortSignal): Promise<BenchOutcome> {
  // The tsconfig files a variant generates in the packages: removed whatever happens, Ctrl-C and errors included.
  const generated: string[] = [];
  try {
    return await benchSession(options, hooks, signal, generated);
  } finally {
    removeVariantConfigs(generated);
  }
}

/** A bench planned: what it measures and how, before anything is built or measured. */
interface SessionPlan {
  bench: RecordedOptions;
  previous: ParsedJournal | undefined;
  out: string;
  journalPath: string;
  journalName: string;
  resume: string;
  baseline: BenchReport | undefined;
  baselineShown: string | undefined;
  baselineWarnings: string[];
  plan: BenchPlan;
  /** The packages' projects this bench (this shard) type-checks: what their references are built for. */
  targets: BenchTarget[];
  configs: Configs;
  measured: Planned[];
  solution: Planned | undefined;
  shard: ReturnType<typeof shardOf> | undefined;
  environment: BenchEnvironment;
}

/**
 * Plans a bench: the packages, this shard's share of them (split before any tsconfig is read, so that a shard reads
 * only its own), each project as its compiler reads it, the task and expected peak of each, the baseline judged.
 * Writes nothing but the variants' generated tsconfigs (listed in `generated`); `dryRun` leaves --out alone.
 */
async function planSession(options: BenchOptions, hooks: BenchHooks, generated: string[], dryRun: boolean): Promise<SessionPlan> {
  const { cwd } = options;
  const dirs = findPackageDirs(cwd);
  if (options.package) refuseWorkspaceRoot(dirs);
  const outGiven = options.out ?? join(relative(cwd, options.package ? dirs.packageDir : dirs.repoRoot) || '.', '.memtune');
  const out = resolve(cwd, outGiven);
  refusePseudoFilesystem(out, outGiven);
  const journalPath = join(out, JOURNAL_FILE);
  const journalName = shownPath(cwd, journalPath);
  const resume = resumeCommand(options.out, options.package === true);
  const { bench, previous, compiler, planCwd } = benchToRun(options, hooks, dirs, journalPath, journalName);
  if (options.given.maxGrowth !== undefined && bench.baseline === null) {
    throw maxGrowthWithoutBaseline();
  }
  const { runs, script: scriptOrNull } = bench;
  const script = scriptOrNull ?? undefined;
  const baselineShown = bench.baseline === null ? undefined : shownPath(cwd, bench.baseline);
  const baseline = bench.baseline === null ? undefined : readBaseline(bench.baseline, baselineShown!);
  const plan = planBench({ cwd: planCwd, filters: bench.filters, compilerOverride: compiler ?? undefined });

  let targets = script === undefined ? plan.targets : withScript(plan, script);
  const solution = bench.solution ? await planSolution(plan.root, compiler, planCwd) : undefined;
  if (targets.length === 0 && !solution) throw nothingToMeasure(plan.root, plan.skipped);
  const wholeBench = targets;
  // --shard: only this shard's packages from here on; the others are another job's, not skipped.
  const shard = bench.shard === null ? undefined : shardOf(targets, parseShard(bench.shard), baseline, hooks.notice);
  if (shard) targets = targets.filter((target) => shard.dirs.has(target.relDir));
  if (!dryRun) ensureWritable(out, outGiven);
  const configs: Configs = new Map();
  // A script is run as it is.
  if (script === undefined) targets = await prepareChecks(targets, plan, configs);
  // A shard left with nothing (all its packages skipped) is an empty share of the bench, not a failure.
  if (targets.length === 0 && !solution && !shard) throw nothingToMeasure(plan.root, plan.skipped);
  await prepareVariantConfigs(targets, bench.variants, plan.root, configs, generated);

  const measured = planTargets(plan.root, targets, configs, bench, baseline ? baselinePeaks(baseline) : new Map());
  const all = solution ? [...measured, solution] : measured;
  const environment = environmentOf(
    plan.root,
    all.map((target) => target.compiler),
    options.memoryLimit,
  );
  // Refused here, before anything is built or measured: a baseline that cannot judge this bench.
  // A shard judges it on the whole bench: every shard of one bench takes the same baseline or refuses it.
  const baselineWarnings = baseline ? comparableBaseline(baseline, baselineShown!, all, { environment, runs }, shard ? wholeBench : undefined) : [];
  for (const warning of baselineWarnings) hooks.notice(`warning: ${warning}`);
  return { bench, previous, out, journalPath, journalName, resume, baseline, baselineShown, baselineWarnings, plan, targets, configs, measured, solution, shard, environment };
}

/** `--dry-run`: plans the bench as `runBench` would (each tsconfig read by its compiler) and returns the plan. */
export async function dryRunBench(options: BenchOptions, hooks: BenchHooks): Promise<DryRun> {
  const generated: string[] = [];
  try {
    const session = await planSession(options, hooks, generated, true);
    const all = session.solution ? [...session.measured, session.solution] : session.measured;
    const references = new Set(session.targets.flatMap((target) => readable(session.configs, target.tsconfig)?.references ?? []));
    return {
      root: session.plan.root,
      shard: session.shard ? { index: session.shard.index, count: session.shard.count, packages: session.shard.packages } : null,
      runs: session.bench.runs,
      targets: all.map((target) => ({
        name: shownName(target),
        dir: target.dir,
        task: target.task,
        compiler: `${target.compiler.version}${target.compiler.native ? ' (native)' : ''}`,
        profile: target.profile,
        ...(target.variant === undefined ? {} : { variant: target.variant }),
        expectedPeakRssBytes: target.estimate,
        ...(target.unreadable === undefined ? {} : { unreadable: target.unreadable }),
      })),
      skipped: session.plan.skipped,
      references: [...references].map((tsconfig) => relative(session.plan.root, tsconfig).replaceAll('\\', '/')).sort(),
    };
  } finally {
    removeVariantConfigs(generated);
  }
}

async function benchSession(options: BenchOptions, hooks: BenchHooks, signal: AbortSignal, generated: string[]): Promise<BenchOutcome> {
  const { cwd, concurrency, budgetBytes } = options;
  const session = await planSession(options, hooks, generated, false);
  const { bench, previous, out, journalPath, journalName, resume, baseline, baselineShown, baselineWarnings, plan, targets, configs, measured, solution, shard, environment } =
    session;
  const { runs, script: scriptOrNull } = bench;
  const script = scriptOrNull ?? undefined;
  const all = solution ? [...measured, solution] : measured;
  const stop = new AbortController();
  // Before anything is built or measured, and after a refused baseline (which leaves no journal behind):
  // a journal that cannot be written stops the bench now.
  const journal = new Journal(journalPath, journalName, bench, previous, () => stop.abort());
  const done = previous?.entries ?? [];
  const { packageJobs, solutionJobs } = plannedJobs(all, done, runs, solution);
  const searches = bench.findMinHeap ? minHeapJobs(measured, journal, bench, hooks.notice) : undefined;
  // Only what still has runs (or probes) to do is prepared: a --resume with everything measured just writes the report.
  const pending = new Set(
    signal.aborted ? [] : [...packageJobs, ...solutionJobs].map((job) => job.key).concat(measured.filter((target) => searches?.searching(target.key)).map((target) => target.key)),
  );
  if (script === undefined) {
    // By lane: with --variant a package has a target per variant, any of which may still have runs to do.
    const pendingLanes = new Set(measured.filter((target) => pending.has(target.key)).map((target) => target.lane));
    await buildReferences(
      targets.filter((target) => pendingLanes.has(laneOf(target))),
      plan.root,
      configs,
      hooks.notice,
    );
  }
  if (bench.warm) {
    // The re-check is only warm beside build info from a previous check: make one, unmeasured.
    for (const { spec } of measured.filter((target) => target.unreadable === undefined && pending.has(target.key))) {
      spawnSync(spec.command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: 'ignore' });
    }
  }

  const journalFailed = () => journal.error(journal.failure, `Make it a file you can write (is the disk full?), then ${resume} measures the runs it lacks.`);
  // A tsconfig its compiler cannot read is a finding of its own, not a run: nothing is started for it.
  for (const target of all) {
    if (target.unreadable !== undefined && missingRuns(target.key, done, 1).length > 0)
      journal.add(target, 1, { ...unmeasuredFigures('config-error', target.unreadable), parallel: false });
  }
  if (journal.failure !== undefined) throw journalFailed();
  hooks.planned(packageJobs.length + solutionJobs.length);
  // Stopped by Ctrl-C, or by a journal that stopped taking writes.
  const limits = { budgetBytes, concurrency, timeoutMs: bench.timeoutMs, signal: AbortSignal.any([signal, stop.signal]) };
  await measureJobs(all, packageJobs, solutionJobs, journal, limits, hooks, searches);
  if (journal.failure !== undefined) throw journalFailed();

  const report = buildReport({
    generatedAt: new Date().toISOString(),
    root: plan.root,
    environment,
    options: { runs, concurrency, budgetBytes, warm: bench.warm, script: script ?? null, timeoutMs: bench.timeoutMs, ...(bench.findMinHeap ? { findMinHeap: true } : {}) },
    targets: measured,
    entries: journal.entries,
    skipped: plan.skipped,
    ...(solution ? { solution } : {}),
    ...(options.runner ? { runner: { spec: options.runner, profiles: loadProfiles() } } : {}),
    ...(bench.variants.length > 0 ? { variants: bench.variants } : {}),
  });
  if (shard) report.shard = { index: shard.index, count: shard.count, packages: shard.packages, balancedBy: baseline?.generatedAt ?? null };
  if (baseline) {
    const selected = withinSelection(baseline, bench.filters, plan.mode === 'package' ? plan.targets[0]?.relDir : undefined);
    report.baseline = compareWithBaseline(report, shard ? shard.baseline(selected) : selected, baselineShown!, bench.maxGrowth, baselineWarnings);
  }
  writeReport(out, report, (file, error) => {
    return new UsageError({
      where: shownPath(cwd, file),
      message: `cannot be written (${errorCode(error)}); the finished runs are kept in ${journalName}.`,
      fix: `Make ${shownPath(cwd, out)} writable (or move what is in the way), then ${resume} writes the report without measuring again.`,
    });
  });
  const plannedRuns = packageJobs.length + solutionJobs.length;
  return { report, out, interrupted: signal.aborted, plannedRuns, finishedRuns: journal.entries.length - done.length, resumeCommand: resume };
}

/**
 * A bench that is one of turbo's tasks (turbo sets TURBO_HASH in each) shares the machine with the other tasks turbo
 * runs beside it, unless the outer `memtune run` sized turbo to one task at a time: its timings are not clean then.
 */
function besideTurboTasks(env: NodeJS.ProcessEnv): boolean {
  if (env.TURBO_HASH === undefined) return false;
  const limits = env[TASK_LIMITS_VAR];
  if (limits === undefined || limits === '') return true;
  try {
    return parseTaskLimits(limits).concurrency > 1;
  } catch {
    return true;
  }
}

/** Runs the jobs in a scratch directory removed after, each run journaled as it ends: the packages side by side, the solution alone. */
async function measureJobs(
  all: Planned[],
  packageJobs: BenchJob[],
  solutionJobs: BenchJob[],
  journal: Journal,
  limits: { budgetBytes: number; concurrency: number; timeoutMs: number; signal: AbortSignal },
  hooks: BenchHooks,
  searches?: MinHeapJobs,
): Promise<void> {
  const byKey = new Map(all.map((target) => [target.key, target]));
  const scratch = mkdtempSync(join(tmpdir(), 'memtune-bench-'));
  const common = {
    scratch,
    besideOthers: besideTurboTasks(process.env),
    budgetBytes: limits.budgetBytes,
    timeoutMs: limits.timeoutMs,
    estimate: (key: string) => searches?.expectedRss(key) ?? byKey.get(key)!.estimate,
    signal: limits.signal,
    onStart: hooks.started,
    onEnd: (job: BenchJob, figures: RunFigures) => {
      journal.add(byKey.get(job.key)!, job.run, figures, job.setting?.heap);
      hooks.ended(job, figures);
    },
  };
  try {
    await runJobs({ ...common, jobs: packageJobs, concurrency: limits.concurrency });
    if (searches) {
      // Each package's probes one after another, several packages side by side like the measured runs; the native
      // compiler's probes are judged by their wall time, so each runs alone.
      await runJobs({ ...common, jobs: searches.start(false), concurrency: limits.concurrency, next: searches.next });
      await runJobs({ ...common, jobs: searches.start(true), concurrency: 1, next: searches.next });
    }
    // The root rebuild competes with every package for memory and cores: measure it alone, last.
    await runJobs({ ...common, jobs: solutionJobs, concurrency: 1 });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The three reports, each atomically; `failed` makes the error for the first that cannot be written. */
export function writeReport(out: string, report: BenchReport, failed: (file: string, error: unknown) => UsageError): void {
  const files: Array<[string, () => string]> = [
    ['memtune-report.json', () => `${JSON.stringify(report, null, 2)}\n`],
    ['memtune-report.md', () => `${renderMarkdownReport(report)}\n`],
    ['memtune-report.svg', () => `${renderSvgReport(report)}\n`],
    // What a workflow hands to benchmark-action/github-action-benchmark (tool: customSmallerIsBetter).
    ['memtune-benchmark.json', () => `${JSON.stringify(benchmarkActionEntries(report), null, 2)}\n`],
  ];
  for (const [name, text] of files) {
    const file = join(out, name);
    try {
      writeFileAtomic(file, text(), true);
    } catch (error) {
      throw failed(file, error);
    }
  }
}
