import { relative } from 'node:path';
import type { BenchTarget } from './effects/plan.js';
import type { CompilerInfo } from './types.js';

/** What one measured run starts: one fresh process tree per run. */
export interface BenchTask {
  /** A short description for the report, e.g. `tsc -p tsconfig.json --noEmit`. */
  task: string;
  command: string;
  args: string[];
  cwd: string;
  /** Added to the inherited environment. */
  env: Record<string, string>;
  /** An incremental project checked cold: every run gets a fresh `--tsBuildInfoFile` of its own. */
  coldBuildInfo: boolean;
  /**
   * The same command with `--extendedDiagnostics`, run once unmeasured before the measured runs: the
   * compiler's counts (files, types, instantiations). Measured runs go without it, since its
   * performance marks add to the very heap being measured. Absent where there is nothing to count.
   */
  countArgs?: string[];
  /** Where the V8 probe goes: on node's argv for a JS compiler, into every node of an npm script's tree, nowhere for native. */
  probe: 'argv' | 'node-options' | 'none';
}

export interface TaskOptions {
  /** The node that runs JavaScript compilers (process.execPath). */
  node: string;
  /** Measure the incremental re-check beside the package's own build info instead of a cold check. */
  warm: boolean;
  /** The project is incremental or composite: a cold check needs build info of its own. */
  incremental: boolean;
  /** The GODEBUG already in the environment: gctrace is added to it, not put in its place. */
  godebug?: string | undefined;
}

function goEnv(compiler: CompilerInfo, godebug: string | undefined): Record<string, string> {
  // gctrace=1 makes the Go runtime print one line per GC with its heap sizes: the native heap figures.
  return compiler.native ? { GODEBUG: godebug ? `${godebug},gctrace=1` : 'gctrace=1' } : {};
}

/** The default measurement: the package's own compiler checking its tsconfig without emitting. */
export function checkTask(target: BenchTarget, options: TaskOptions): BenchTask {
  const args = [target.compiler.path, '-p', target.tsconfig, '--noEmit'];
  return {
    coldBuildInfo: !options.warm && options.incremental,
    // A warm re-check counts nothing new: its counts would be those of the check before it.
    ...(options.warm ? {} : { countArgs: [...args, '--extendedDiagnostics'] }),
    task: `tsc -p ${relative(target.dir, target.tsconfig).replaceAll('\\', '/')} --noEmit${options.warm ? ' (warm)' : ''}`,
    command: options.node,
    args,
    cwd: target.dir,
    env: goEnv(target.compiler, options.godebug),
    probe: target.compiler.native ? 'none' : 'argv',
  };
}

/** `--script NAME`: the package's npm script, as a user runs it; the probe reaches every node in it. */
export function scriptTask(target: BenchTarget, script: string, options: Pick<TaskOptions, 'godebug'>): BenchTask {
  return {
    task: `npm run ${script}`,
    coldBuildInfo: false,
    command: 'npm',
    args: ['run', '--silent', script],
    cwd: target.dir,
    env: goEnv(target.compiler, options.godebug),
    probe: 'node-options',
  };
}

/** `--solution`: the root's full rebuild as one process, the figure that decides whether a CI job survives. */
export function solutionTask(root: string, tsconfig: string, compiler: CompilerInfo, options: Pick<TaskOptions, 'node' | 'godebug'>): BenchTask {
  return {
    task: 'tsc -b --force',
    coldBuildInfo: false,
    command: options.node,
    args: [compiler.path, '-b', tsconfig, '--force'],
    cwd: root,
    env: goEnv(compiler, options.godebug),
    probe: compiler.native ? 'none' : 'argv',
  };
}
