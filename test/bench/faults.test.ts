import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, cleanEnv, runMemtune, tempDir, writeTree, type Result } from '../helpers.js';
import { fakeCompiler, writeWhole } from './fake-compiler.js';

// Hostile input and faults (issue 12): each ends in a message naming the file and the fix, never a stack
// trace, and leaves no process and no temporary directory behind.

interface Call {
  dir: string;
  counts: boolean;
  pid: number;
}

interface Bench {
  root: string;
  compiler: string;
  /** TMPDIR of the benches started here: nothing of theirs may be left in it. */
  tmp: string;
  /** Each check the fake compiler was asked for (not --showConfig), in order. */
  calls: () => Call[];
  run: (args: string[], options?: { timeout?: number; killSignal?: NodeJS.Signals }) => Result;
  start: (args: string[]) => { child: ReturnType<typeof spawn>; stderr: () => string };
}

/**
 * A workspace of `packages` (or one package at the root) checked by a fake compiler that logs each check
 * to calls.jsonl, then runs `body`. Every check ends ok at once unless `body` says otherwise.
 */
function fakeBench(t: TestContext, packages: string[] = [], body: string | ((root: string) => string) = ''): Bench {
  const root = tempDir(t);
  const tmp = tempDir(t, 'memtune-tmpdir-');
  const log = join(root, 'calls.jsonl');
  if (packages.length === 0) writeTree(root, { 'package.json': { name: 'single' }, 'tsconfig.json': { files: [] } });
  else writeTree(root, { 'package.json': { name: 'mono', private: true, workspaces: ['packages/*'] } });
  for (const name of packages) writeTree(root, { [`packages/${name}/package.json`]: { name }, [`packages/${name}/tsconfig.json`]: { files: [] } });
  const compiler = fakeCompiler(
    root,
    [
      "const fs = require('node:fs');",
      "const dir = require('node:path').basename(process.cwd());",
      `const log = ${JSON.stringify(log)};`,
      "const earlier = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\\n').filter((line) => line.includes(`\"dir\":${JSON.stringify(dir)}`)).length : 0;",
      "fs.appendFileSync(log, JSON.stringify({ dir, counts: process.argv.includes('--extendedDiagnostics'), pid: process.pid }) + '\\n');",
      typeof body === 'string' ? body : body(root),
    ].join('\n'),
  );
  const env = cleanEnv({ TMPDIR: tmp });
  return {
    root,
    compiler,
    tmp,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as Call)
        : [],
    run: (args, options = {}) => runMemtune(['bench', ...args], { cwd: root, env, ...options }),
    start: (args) => {
      const child = spawn(process.execPath, [BIN, 'bench', ...args], { cwd: root, env });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return { child, stderr: () => stderr };
    },
  };
}

function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at .+/m, 'a message, not a stack trace');
}

/** What the benches left in their TMPDIR. */
function assertNoTempDirs(bench: Bench): void {
  assert.deepEqual(
    readdirSync(bench.tmp).filter((name) => /^memtune-(bench|probe)-/.test(name)),
    [],
    'no temporary directory left',
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once `path` exists (a fake compiler writes it whole when it is running). */
async function waitFor(path: string, child: ReturnType<typeof spawn>, stderr: () => string): Promise<void> {
  const until = Date.now() + 60_000;
  while (!existsSync(path)) {
    if (child.exitCode !== null || Date.now() > until) assert.fail(`${path} never appeared:\n${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A fake compiler body that holds the `nth` check (from 1) of package `dir` (any package: null) while the file
 * `hold` exists, until killed, first writing its pid and its child's to held.json.
 */
function holdBody(root: string, dir: string | null, nth: number): string {
  return [
    `if (${dir === null ? 'true' : `dir === ${JSON.stringify(dir)}`} && earlier === ${nth - 1} && fs.existsSync(${JSON.stringify(join(root, 'hold'))})) {`,
    // A child of the compiler (as a launcher or npm has): it must go with it.
    "  const grandchild = require('node:child_process').spawn('sleep', ['60'], { stdio: 'ignore' });",
    `  ${writeWhole(join(root, 'held.json'), 'JSON.stringify([process.pid, grandchild.pid])')}`,
    '  setTimeout(() => {}, 60_000);',
    '}',
  ].join('\n');
}

function heldPids(t: TestContext, root: string): number[] {
  const pids = JSON.parse(readFileSync(join(root, 'held.json'), 'utf8')) as number[];
  t.after(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  return pids;
}

test('SIGTERM and SIGHUP stop a bench as Ctrl-C does: the compiler and its children killed, no temp directory left, exit 128 + the signal number', async (t) => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    const bench = fakeBench(t, [], (root) => holdBody(root, null, 1));
    writeFileSync(join(bench.root, 'hold'), '');
    const { child, stderr } = bench.start(['--compiler', bench.compiler]);
    await waitFor(join(bench.root, 'held.json'), child, stderr);
    const pids = heldPids(t, bench.root);
    child.kill(signal);
    const [exitCode, killedBy] = (await once(child, 'close')) as [number | null, string | null];
    assert.deepEqual([exitCode, killedBy], [code, null], `${signal}: ${stderr()}`);
    assert.match(stderr(), /interrupted; 0 of 2 runs finished/, signal);
    assert.deepEqual(pids.filter(alive), [], `${signal}: neither the compiler nor its child is left running`);
    assertNoTempDirs(bench);
  }
});

test('an --out under /proc, /sys or /dev is refused before anything runs, naming the path', (t) => {
  const bench = fakeBench(t);
  symlinkSync('/proc/self', join(bench.root, 'proc-link'));
  t.after(() => rmSync('/dev/memtune', { recursive: true, force: true }));
  for (const [out, under] of [
    ['/proc/memtune', '/proc'],
    ['/sys/memtune', '/sys'],
    ['/dev/memtune', '/dev'],
    ['proc-link/memtune', '/proc'],
  ] as const) {
    // Node's recursive mkdir spun forever on /proc/memtune, deaf to SIGTERM: a timeout with SIGKILL ends that.
    const result = bench.run(['--compiler', bench.compiler, '--out', out], { timeout: 30_000, killSignal: 'SIGKILL' });
    assert.equal(result.status, 2, `${out}: ${result.signal ?? ''} ${result.stderr}`);
    assert.match(
      result.stderr,
      new RegExp(
        `^memtune: --out "${out}": is under ${under}, a file system the kernel makes up, not a place for files\\.\\nPass a directory on a disk, e\\.g\\. --out \\.memtune`,
      ),
    );
    assertNoStackTrace(result.stderr);
  }
  assert.deepEqual(bench.calls(), []);
  assert.ok(!existsSync('/dev/memtune'));
});
