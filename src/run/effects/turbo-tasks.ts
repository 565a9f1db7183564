import { availableParallelism } from 'node:os';
import { delimiter, join, relative, resolve, sep } from 'node:path';
import { readdirSync } from 'node:fs';
import { estimatePeakRss } from '../../bench/schedule.js';
import { sourceBytes } from '../../bench/effects/plan.js';
import { type Notice, UsageError, quote } from '../../shared/errors.js';
import type { MemoryLimit } from '../../shared/effects/memory-limit.js';
import type { PackageDirs } from '../../shared/effects/package-dirs.js';
import { readTextIfExists } from '../../shared/effects/read-text.js';
import { resolveCompiler } from '../../shared/effects/typescript-compiler.js';
import { listWorkspacePackages, readManifest, workspacePatterns } from '../../shared/effects/workspace.js';
import { formatBytes } from '../../shared/size.js';
import { TASK_LIMITS_VAR } from '../../shared/task-limits.js';
import { DEFAULT_BUDGET_PERCENT } from '../../shared/concurrency.js';
import { PASS_THROUGH_FIX, configuredConcurrency, missingPassThrough, parseTurboJson } from '../../shared/turbo-config.js';
import type { EnvSetting } from '../node-options.js';
import {
  dryRunArgs,
  explainSizing,
  pickPeaks,
  reportPeaksOf,
  runsTypeCheck,
  sizeTurbo,
  tasksOfDryRun,
  userConcurrency,
  type ReportPeaks,
  type TurboCommand,
  type TurboTask,
} from '../turbo.js';
import { childProcess, findCommand } from './spawn-command.js';

/** What a turbo command adds to the run: variables for the child, `--explain` lines, warnings. */
export interface TurboPlan {
  env: EnvSetting[];
  explain: string[];
  warnings: Notice[];
}

export interface TurboRequest {
  turbo: TurboCommand;
  /** The whole command, for MEMTUNE_TASK_LIMITS' `from`. */
  from: string;
  dirs: PackageDirs;
  cwd: string;
  /** The environment the command gets, PATH included. */
  env: NodeJS.ProcessEnv;
  /** `--report` files as written (relative to cwd). */
  reports: string[];
  limit: MemoryLimit;
  /** `--explain`: size turbo even where the user's concurrency wins, to show what memtune would set. */
  explain: boolean;
}

/** turbo.json or turbo.jsonc at the root, parsed; undefined when there is none or turbo itself would refuse it. */
export function readTurboJson(root: string): { file: string; config: unknown } | undefined {
  for (const name of ['turbo.json', 'turbo.jsonc']) {
    const file = join(root, name);
    const text = readTextIfExists(file);
    if (text === undefined) continue;
    try {
      return { file, config: parseTurboJson(text) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `turbo run <tasks> <filters> --dry=json` with the turbo the command would start; the tasks, or why not. */
function dryRunTasks(request: TurboRequest): { tasks: TurboTask[] } | { failed: string } {
  const { turbo, env, cwd } = request;
  const file = findCommand('turbo', env.PATH, cwd);
  const [launcher, ...prefix] = file !== undefined ? [file] : turbo.launcher;
  const args = [...(file !== undefined ? [] : prefix), ...dryRunArgs(turbo)];
  const result = childProcess().spawnSync(launcher!, args, { cwd, env, encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
  const shown = `turbo ${dryRunArgs(turbo).join(' ')}`;
  if (result.error) return { failed: `${shown} could not start (${result.error.message})` };
  if (result.status !== 0) {
    const last = String(result.stderr).trim().split('\n').filter(Boolean).slice(-2).join(' ').trim();
    return { failed: `${shown} exited with ${result.status ?? result.signal}${last ? `: ${last}` : ''}` };
  }
  try {
    const json = JSON.parse(String(result.stdout)) as { tasks?: unknown };
    return { tasks: tasksOfDryRun(json).map((task) => ({ ...task, dir: task.dir.split(sep).join('/') })) };
  } catch (error) {
    return { failed: `${shown} printed no task list turbo 2 writes (${(error as Error).message})` };
  }
}

/** Without turbo's answer: the workspace packages (and the root) whose package.json has a script named as a task. */
function scannedTasks(request: TurboRequest): TurboTask[] {
  const root = request.dirs.repoRoot;
  const manifest = readManifest(root);
  const patterns = manifest && workspacePatterns(root, manifest);
  const packages = [...(patterns ? listWorkspacePackages(root, patterns) : []), ...(manifest ? [{ dir: '.', name: manifest.name ?? '//', manifest }] : [])];
  return request.turbo.tasks.flatMap((task) =>
    packages.flatMap((pkg) => {
      const command = pkg.manifest.scripts?.[task];
      return command === undefined ? [] : [{ id: `${pkg.dir === '.' ? '//' : pkg.name}#${task}`, package: pkg.name, dir: pkg.dir, task, command }];
    }),
  );
}

/**
 * The reports to read: --report, else MEMTUNE_REPORT, else .memtune/memtune-report.json and .memtune/<dir>/memtune-report.json
 * at the root, and the .memtune/memtune-report.json of each package a task runs in (what `memtune bench --package` writes).
 */
function reportFiles(request: TurboRequest, tasks: TurboTask[]): string[] {
  if (request.reports.length > 0) return request.reports.map((file) => resolve(request.cwd, file));
  const fromEnv = (request.env.MEMTUNE_REPORT ?? '').split(delimiter).filter(Boolean);
  if (fromEnv.length > 0) return fromEnv.map((file) => resolve(request.cwd, file));
  const root = request.dirs.repoRoot;
  const dir = join(root, '.memtune');
  let subdirs: string[] = [];
  try {
    subdirs = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name, 'memtune-report.json'))
      .sort();
  } catch {
    // No report at the root: the packages may have their own.
  }
  const packages = [...new Set(tasks.map((task) => task.dir))]
    .filter((taskDir) => taskDir !== '.')
    .sort()
    .map((taskDir) => join(root, taskDir, '.memtune', 'memtune-report.json'));
  return [join(dir, 'memtune-report.json'), ...subdirs, ...packages].filter((file) => readTextIfExists(file) !== undefined);
}

function readReport(file: string, named: boolean): ReportPeaks {
  const text = readTextIfExists(file);
  if (text === undefined) {
    throw new UsageError({
      where: file,
      message: `cannot be read${named ? '' : ' (named in MEMTUNE_REPORT)'}.`,
      fix: 'Pass the memtune-report.json that memtune bench wrote (memtune bench --out DIR), or leave it out.',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError({ where: file, message: `not valid JSON (${(error as Error).message}).`, fix: 'Run memtune bench again to write it, or pass another report.' });
  }
  return reportPeaksOf(json, file);
}

/** The bench scheduler's first guess from the package's source: the native figure where its compiler is TypeScript 7 and the task checks types. */
function estimateOf(root: string): (task: TurboTask) => { bytes: number; what: string } {
  return (task) => {
    const dir = join(root, task.dir);
    const bytes = sourceBytes(dir);
    const native = runsTypeCheck(task.task, task.command) && resolveCompiler(dir)?.native === true;
    return { bytes: estimatePeakRss(native, bytes), what: `from ${formatBytes(bytes)} of source` };
  };
}

/**
 * Sizes turbo's concurrency from the tasks' measured peaks, and each package's share for nested runs. Reads the
 * reports, asks turbo which tasks will run (a dry run: one turbo start), and leaves a concurrency the user chose alone.
 */
export function planTurbo(request: TurboRequest): TurboPlan {
  const { turbo, dirs, env } = request;
  const warnings: Notice[] = [];
  const turboJson = readTurboJson(dirs.repoRoot);
  const winner = userConcurrency(turbo, env, configuredConcurrency(turboJson?.config), turboJson ? relative(request.cwd, turboJson.file) || 'turbo.json' : 'turbo.json');
  // The user's concurrency stands: the reports and turbo's dry run (one more turbo start) would change nothing.
  if (winner !== undefined && !request.explain) return { env: [], explain: [], warnings };
  const dry = dryRunTasks(request);
  const tasks = 'tasks' in dry ? dry.tasks : scannedTasks(request);
  const reports = reportFiles(request, tasks).map((file) => readReport(file, request.reports.length > 0));
  const source =
    'tasks' in dry
      ? `turbo run ${dryRunArgs(turbo).slice(1).join(' ')}`
      : `a scan of the workspace for ${turbo.tasks.map((task) => `"${task}"`).join(', ')} scripts, since ${dry.failed}${turbo.options.length > 0 ? ' (filters not applied)' : ''}`;
  const what = `turbo run ${turbo.tasks.join(' ')}`;
  if (tasks.length === 0) {
    warnings.push({
      where: what,
      message: `no package has a ${turbo.tasks.map(quote).join(' or ')} script (from ${source}): memtune sets no TURBO_CONCURRENCY, turbo's own default applies.`,
      fix: 'Check the task names and the filters; turbo reports a missing task itself.',
    });
    return { env: [], explain: [`turbo: nothing to size: no task runs (from ${source}); turbo's own concurrency applies.`], warnings };
  }
  if (reports.length === 0) {
    warnings.push({
      where: what,
      message: "no memtune bench report (--report, MEMTUNE_REPORT, .memtune/memtune-report.json or a package's own): every peak is estimated from source size.",
      fix: 'Measure the packages once: memtune bench (and memtune bench --script <task> for tasks other than the type-check).',
    });
  }
  const picked = pickPeaks(tasks, reports, estimateOf(dirs.repoRoot));
  const budget = Math.floor((request.limit.bytes * DEFAULT_BUDGET_PERCENT) / 100);
  const sizing = sizeTurbo(picked, budget, availableParallelism(), { root: dirs.repoRoot, from: request.from });
  const explain = explainSizing(sizing, picked, { limit: `${formatBytes(request.limit.bytes)} from ${request.limit.detail}`, source, winner });
  if (winner !== undefined) return { env: [], explain, warnings };

  const missing = missingPassThrough(turboJson?.config ?? {}, {
    tasks: [...new Set(tasks.map((task) => task.task))],
    ...(turbo.envMode !== undefined ? { envMode: turbo.envMode } : {}),
  });
  if (missing.length > 0) {
    warnings.push({
      where: turboJson?.file ?? join(dirs.repoRoot, 'turbo.json'),
      message: `turbo does not pass ${missing.join(', ')} to the tasks: a nested memtune run in a task would not see its share and would size from the whole machine.`,
      fix: PASS_THROUGH_FIX,
    });
  }
  const origin = { kind: 'preset' as const, label: `memtune: ${what}` };
  return {
    env: [
      { key: 'TURBO_CONCURRENCY', value: String(sizing.fit.value), origin },
      { key: TASK_LIMITS_VAR, value: JSON.stringify(sizing.limits), origin },
    ],
    explain,
    warnings,
  };
}
