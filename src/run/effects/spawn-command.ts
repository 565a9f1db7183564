import type * as ChildProcess from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { UsageError, quote } from '../../shared/errors.js';
import { allowedFlagsOf, type AllowedNodeFlags } from '../node-flags.js';
import { flagKey } from '../node-options.js';

// child_process costs a few ms to load, and where process.execve replaces memtune with the command it is
// never needed: load it only to spawn.
const require = createRequire(import.meta.filename);
export const childProcess = (): typeof ChildProcess => require('node:child_process') as typeof ChildProcess;

const IS_WINDOWS = process.platform === 'win32';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (!IS_WINDOWS) accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a command as a shell would, without a shell: a name with a slash is a path from `cwd`;
 * any other name is looked up on `path` (on Windows with each PATHEXT extension). Undefined when not found.
 */
export function findCommand(command: string, path: string | undefined, cwd: string, pathext = process.env.PATHEXT): string | undefined {
  const extensions = IS_WINDOWS ? ['', ...(pathext ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  const candidates = (base: string) => extensions.map((extension) => base + extension);
  if (command.includes('/') || (IS_WINDOWS && command.includes('\\'))) {
    return candidates(isAbsolute(command) ? command : resolve(cwd, command)).find(isExecutableFile);
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const found = candidates(join(isAbsolute(dir) ? dir : resolve(cwd, dir), command)).find(isExecutableFile);
    if (found) return found;
  }
  return undefined;
}

export function commandNotFound(command: string, path: string | undefined, cwd: string): UsageError {
  if (command.includes('/') || (IS_WINDOWS && command.includes('\\'))) return pathNotRunnable(command, isAbsolute(command) ? command : resolve(cwd, command));
  const dirs = (path ?? '').split(delimiter).filter(Boolean);
  return new UsageError(
    {
      message: `command not found: ${quote(command)} (looked in ${dirs.length} PATH directories, node_modules/.bin first).`,
      fix: 'Install it in this package (npm install --save-dev <package>) or write its path.',
    },
    127,
  );
}

/** A command written as a path: it is missing, a directory, or a file without the execute bit (126, as a shell says). */
function pathNotRunnable(command: string, file: string): UsageError {
  let stats: ReturnType<typeof statSync> | undefined;
  try {
    stats = statSync(file);
  } catch {
    return new UsageError({ where: quote(command), message: `no such file (${file}).`, fix: 'Check the path, or build the file first.' }, 127);
  }
  if (stats.isDirectory()) return new UsageError({ where: quote(command), message: 'is a directory, not a command.', fix: 'Name the file to run inside it.' }, 126);
  return new UsageError(
    {
      where: quote(command),
      message: 'is not executable.',
      fix: `Make it executable (chmod +x ${command}), or run it with its interpreter, e.g. memtune run <profile> -- node ${command}`,
    },
    126,
  );
}

/** This process's own node: no spawn needed. */
export function allowedFlagsOfThisNode(): AllowedNodeFlags {
  const own = process.allowedNodeEnvironmentFlags;
  return { node: process.execPath, version: process.version, has: (flag) => own.has(flag) || own.has(flagKey(flag)) };
}

/** The flags another node binary accepts in NODE_OPTIONS: asked once, from that binary itself. */
export function allowedFlagsOfNode(node: string): AllowedNodeFlags {
  const result = childProcess().spawnSync(node, ['-p', 'process.version + "\\n" + [...process.allowedNodeEnvironmentFlags].join("\\n")'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
    timeout: 30_000,
  });
  if (result.status !== 0) {
    throw new UsageError(
      {
        message: `could not ask ${quote(node)} which flags it accepts (exit ${result.status ?? result.signal}): ${String(result.stderr).trim().split('\n').slice(-3).join(' ')}`,
        fix: 'Check that this node runs: node -v.',
      },
      1,
    );
  }
  const [version = '', ...flags] = String(result.stdout).trim().split('\n');
  return allowedFlagsOf(node, version, flags);
}

export interface StartOptions {
  /** Replace this process with the command where `process.execve` exists (POSIX, Node >= 22.15). */
  execve: boolean;
  /** Called once, right before the command starts: where memtune execs, the last moment its own code runs. */
  beforeStart?: () => void;
}

export interface Exit {
  code: number;
  signal?: NodeJS.Signals;
  /** Why the command could not start, for the CLI to print. */
  error?: string;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = IS_WINDOWS ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/**
 * Starts `file` without a shell and resolves with the exit code to pass on: the command's own code,
 * 128+n when it died of signal n, 127 when it could not be found, 126 when it could not be executed.
 * With `execve`, this process becomes the command and the promise never settles.
 */
export function startCommand(file: string, argv0: string, args: string[], env: NodeJS.ProcessEnv, options: StartOptions): Promise<Exit> {
  const cleanEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) cleanEnv[key] = value;
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string>) => never }).execve;
  options.beforeStart?.();
  if (options.execve && !IS_WINDOWS && typeof execve === 'function') {
    try {
      execve.call(process, file, [argv0, ...args], cleanEnv);
    } catch {
      // execve failed before replacing the process (e.g. a script without a usable interpreter line): spawn instead.
    }
  }
  return new Promise((resolvePromise) => {
    const child = childProcess().spawn(file, args, { stdio: 'inherit', env: cleanEnv, argv0, windowsHide: false });
    const forward = (signal: NodeJS.Signals) => {
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const done = (exit: Exit) => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolvePromise(exit);
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      done({ code: error.code === 'ENOENT' ? 127 : 126, error: `could not start ${quote(argv0)} (${file}): ${error.message}` });
    });
    child.on('exit', (code, signal) => {
      if (signal) done({ code: 128 + (osConstants.signals[signal] ?? 0), signal });
      else done({ code: code ?? 1 });
    });
  });
}
