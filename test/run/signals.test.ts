import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { BIN, cleanEnv, tempDir, writeTree } from '../helpers.js';

const HAS_EXECVE = process.platform !== 'win32' && typeof (process as { execve?: unknown }).execve === 'function';

/** Starts the real bin, resolves once the child node has printed its first line (its pid). */
async function start(cwd: string, args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const firstLine = new Promise<string>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, firstLine, exited, output: () => ({ stdout, stderr }) };
}

function project(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t, 'memtune-signal-');
  writeTree(dir, { 'package.json': { name: 'fixture' } });
  return dir;
}

/** A child that prints its pid, then waits; on SIGTERM it says so and exits 0 when `handle` is set. */
function waiter(handle: boolean): string[] {
  const onTerm = handle ? "process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(0); });" : '';
  return ['node', '-e', `${onTerm} console.log(process.pid); setTimeout(() => {}, 60000);`];
}

test('SIGTERM sent to memtune reaches the child, and memtune exits 128+15 when it dies of it (--spawn)', async (t) => {
  const cwd = project(t);
  const run = await start(cwd, ['run', 'start', '--spawn', '--', ...waiter(false)]);
  const childPid = Number(await run.firstLine);
  assert.notEqual(childPid, run.child.pid, 'with --spawn the command is a child of memtune');
  run.child.kill('SIGTERM');
  const [code, signal] = await run.exited;
  assert.deepEqual([code, signal], [143, null], run.output().stderr);
  assert.match(run.output().stderr, /ended by SIGTERM/);
});

test('a child that handles SIGTERM gets it through memtune and its exit code is passed on (--spawn)', async (t) => {
  const cwd = project(t);
  const run = await start(cwd, ['run', 'start', '--spawn', '--', ...waiter(true)]);
  await run.firstLine;
  run.child.kill('SIGTERM');
  const [code] = await run.exited;
  assert.equal(code, 0);
  assert.match(run.output().stdout, /child got SIGTERM/);
});

test(`without --spawn memtune ${HAS_EXECVE ? 'replaces itself with the command (process.execve): same pid' : 'stays as the parent where process.execve is missing'}`, async (t) => {
  const cwd = project(t);
  const run = await start(cwd, ['run', 'start', '--', ...waiter(true)]);
  const childPid = Number(await run.firstLine);
  if (HAS_EXECVE) assert.equal(childPid, run.child.pid, 'no memtune process stays resident beside the command');
  else assert.notEqual(childPid, run.child.pid);
  run.child.kill('SIGTERM');
  const [code] = await run.exited;
  assert.equal(code, 0);
  assert.match(run.output().stdout, /child got SIGTERM/);
});
