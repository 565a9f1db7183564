import { dirname, isAbsolute, resolve } from 'node:path';
import type { CompilerInfo } from '../shared/compiler-info.js';
import { type Notice, type Problem, UsageError, quote } from '../shared/errors.js';
import type { MemoryLimit } from '../shared/effects/memory-limit.js';
import { nodeFlagProblems, type AllowedNodeFlags } from './node-flags.js';
import {
  flagKey,
  formatFlag,
  formatNodeOptions,
  isRepeatable,
  parseHeapSize,
  parseNodeOptionsEnv,
  type EnvSetting,
  type FlagSetting,
  type NodeOptionsFile,
  type Origin,
  DIRECTORY_FLAGS,
} from './node-options.js';
import { profileHeapBasis, profileHeapMiB, stepValue, type Profile } from '../shared/profiles.js';
import { formatBytes, parseByteSize, toMiB } from '../shared/size.js';
import { hasCompilerOption } from '../shared/effects/typescript-compiler.js';

/** Set in the child's environment: a nested `memtune run` recognises NODE_OPTIONS that an outer one wrote. */
export const OUTER_MARKER = 'MEMTUNE_NODE_OPTIONS';

export interface ResolveRunInput {
  profile: Profile;
  limit: MemoryLimit;
  /** The repo's `.node-options`, then the package's. */
  files: NodeOptionsFile[];
  /** The environment the command would get without memtune (the real one plus any `.env` files). */
  env: NodeJS.ProcessEnv;
  /** Labels for variables that came from `.env` files rather than the real environment. */
  envOrigins?: Record<string, string>;
  cliFlags: FlagSetting[];
  allowed: AllowedNodeFlags;
  compiler?: CompilerInfo | undefined;
  args: string[];
  packageDir: string;
}

export interface ResolvedRun {
  /** The final Node flags, in order, each with where it came from. */
  nodeOptions: FlagSetting[];
  /** Values replaced by a later source. */
  overridden: Array<{ flag: FlagSetting; by: FlagSetting }>;
  /** The variables memtune sets for the command, NODE_OPTIONS first. */
  env: EnvSetting[];
  args: string[];
  addedArgs: Array<{ arg: string; origin: Origin }>;
  warnings: Notice[];
  notes: string[];
  /** Diagnostics directories to create before the command starts. */
  directories: string[];
  heapMiB: number | undefined;
}

/** The layers in merge order, later wins: the preset, each .node-options, NODE_OPTIONS already set, --node-option. */
function flagLayers(input: ResolveRunInput, notes: string[]): FlagSetting[] {
  const { profile, limit } = input;
  const presetOrigin = (what: string): Origin => ({ kind: 'preset', label: `preset ${profile.name}: ${what}` });
  const heapRule = profile.heap;
  const profileHeap = profileHeapMiB(heapRule, limit.bytes);
  // A task's share is its room beside the other tasks' measured peaks: its measured need fits there even where the
  // profile's percent of the room (meant for a machine of unknown use) would not.
  const measuredHeap = limit.heapMiB === undefined ? undefined : Math.min(limit.heapMiB, toMiB(limit.bytes));
  const layers: FlagSetting[] = [
    measuredHeap !== undefined && measuredHeap > profileHeap
      ? {
          name: '--max-old-space-size',
          value: String(measuredHeap),
          origin: presetOrigin(
            `the package's measured heap need, ${limit.heapMiB} MiB in MEMTUNE_TASK_LIMITS, within its ${formatBytes(limit.bytes)} share (above ${heapRule.percent}% of it)`,
          ),
        }
      : {
          name: '--max-old-space-size',
          value: String(profileHeap),
          origin: presetOrigin(profileHeapBasis(heapRule, limit.bytes)),
        },
    ...profile.nodeFlags.flatMap((text) => parseNodeOptionsEnv(text, presetOrigin('profile flag'))),
  ];
  for (const file of input.files) {
    layers.push(...file.flags.filter((flag) => flag.section === undefined || flag.section === profile.name));
  }
  const envNodeOptions = input.env.NODE_OPTIONS;
  if (envNodeOptions !== undefined && envNodeOptions.trim() !== '') {
    if (input.env[OUTER_MARKER] === envNodeOptions) {
      notes.push('NODE_OPTIONS was written by an outer memtune run: this profile replaces it.');
    } else {
      const label = input.envOrigins?.NODE_OPTIONS ?? 'environment NODE_OPTIONS';
      layers.push(...parseNodeOptionsEnv(envNodeOptions, { kind: 'env', label }));
    }
  }
  layers.push(...input.cliFlags);
  return layers;
}

interface Merged {
  merged: FlagSetting[];
  overridden: ResolvedRun['overridden'];
  directories: string[];
}

/** The file of a `file:line` origin label (`/repo/.node-options:3 (40% of 2 GiB)`). */
function fileOf(label: string): string {
  return label.replace(/:\d+( .*)?$/, '');
}

/** One value per flag (repeatable flags once per value); a flag the user set twice is a warning. */
function mergeFlags(layers: FlagSetting[], input: ResolveRunInput, problems: Problem[], warnings: Notice[]): Merged {
  const merged: FlagSetting[] = [];
  const overridden: ResolvedRun['overridden'] = [];
  const directories: string[] = [];
  for (const raw of layers) {
    const flag = resolveFlagValue(raw, input, problems, directories);
    if (!flag) continue;
    const key = flagKey(flag.name);
    if (isRepeatable(flag.name)) {
      if (!merged.some((other) => flagKey(other.name) === key && other.value === flag.value)) merged.push(flag);
      continue;
    }
    const index = merged.findIndex((other) => flagKey(other.name) === key);
    if (index < 0) {
      merged.push(flag);
      continue;
    }
    const previous = merged[index]!;
    overridden.push({ flag: previous, by: flag });
    // A package's .node-options over the repo's is the layering working as documented (--explain shows it); a value
    // set twice in one place, or a file's replaced by the environment or the command line, may not be meant.
    const layered = previous.origin.kind === 'file' && flag.origin.kind === 'file' && fileOf(previous.origin.label) !== fileOf(flag.origin.label);
    if (previous.origin.kind !== 'preset' && !layered && previous.value !== flag.value) {
      warnings.push({ message: `${key} is set twice: ${formatFlag(previous)} (${previous.origin.label}) is replaced by ${formatFlag(flag)} (${flag.origin.label}).` });
    }
    merged[index] = flag;
  }
  // Node writes heap snapshots to --diagnostic-dir but fatal-error reports to --report-directory (else the
  // working directory): one directory for both, unless the user chose a report directory.
  const diagnosticDir = merged.find((flag) => flagKey(flag.name) === '--diagnostic-dir');
  const reportDir = merged.find((flag) => ['--report-directory', '--report-dir'].includes(flagKey(flag.name)));
  if (diagnosticDir?.value !== undefined && !reportDir && merged.some((flag) => flagKey(flag.name) === '--report-on-fatalerror')) {
    merged.push({
      name: '--report-directory',
      value: diagnosticDir.value,
      origin: { kind: diagnosticDir.origin.kind, label: `memtune: reports follow --diagnostic-dir from ${diagnosticDir.origin.label}` },
    });
  }
  return { merged, overridden, directories };
}

/** A heap above the memory limit: the system would kill the process before V8 ever reports running out. */
function heapProblem(merged: FlagSetting[], limit: ResolveRunInput['limit']): { heapMiB: number | undefined; problem?: Problem } {
  const heapFlag = merged.find((flag) => flagKey(flag.name) === '--max-old-space-size');
  const heapMiB = heapFlag?.value === undefined ? undefined : Number(heapFlag.value);
  const limitMiB = toMiB(limit.bytes);
  if (!heapFlag || heapMiB === undefined || heapMiB <= limitMiB) return { heapMiB };
  if (heapFlag.origin.kind === 'preset') {
    // The profile's floor is above the limit: the limit is what is wrong (or a typo), not the preset.
    return {
      heapMiB,
      problem: {
        where: `the memory limit, ${formatBytes(limit.bytes)} from ${limit.detail}`,
        message: `below the smallest heap the profile allows (${heapFlag.origin.label}).`,
      },
    };
  }
  return {
    heapMiB,
    problem: {
      where: heapFlag.origin.label,
      message:
        `--max-old-space-size=${heapMiB} is above the memory limit, ${limitMiB} MiB from ${limit.detail}; ` +
        'the process would be killed by the system before V8 ever reports running out.' +
        // Only .node-options reads NN%: node itself would refuse it in NODE_OPTIONS or on its command line.
        (heapFlag.origin.kind === 'file' ? ' A share of the limit (--max-old-space-size=50%) follows each machine instead.' : ''),
    },
  };
}

/** The native compiler's own settings: --checkers and --builders where the memory limit is small, unless the command sets them. */
function compilerArgs(input: ResolveRunInput, notes: string[]): { args: string[]; addedArgs: ResolvedRun['addedArgs'] } {
  const { compiler, profile, limit } = input;
  const args = [...input.args];
  const addedArgs: ResolvedRun['addedArgs'] = [];
  if (!compiler) return { args, addedArgs };
  if (!compiler.native) {
    notes.push(`the command is TypeScript ${compiler.version}, a JavaScript compiler on V8: NODE_OPTIONS sizes its heap.`);
    return { args, addedArgs };
  }
  notes.push(
    `the command is TypeScript ${compiler.version}, the native compiler: the V8 flags in NODE_OPTIONS do not reach it ` +
      '(only its small node launcher); GOMEMLIMIT, GOGC and --checkers/--builders do.',
  );
  const presetOrigin = (what: string): Origin => ({ kind: 'preset', label: `preset ${profile.name}: ${what}` });
  const checkers = stepValue(profile.tsc?.checkers, limit.bytes);
  if (checkers && !hasCompilerOption(args, '--checkers', '--singleThreaded')) {
    args.push('--checkers', String(checkers.value));
    addedArgs.push({ arg: `--checkers ${checkers.value}`, origin: presetOrigin(`memory limit below ${checkers.belowMiB} MiB`) });
  }
  const builders = stepValue(profile.tsc?.builders, limit.bytes);
  if (builders && hasCompilerOption(args, '-b', '--build') && !hasCompilerOption(args, '--builders', '--singleThreaded')) {
    args.push('--builders', String(builders.value));
    addedArgs.push({ arg: `--builders ${builders.value}`, origin: presetOrigin(`memory limit below ${builders.belowMiB} MiB`) });
  }
  return { args, addedArgs };
}

export function resolveRun(input: ResolveRunInput): ResolvedRun {
  const warnings: Notice[] = [];
  const notes: string[] = [];
  const problems: Problem[] = [];
  const { merged, overridden, directories } = mergeFlags(flagLayers(input, notes), input, problems, warnings);
  problems.push(...nodeFlagProblems(merged, input.allowed));
  const { heapMiB, problem } = heapProblem(merged, input.limit);
  if (problem) problems.push(problem);
  if (problems.length > 0) {
    throw new UsageError({
      problems,
      fix: 'Nothing was started. Fix or remove the flags named above (memtune run <profile> --explain shows where each comes from).',
    });
  }
  const env: EnvSetting[] = [
    { key: 'NODE_OPTIONS', value: formatNodeOptions(merged), origin: { kind: 'preset', label: 'merged: preset < .node-options < environment < command line' } },
    ...goSettings(input, `${formatBytes(input.limit.bytes)} (${input.limit.detail})`),
  ];
  const { args, addedArgs } = compilerArgs(input, notes);
  return { nodeOptions: merged, overridden, env, args, addedArgs, warnings, notes, directories, heapMiB };
}

/** Turns `NN%` heap sizes into MB and relative diagnostics paths into absolute ones. */
function resolveFlagValue(flag: FlagSetting, input: ResolveRunInput, problems: Problem[], directories: string[]): FlagSetting | undefined {
  const key = flagKey(flag.name);
  if (key === '--max-old-space-size' || key === '--max-semi-space-size') {
    const size = flag.value === undefined ? undefined : parseHeapSize(flag.value, key === '--max-old-space-size');
    if (size === undefined) {
      problems.push({
        where: flag.origin.label,
        message: `${quote(formatFlag(flag))} is not a size memtune accepts; write a whole number of MB (4096)${key === '--max-old-space-size' ? ' or NN% of the memory limit (60%)' : ''}.`,
      });
      return undefined;
    }
    if ('percent' in size) {
      const mib = Math.floor((input.limit.bytes * size.percent) / 100 / 1024 / 1024);
      return { name: flag.name, value: String(mib), origin: { ...flag.origin, label: `${flag.origin.label} (${size.percent}% of ${formatBytes(input.limit.bytes)})` } };
    }
    return flag;
  }
  if (DIRECTORY_FLAGS.has(key) && flag.value !== undefined) {
    let value = flag.value;
    if (!isAbsolute(value) && (flag.origin.kind === 'preset' || flag.origin.kind === 'file')) {
      const base = flag.origin.kind === 'preset' ? input.packageDir : dirname(flag.origin.label.replace(/:\d+$/, ''));
      value = resolve(base, value);
    }
    if (!directories.includes(value)) directories.push(value);
    return { ...flag, value };
  }
  return flag;
}

function goSettings(input: ResolveRunInput, limitText: string): EnvSetting[] {
  const { profile, limit } = input;
  const values = new Map<string, EnvSetting>();
  if (profile.go) {
    const mib = Math.floor((limit.bytes * profile.go.memlimitPercent) / 100 / 1024 / 1024);
    values.set('GOMEMLIMIT', {
      key: 'GOMEMLIMIT',
      value: `${mib}MiB`,
      origin: { kind: 'preset', label: `preset ${profile.name}: ${profile.go.memlimitPercent}% of ${limitText}` },
    });
    if (profile.go.gogc !== null) {
      values.set('GOGC', { key: 'GOGC', value: String(profile.go.gogc), origin: { kind: 'preset', label: `preset ${profile.name}` } });
    }
  }
  for (const file of input.files) {
    for (const setting of file.env) {
      if (setting.section !== undefined && setting.section !== profile.name) continue;
      const percent = /^(\d+)%$/.exec(setting.value);
      if (setting.key === 'GOMEMLIMIT' && percent) {
        const mib = Math.floor((limit.bytes * Number(percent[1])) / 100 / 1024 / 1024);
        values.set('GOMEMLIMIT', {
          key: 'GOMEMLIMIT',
          value: `${mib}MiB`,
          origin: { ...setting.origin, label: `${setting.origin.label} (${percent[1]}% of ${formatBytes(limit.bytes)})` },
        });
      } else {
        values.set(setting.key, { key: setting.key, value: setting.value, origin: setting.origin });
      }
    }
  }
  for (const key of ['GOMEMLIMIT', 'GOGC']) {
    const value = input.env[key];
    if (value !== undefined && value !== '') {
      values.set(key, { key, value, origin: { kind: 'env', label: input.envOrigins?.[key] ?? `environment ${key}` } });
    }
  }
  const memlimit = values.get('GOMEMLIMIT');
  const bytes = memlimit && parseByteSize(memlimit.value);
  if (memlimit && bytes !== undefined && bytes > limit.bytes) {
    throw new UsageError({
      where: memlimit.origin.label,
      message: `GOMEMLIMIT=${memlimit.value} is above the memory limit, ${formatBytes(limit.bytes)} from ${limit.detail}.`,
      fix: 'Nothing was started. Write GOMEMLIMIT as NN% of the memory limit in .node-options.',
    });
  }
  return [...values.values()];
}
