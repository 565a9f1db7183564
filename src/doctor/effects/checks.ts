import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { listWorkspacePackages, readManifest, workspacePatterns } from '../../shared/effects/workspace.js';
import { type Problem, UsageError, problemText, quote } from '../../shared/errors.js';
import { detectMemoryLimit, type MemoryLimit } from '../../shared/effects/memory-limit.js';
import { nodeFlagProblems, type AllowedNodeFlags } from '../../run/node-flags.js';
import { parseNodeOptionsEnv, type NodeOptionsFile } from '../../run/node-options.js';
import { inspectNodeOptionsFile } from '../../run/effects/node-options-files.js';
import { findPackageDirs } from '../../shared/effects/package-dirs.js';
import type { Profiles } from '../../shared/profiles.js';
import { resolveRun } from '../../run/resolve-run.js';
import { formatBytes } from '../../shared/size.js';
import { compilerDependencies, compilerOfDependency } from '../../shared/effects/typescript-compiler.js';
import { findNvmrc } from '../../shared/effects/nvmrc.js';
import { readTextIfExists } from '../../shared/effects/read-text.js';
import { isEndOfLife, supportedMajorsText } from '../../shared/node-releases.js';
import { nvmrcForms, readNvmrcValue } from '../../shared/nvmrc-value.js';
import { loadEnvFiles } from '../../shared/effects/env-files.js';
import { readTurboJson } from '../../run/effects/turbo-tasks.js';
import { PASS_THROUGH_FIX, missingPassThrough } from '../../shared/turbo-config.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** A stable name for machines: `node-version`, `nvmrc`, `engines`, `node-options-env`, ... */
  check: string;
  message: string;
  /** A file (with `:line` where it has one) the finding is about. */
  where?: string;
}

/** A problem found by run's own checks, as doctor reports it. */
function problemFinding(check: string, problem: Problem, prefix = ''): Finding {
  return { severity: 'error', check, message: prefix + problemText(problem), ...(problem.where === undefined ? {} : { where: problem.where }) };
}

function errorFindings(check: string, error: UsageError, prefix = ''): Finding[] {
  return error.problems.map((problem) => problemFinding(check, problem, prefix));
}

export interface DoctorInput {
  cwd: string;
  env: NodeJS.ProcessEnv;
  nodeVersion: string;
  allowed: AllowedNodeFlags;
  profiles: Profiles;
  /** Where cgroup files are read: tests point it at fixtures. */
  root?: string;
}

/** tsconfig options that only act in watch mode or in the editor's language service: they save nothing in a CLI build. */
const EDITOR_ONLY_OPTIONS: Record<string, string> = {
  assumeChangesOnlyAffectDirectDependencies: 'acts only in watch mode and the editor',
  preserveWatchOutput: 'acts only in watch mode',
  disableSourceOfProjectReferenceRedirect: "acts only in the editor's language service",
  disableReferencedProjectLoad: "acts only in the editor's language service",
  disableSolutionSearching: "acts only in the editor's language service",
};

export async function diagnose(input: DoctorInput): Promise<Finding[]> {
  const findings: Finding[] = [];
  const dirs = findPackageDirs(input.cwd);
  // findPackageDirs falls back to the working directory: a clean report there would be a report on nothing.
  if (!existsSync(join(dirs.packageDir, 'package.json'))) {
    throw new UsageError({
      message: `${input.cwd} is not inside a package: no package.json here or above.`,
      fix: 'Run memtune doctor in your project (where its package.json is), or in one of its packages.',
    });
  }
  const packages = workspaceDirs(dirs.repoRoot);
  const major = Number(input.nodeVersion.replace(/^v/, '').split('.')[0]);

  findings.push({
    severity: isEndOfLife(major) ? 'warning' : 'info',
    check: 'node-version',
    message: `node ${input.nodeVersion}${isEndOfLife(major) ? ` is end-of-life: move to an LTS major (${supportedMajorsText()})` : ''}`,
  });
  findings.push(...nodeVersionFindings(input, [dirs.repoRoot, dirs.packageDir]));

  // The environment memtune run gives this package's scripts: the real one, then ./.env where it sets nothing.
  const env: PackageEnv = { env: { ...input.env }, origins: {} };
  try {
    env.origins = loadEnvFiles(env.env, dirs.packageDir, [], false);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    findings.push(...errorFindings('env-file', error));
  }
  const limit = memoryLimitFindings(input, env, findings);

  findings.push(...environmentOptionsFindings(input, env));
  // Every package's file, not only those of the package doctor runs in: a bad line anywhere stops that package's scripts.
  const files = new Map<string, NodeOptionsFile>();
  for (const dir of new Set([dirs.repoRoot, dirs.packageDir, ...packages])) findings.push(...nodeOptionsFileFindings(input, dir, files));
  if (limit) {
    const applying = [...new Set([dirs.repoRoot, dirs.packageDir])].flatMap((dir) => files.get(dir) ?? []);
    findings.push(...heapFindings(input, limit, applying, dirs.packageDir));
  }

  findings.push(...typeScriptFindings(dirs.repoRoot, packages));
  for (const dir of packages) findings.push(...tsconfigFindings(dirs.repoRoot, dir));
  findings.push(...gitIgnoreFindings(dirs.repoRoot), ...turboFindings(dirs.repoRoot));
  return findings;
}

/** turbo's strict env mode drops what turbo.json does not list: nested `memtune run`s would size from the whole machine. */
function turboFindings(root: string): Finding[] {
  const turbo = readTurboJson(root);
  if (!turbo) return [];
  const missing = missingPassThrough(turbo.config);
  if (missing.length === 0) return [];
  return [
    {
      severity: 'warning',
      check: 'turbo',
      message: `turbo does not pass ${missing.join(', ')} to its tasks: a memtune run inside a task cannot see its share of memory and sizes from the whole machine. ${PASS_THROUGH_FIX}`,
      where: relative(root, turbo.file),
    },
  ];
}

/**
 * `.memtune/` holds the bench's journal, reports and diagnostics: machine-specific output that a commit
 * would carry into every clone (and a stale report would size turbo's concurrency). Asked of git itself,
 * so every .gitignore, .git/info/exclude and global excludes file counts.
 */
function gitIgnoreFindings(root: string): Finding[] {
  const probe = join('.memtune', 'memtune-report.json');
  const result = spawnSync('git', ['check-ignore', '-q', probe], { cwd: root, stdio: 'ignore' });
  // 0: ignored; 1: not ignored; anything else (128: not a git work tree; no git at all): nothing to check.
  if (result.status !== 1) return [];
  return [
    {
      severity: 'warning',
      check: 'gitignore',
      message: '.memtune/ (bench reports, journals, diagnostics) is not ignored by git: add .memtune/ to .gitignore',
      where: '.gitignore',
    },
  ];
}

/** The memory limit memtune run would detect in this package, and where it came from (a .env names its file). */
/** The environment memtune run gives a package's scripts, and for each variable a `.env` set, that file. */
interface PackageEnv {
  env: NodeJS.ProcessEnv;
  origins: Record<string, string>;
}

function memoryLimitFindings(input: DoctorInput, env: PackageEnv, findings: Finding[]): MemoryLimit | undefined {
  const file = env.origins.MEMTUNE_MEMORY_LIMIT;
  try {
    const limit = detectMemoryLimit({ env: env.env, ...(input.root !== undefined ? { root: input.root } : {}) });
    const detail = limit.source !== 'env' ? limit.detail : file !== undefined ? `${limit.detail} in ${file}` : `${limit.detail} in the environment`;
    findings.push({
      severity: 'info',
      check: 'memory-limit',
      message: `memory limit ${formatBytes(limit.bytes)} from ${detail}`,
      ...(limit.source === 'env' && file !== undefined ? { where: file } : {}),
    });
    return limit;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    findings.push(...errorFindings('memory-limit', error).map((finding) => (file !== undefined ? { ...finding, where: file } : finding)));
    return undefined;
  }
}

/** NODE_OPTIONS already in the environment: flags this node refuses, or a warning that it overrides everything. */
function environmentOptionsFindings(input: DoctorInput, env: PackageEnv): Finding[] {
  const envOptions = env.env.NODE_OPTIONS;
  if (envOptions === undefined || envOptions.trim() === '') return [];
  const file = env.origins.NODE_OPTIONS;
  const flags = parseNodeOptionsEnv(envOptions, { kind: 'env', label: file !== undefined ? `NODE_OPTIONS in ${file}` : 'environment NODE_OPTIONS' });
  const problems = nodeFlagProblems(flags, input.allowed);
  if (problems.length > 0) return problems.map((problem) => problemFinding('node-options-env', problem));
  return [
    {
      severity: 'warning',
      check: 'node-options-env',
      message: `NODE_OPTIONS is already set${file !== undefined ? ` in ${file}` : ''} (${envOptions}): it wins over .node-options and the profiles in every memtune run`,
      ...(file !== undefined ? { where: file } : {}),
    },
  ];
}

/** The `.node-options` of one directory, read as `memtune run` reads it; its good lines are kept in `files` by directory. */
function nodeOptionsFileFindings(input: DoctorInput, dir: string, files: Map<string, NodeOptionsFile>): Finding[] {
  const path = join(dir, '.node-options');
  try {
    const inspected = inspectNodeOptionsFile(path, Object.keys(input.profiles), input.allowed);
    if (!inspected) return [];
    files.set(dir, inspected.file);
    if (inspected.problems.length > 0) return inspected.problems.map((problem) => problemFinding('node-options-file', problem));
    const { file } = inspected;
    return [
      {
        severity: 'info',
        check: 'node-options-file',
        message: `${path}: ${file.flags.length} ${file.flags.length === 1 ? 'flag' : 'flags'}, ${file.env.length} Go ${file.env.length === 1 ? 'setting' : 'settings'}, valid`,
        where: path,
      },
    ];
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return errorFindings('node-options-file', error);
  }
}

/** The heap each profile gives under this limit and these files, or why memtune run would refuse it. */
function heapFindings(input: DoctorInput, limit: MemoryLimit, files: NodeOptionsFile[], packageDir: string): Finding[] {
  return Object.values(input.profiles).flatMap((profile): Finding[] => {
    try {
      const resolved = resolveRun({ profile, limit, files, env: {}, cliFlags: [], allowed: { ...input.allowed, has: () => true }, args: [], packageDir });
      return [{ severity: 'info', check: 'heap', message: `profile ${profile.name}: --max-old-space-size=${resolved.heapMiB} of a ${formatBytes(limit.bytes)} limit` }];
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return errorFindings('heap', error, `profile ${profile.name}: `);
    }
  });
}

/** The running node against the nearest `.nvmrc` and the `engines.node` of each of `dirs` (`memtune init` checks them too). */
export function nodeVersionFindings(input: Pick<DoctorInput, 'cwd' | 'nodeVersion'>, dirs: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  checkNvmrc(input, findings);
  for (const dir of new Set(dirs)) checkEngines(input.nodeVersion, dir, findings);
  return findings;
}

/**
 * The running node against the nearest `.nvmrc`, read as memtune docker reads it: a major (or lts/<codename>)
 * pins the major, a fuller version pins as many numbers as it has; `lts/*` and `node` move, so they are not compared.
 */
function checkNvmrc(input: Pick<DoctorInput, 'cwd' | 'nodeVersion'>, findings: Finding[]): void {
  const nvmrc = findNvmrc(input.cwd);
  if (!nvmrc) return;
  const { path: where, value: text } = nvmrc;
  const pinned = readNvmrcValue(text);
  if (pinned === undefined) {
    // nvm use and setup-node's node-version-file fail on it too: nothing pins the Node these scripts run on.
    findings.push({ severity: 'warning', check: 'nvmrc', message: `.nvmrc says ${quote(text)}, which is not a Node version. Write ${nvmrcForms()}.`, where });
    return;
  }
  if (pinned.kind === 'floating') {
    findings.push({ severity: 'info', check: 'nvmrc', message: `.nvmrc says ${quote(text)}, which moves with each release: doctor does not compare it`, where });
    return;
  }
  const numbers = pinned.kind === 'version' ? pinned.numbers : [pinned.major];
  const running = input.nodeVersion.replace(/^v/, '').split('.').map(Number);
  if (numbers.some((number, index) => number !== running[index])) {
    findings.push({
      severity: 'warning',
      check: 'nvmrc',
      message: `.nvmrc pins Node ${text} but this is node ${input.nodeVersion}: builds here measure another runtime than the pinned one`,
      where,
    });
  } else {
    findings.push({ severity: 'info', check: 'nvmrc', message: `.nvmrc pins Node ${text}, as running`, where });
  }
  if (isEndOfLife(numbers[0]!)) findings.push({ severity: 'warning', check: 'nvmrc', message: `.nvmrc pins Node ${numbers[0]}, which is end-of-life`, where });
}

function checkEngines(version: string, dir: string, findings: Finding[]): void {
  let range: unknown;
  try {
    range = (readManifest(dir) as { engines?: { node?: unknown } } | undefined)?.engines?.node;
  } catch {
    return;
  }
  if (typeof range !== 'string') return;
  const where = join(dir, 'package.json');
  const satisfied = satisfies(version, range);
  if (satisfied === undefined) findings.push({ severity: 'info', check: 'engines', message: `engines.node ${JSON.stringify(range)} is a range memtune does not read`, where });
  else if (!satisfied) findings.push({ severity: 'error', check: 'engines', message: `node ${version} does not satisfy engines.node ${JSON.stringify(range)}`, where });
  else findings.push({ severity: 'info', check: 'engines', message: `node ${version} satisfies engines.node ${JSON.stringify(range)}`, where });
}

type Version = [number, number, number];

function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(text.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]) || 0, Number(match[3]) || 0];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** A small semver range check: `||`, space-separated comparators, `>= > < <= = ^ ~`, `x` and `*`. Undefined when unreadable. */
export function satisfies(versionText: string, range: string): boolean | undefined {
  const version = parseVersion(versionText);
  if (!version) return undefined;
  let readable = true;
  const result = range.split('||').some((part) => {
    const comparators = part
      .trim()
      .replace(/([<>=^~]+)\s+/g, '$1')
      .split(/\s+/)
      .filter(Boolean);
    return comparators.every((comparator) => {
      if (comparator === '*' || comparator === 'x') return true;
      const match = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(comparator)!;
      const operator = match[1] ?? '=';
      const target = parseVersion(match[2]!);
      if (!target) {
        readable = false;
        return false;
      }
      const partial = match[2]!.split('.').filter((part) => /^\d+$/.test(part.replace(/^v/, ''))).length;
      const order = compare(version, target);
      switch (operator) {
        case '>=':
          return order >= 0;
        case '>':
          return order > 0;
        case '<=':
          return order <= 0;
        case '<':
          return order < 0;
        case '^':
          return order >= 0 && version[0] === target[0];
        case '~':
          return order >= 0 && version[0] === target[0] && (partial < 2 || version[1] === target[1]);
        default:
          return partial === 1 ? version[0] === target[0] : partial === 2 ? version[0] === target[0] && version[1] === target[1] : order === 0;
      }
    });
  });
  return readable ? result : undefined;
}

function workspaceDirs(root: string): string[] {
  const manifest = readManifest(root);
  if (!manifest) return [root];
  const patterns = workspacePatterns(root, manifest);
  return [root, ...(patterns ? listWorkspacePackages(root, patterns).map((pkg) => join(root, pkg.dir)) : [])];
}

/**
 * Every TypeScript compiler the packages depend on, each as that package resolves it: the detector that
 * `memtune run` and `memtune bench` use, so the three commands agree on what is native.
 */
function typeScriptFindings(root: string, dirs: string[]): Finding[] {
  const seen = new Map<string, { version: string; native: boolean; packages: string[] }>();
  for (const dir of dirs) {
    for (const dependency of compilerDependencies(dir)) {
      const compiler = compilerOfDependency(dir, dependency.name);
      const version = compiler?.version ?? `${dependency.spec} (not installed)`;
      const key = `${dependency.name}@${version}`;
      const entry = seen.get(key) ?? { version, native: compiler?.native ?? dependency.target === '@typescript/native-preview', packages: [] };
      entry.packages.push(relative(root, dir) || '.');
      seen.set(key, entry);
    }
  }
  const findings: Finding[] = [];
  for (const [key, entry] of seen) {
    const kind = entry.native ? 'native (Go): GOMEMLIMIT, GOGC and --checkers size it, V8 flags do not' : 'JavaScript on V8: NODE_OPTIONS sizes it';
    findings.push({ severity: 'info', check: 'typescript', message: `${key.replace(/@[^@]*$/, '')} ${entry.version}, ${kind}; in ${entry.packages.join(', ')}` });
  }
  const versions = new Set([...seen.values()].filter((entry) => !entry.native).map((entry) => entry.version));
  if (versions.size > 1)
    findings.push({
      severity: 'warning',
      check: 'typescript',
      message: `several JavaScript TypeScript versions in one workspace (${[...versions].join(', ')}): each package type-checks with its own`,
    });
  return findings;
}

function tsconfigFindings(root: string, dir: string): Finding[] {
  const findings: Finding[] = [];
  const path = join(dir, 'tsconfig.json');
  const text = readTextIfExists(path);
  if (text === undefined) return findings;
  for (const [option, why] of Object.entries(EDITOR_ONLY_OPTIONS)) {
    const at = text.search(new RegExp(`"${option}"\\s*:\\s*true`));
    if (at < 0) continue;
    const line = text.slice(0, at).split('\n').length;
    findings.push({
      severity: 'warning',
      check: 'tsconfig',
      message: `${option} ${why}: it does not lower the memory of tsc in a CLI build`,
      where: `${relative(root, path) || path}:${line}`,
    });
  }
  return findings;
}
