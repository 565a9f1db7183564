import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { detectMemoryLimit, type MemoryLimit } from '../../shared/effects/memory-limit.js';
import { binDirs, findPackageDirs, type PackageDirs } from '../../shared/effects/package-dirs.js';
import { detectCommandCompiler } from '../../shared/effects/typescript-compiler.js';
import { type Notice, quote } from '../../shared/errors.js';
import { loadEnvFiles } from '../../shared/effects/env-files.js';
import type { Profile } from '../../shared/profiles.js';
import type { AllowedNodeFlags } from '../node-flags.js';
import { formatNodeOptions, type FlagSetting, type NodeOptionsFile } from '../node-options.js';
import { readNodeOptionsFiles } from './node-options-files.js';
import { OUTER_MARKER, resolveRun, type ResolvedRun } from '../resolve-run.js';
import { parseTurboCommand } from '../turbo.js';
import { planTurbo, type TurboPlan } from './turbo-tasks.js';
import { allowedFlagsOfNode, allowedFlagsOfThisNode, commandNotFound, findCommand, startCommand, type Exit, type StartOptions } from './spawn-command.js';

/** What `memtune run` was asked, parsed by the command. */
export interface RunRequest {
  profile: Profile;
  profileNames: string[];
  /** The command and its arguments; empty for a dry run without one. */
  command: string[];
  cwd: string;
  dotenv: string[];
  overrideEnv: boolean;
  cliFlags: FlagSetting[];
  /** `--report` files, for a turbo command. */
  reports: string[];
  /** `--explain`: a turbo command is sized even where the user's concurrency wins, to show it. */
  explain: boolean;
}

/** Everything a run reads from the machine and the repository, and what memtune makes of it. */
export interface PreparedRun {
  dirs: PackageDirs;
  env: NodeJS.ProcessEnv;
  envOrigins: Record<string, string>;
  limit: MemoryLimit;
  files: NodeOptionsFile[];
  /** The command as written, and its file on PATH (node_modules/.bin first); undefined for a dry run without one. */
  commandName: string | undefined;
  resolved: string | undefined;
  path: string;
  result: ResolvedRun;
  /** What a `turbo run` command adds (TURBO_CONCURRENCY, MEMTUNE_TASK_LIMITS); undefined for any other command. */
  turbo: TurboPlan | undefined;
}

/** The flags of the node that will run the command: this one's own set when it is the same binary, else asked from that binary. */
function allowedFlagsFor(nodePath: string | undefined): AllowedNodeFlags {
  if (nodePath === undefined) return allowedFlagsOfThisNode();
  try {
    if (realpathSync(nodePath) === realpathSync(process.execPath)) return allowedFlagsOfThisNode();
  } catch {
    return allowedFlagsOfThisNode();
  }
  return allowedFlagsOfNode(nodePath);
}

/**
 * Reads what the run needs (package dirs, .env files, memory limit, .node-options, the command on PATH) and resolves
 * it. Synchronous: nothing is awaited before the command starts, so where memtune execs it does so at once.
 */
export function prepareRun(request: RunRequest): PreparedRun {
  const dirs = findPackageDirs(request.cwd);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const envOrigins = loadEnvFiles(env, dirs.packageDir, request.dotenv, request.overrideEnv);
  const limit = detectMemoryLimit({ env, packageDir: dirs.packageDir });

  const [commandName, ...commandArgs] = request.command;
  const path = [...binDirs(dirs.packageDir, dirs.repoRoot), env.PATH ?? ''].join(delimiter);
  const resolved = commandName === undefined ? undefined : findCommand(commandName, path, request.cwd);
  if (commandName !== undefined && resolved === undefined) throw commandNotFound(commandName, path, request.cwd);
  const nodePath = resolved !== undefined && /^node(\.exe)?$/i.test(basename(commandName!)) ? resolved : findCommand('node', path, request.cwd);
  const allowed = allowedFlagsFor(nodePath);
  const files = readNodeOptionsFiles(dirs, request.profileNames, allowed);

  const result = resolveRun({
    profile: request.profile,
    limit,
    files,
    env,
    envOrigins,
    cliFlags: request.cliFlags,
    allowed,
    ...(resolved !== undefined ? { compiler: detectCommandCompiler(commandName!, resolved, dirs) } : {}),
    args: commandArgs,
    packageDir: dirs.packageDir,
  });
  const turboCommand = parseTurboCommand(request.command);
  const turbo =
    turboCommand &&
    planTurbo({
      turbo: turboCommand,
      from: `memtune run ${request.profile.name} -- ${request.command.join(' ')}`,
      dirs,
      cwd: request.cwd,
      env: { ...env, PATH: path },
      reports: request.reports,
      limit,
      explain: request.explain,
    });
  return { dirs, env, envOrigins, limit, files, commandName, resolved, path, result, turbo };
}

/**
 * Creates the directories the flags write into (heap snapshots, reports). A service in a container often
 * runs as a user who cannot write its app directory: reports still need a home, so such a flag moves to
 * a temporary directory. Returns the NODE_OPTIONS to use and a notice per move.
 */
function ensureDirectories(result: ResolvedRun): { nodeOptions: ResolvedRun['nodeOptions']; notices: Notice[] } {
  let nodeOptions = result.nodeOptions;
  const notices: Notice[] = [];
  let fallback: string | undefined;
  for (const dir of result.directories) {
    const problem = directoryProblem(dir, false);
    if (problem === undefined) continue;
    fallback ??= fallbackDirectory();
    const to = fallback;
    notices.push({ where: quote(dir), message: `${problem}; diagnostics go to ${to}.` });
    nodeOptions = nodeOptions.map((flag) => (flag.value === dir ? { ...flag, value: to } : flag));
  }
  return { nodeOptions, notices };
}

/** Why node could not write its reports into `dir` (created if missing), or undefined when it can. */
function directoryProblem(dir: string, ownOnly: boolean): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: ownOnly ? 0o700 : 0o777 });
    const stats = statSync(dir);
    if (!stats.isDirectory()) return 'is not a directory';
    // A shared temporary directory made by another user: node could not open its report there, and it is theirs.
    if (ownOnly && process.getuid && stats.uid !== process.getuid()) return `belongs to user ${stats.uid}`;
    accessSync(dir, fsConstants.W_OK);
    return undefined;
  } catch (error) {
    return `cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
}

/** This user's own directory under the temporary directory, or a fresh one when that is taken or unusable. */
function fallbackDirectory(): string {
  const own = join(tmpdir(), `memtune-diagnostics-${process.getuid?.() ?? 'user'}`);
  return directoryProblem(own, true) === undefined ? own : mkdtempSync(join(tmpdir(), 'memtune-diagnostics-'));
}

/** Starts the prepared command (replacing memtune where process.execve can); `notice` gets what the user should know first. */
export async function startRun(prepared: PreparedRun, options: StartOptions & { notice: (notice: Notice) => void }): Promise<Exit & { nodeOptions: string }> {
  const { result } = prepared;
  const childEnv: NodeJS.ProcessEnv = { ...prepared.env, PATH: prepared.path };
  for (const setting of [...result.env, ...(prepared.turbo?.env ?? [])]) childEnv[setting.key] = setting.value;
  const { nodeOptions, notices } = ensureDirectories(result);
  for (const notice of notices) options.notice(notice);
  if (nodeOptions !== result.nodeOptions) childEnv.NODE_OPTIONS = formatNodeOptions(nodeOptions);
  childEnv[OUTER_MARKER] = childEnv.NODE_OPTIONS;
  const exit = await startCommand(prepared.resolved!, prepared.commandName!, result.args, childEnv, options);
  return { ...exit, nodeOptions: childEnv.NODE_OPTIONS ?? '' };
}
