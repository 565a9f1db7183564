import { sep } from 'node:path';
import { OUTER_MARKER } from '../../run/resolve-run.js';
import { flagKey } from '../../run/node-options.js';
import { prepareRun } from '../../run/effects/session.js';
import type { Profiles } from '../../shared/profiles.js';
import { resolveProfile } from '../../shared/profiles.js';
import type { BenchTask } from '../task.js';
import type { AppliedProfile, CompilerInfo } from '../types.js';

/**
 * A package's check as `memtune run <profile> -- tsc …` would start it in that package: the same preparation
 * (its `.env` files, the memory limit or its task share, the repo's and the package's `.node-options`, the
 * NODE_OPTIONS already set), so the bench confirms the very heap the user applied. Throws what `memtune run`
 * would refuse with (a flag node refuses, a heap above the limit): nothing is started then either.
 */
export function applyProfile(
  task: BenchTask,
  target: { dir: string; compiler: CompilerInfo },
  profileName: string,
  profiles: Profiles,
  root: string,
): { task: BenchTask; applied: AppliedProfile } {
  const [script, ...args] = task.args;
  const prepared = prepareRun({
    profile: resolveProfile(profileName, profiles),
    profileNames: Object.keys(profiles),
    // The compiler's own bin: memtune run recognises it and adds what the profile gives it (--checkers, --builders).
    command: [target.compiler.path, ...args],
    cwd: target.dir,
    dotenv: [],
    overrideEnv: false,
    cliFlags: [],
    reports: [],
    explain: false,
  });
  const { result } = prepared;
  const env: Record<string, string> = {};
  for (const setting of result.env) env[setting.key] = setting.value;
  // As memtune run marks it: a `memtune run` inside the check (none in a tsc) would take these as an outer run's.
  env[OUTER_MARKER] = env.NODE_OPTIONS ?? '';
  const heap = result.nodeOptions.findLast((flag) => flagKey(flag.name) === '--max-old-space-size');
  const { NODE_OPTIONS: nodeOptions = '', [OUTER_MARKER]: _marker, ...others } = env;
  const added = result.addedArgs.map((added) => added.arg);
  const command = `memtune run ${profileName} --`;
  return {
    task: {
      ...task,
      task: `${command} ${task.task}`,
      args: [script!, ...result.args],
      ...(task.countArgs ? { countArgs: [script!, ...result.args, '--extendedDiagnostics'] } : {}),
      env: { ...task.env, ...env },
    },
    applied: {
      profile: profileName,
      nodeOptions,
      env: others,
      addedArgs: added,
      heapMiB: target.compiler.native || result.heapMiB === undefined ? null : result.heapMiB,
      // A .node-options line is named from the workspace root, as the report names packages.
      heapFrom: target.compiler.native || heap === undefined ? null : heap.origin.label.replace(`${root}${sep}`, ''),
    },
  };
}
