import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(REPO, 'bin', 'memtune.js');
export const FIXTURES = join(REPO, 'test', 'fixtures');

/** The three compilers installed side by side through npm aliases. */
export const COMPILERS = [
  { version: '5.9.3', tsc: join(REPO, 'node_modules', 'typescript-5', 'bin', 'tsc'), native: false },
  { version: '6.0.3', tsc: join(REPO, 'node_modules', 'typescript-6', 'bin', 'tsc'), native: false },
  { version: '7.0.2', tsc: join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), native: true },
] as const;

/** The environment for spawned CLIs: node:test's context, inherited NODE_OPTIONS and GitHub's files would change them. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  delete env.MEMTUNE_MEMORY_LIMIT;
  // Run inside GitHub Actions, a bench would append to the job's own summary and outputs.
  delete env.GITHUB_STEP_SUMMARY;
  delete env.GITHUB_OUTPUT;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runNode(args: string[], options: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}): Result {
  const result = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 120_000,
    ...options,
    env: options.env ?? cleanEnv(),
  });
  return {
    status: result.status,
    signal: result.signal,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
}

/** Runs the real, compiled `memtune` bin. */
export function runMemtune(args: string[], options: SpawnSyncOptions & { env?: NodeJS.ProcessEnv } = {}): Result {
  return runNode([BIN, ...args], options);
}

/** A temporary directory removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'memtune-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a tree of files: keys are relative paths, values are file contents (objects become JSON). */
export function writeTree(root: string, files: Record<string, string | object>): void {
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

/** Makes `memtune` and `@types/node` resolvable from `dir` as they would be after `npm install memtune`. */
export function linkMemtune(dir: string): void {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(REPO, join(dir, 'node_modules', 'memtune'), 'dir');
  symlinkSync(join(REPO, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
}
