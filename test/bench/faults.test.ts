import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { BenchReport } from '../../src/bench/types.js';
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
  run: (args: string[], options?: { timeout?: number; killSignal?: NodeJS.Signals; uid?: number; gid?: number }) => Result;
  start: (args: string[]) => { child: ReturnType<typeof spawn>; stderr: () => string };
}

/**
 * A workspace of `packages` (or one package at the root) checked by a fake compiler that logs each check
 * to calls.jsonl, then runs `body`. Every check ends ok at once unless `body` says otherwise.
 */
/** Every directory and file under `dir` readable and writable by anyone: the tree a test hands to another user. */
function openToAll(dir: string): void {
  chmodSync(dir, 0o777);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) openToAll(path);
    else chmodSync(path, 0o777);
  }
}

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

function readReport(out: string): BenchReport {
  return JSON.parse(readFileSync(join(out, 'memtune-report.json'), 'utf8')) as BenchReport;
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

test('--resume after a journal line cut off mid-write measures that run again and leaves a journal the next --resume reads', (t) => {
  const bench = fakeBench(t);
  const args = ['--compiler', bench.compiler, '--runs', '2'];
  assert.equal(bench.run(args).status, 0);
  const journal = join(bench.root, '.memtune', 'memtune-journal.jsonl');
  // What a kill during the write of the last run leaves: that line cut short, no newline after it.
  const text = readFileSync(journal, 'utf8');
  const last = text.lastIndexOf('\n', text.length - 2) + 1;
  writeFileSync(journal, text.slice(0, last + 40));

  const resumed = bench.run(['--resume', ...args]);
  assert.equal(resumed.status, 0, resumed.stderr);
  assertNoTempDirs(bench);
  assert.match(resumed.stderr, /memtune-journal\.jsonl:\d+ was cut off by an interrupted write; that run is measured again/);
  assert.equal(bench.calls().length, 4, 'the counting run, runs 1 and 2, and run 2 again');
  const repaired = readFileSync(journal, 'utf8');
  assert.ok(repaired.endsWith('\n'), 'the journal ends with a whole line');
  for (const line of repaired.trim().split('\n')) JSON.parse(line);

  const again = bench.run(['--resume', ...args]);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(bench.calls().length, 4, 'nothing is left to measure');
  assert.equal(readReport(join(bench.root, '.memtune')).packages[0]?.runs.length, 2);
});

test('--resume measures the bench its journal was started with, and refuses options that conflict with it, naming both', async (t) => {
  const bench = fakeBench(t, ['a', 'b', 'c'], (root) => holdBody(root, 'b', 3));
  writeFileSync(join(bench.root, 'hold'), '');
  // Interrupted while b's second measured run (its third check) runs: a has both runs, b one.
  const { child, stderr } = bench.start(['--compiler', bench.compiler, '--filter', 'a', '--filter', 'b', '--runs', '2', '--concurrency', '1', '--out', 'reports']);
  await waitFor(join(bench.root, 'held.json'), child, stderr);
  heldPids(t, bench.root);
  child.kill('SIGINT');
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 130, stderr());
  assert.match(stderr(), /Run memtune bench --resume --out reports to measure the rest\./);
  const out = join(bench.root, 'reports');
  assert.deepEqual(
    readReport(out).packages.map((pkg) => [pkg.name, pkg.runs.length]),
    [
      ['a', 2],
      ['b', 1],
    ],
  );
  const md = readFileSync(join(out, 'memtune-report.md'), 'utf8');
  assert.doesNotMatch(md, /over 2 runs/, 'b has one run');
  assert.match(md, /Fewer runs than the 2 asked .*: b \(1 run\)\./);

  rmSync(join(bench.root, 'hold'));
  const checks = bench.calls().length;
  const resumed = bench.run(['--resume', '--out', 'reports']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming the bench in reports\/memtune-journal\.jsonl: --filter a --filter b --compiler .*fake-typescript --runs 2/);
  assert.deepEqual(bench.calls().slice(checks), [{ dir: 'b', counts: false, pid: bench.calls()[checks]?.pid }], "only b's missing run; c is not part of this bench");
  assert.deepEqual(
    readReport(out).packages.map((pkg) => [pkg.name, pkg.runs.length]),
    [
      ['a', 2],
      ['b', 2],
    ],
  );

  const same = bench.run(['--resume', '--out', 'reports', '--runs', '2', '--filter', 'b', '--filter', 'a']);
  assert.equal(same.status, 0, `the same options are no conflict: ${same.stderr}`);
  for (const [args, message] of [
    [['--runs', '3'], /^memtune: --runs 3: this bench was started with --runs 2 \(reports\/memtune-journal\.jsonl\)\.\nLeave --runs out to resume it/],
    [['--filter', 'c'], /^memtune: --filter c: this bench was started with --filter a --filter b /],
    [['--warm'], /^memtune: --warm: this bench was started without --warm /],
    [['--script', 'build'], /^memtune: --script build: this bench was started without --script /],
  ] as const) {
    const result = bench.run(['--resume', '--out', 'reports', ...args]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assertNoStackTrace(result.stderr);
  }
  assert.equal(bench.calls().length, checks + 1, 'nothing measured by the refused ones');
  assertNoTempDirs(bench);
});

test('a report that cannot be written after the measuring keeps the journal, names the file, and --resume writes it without measuring again', (t) => {
  const bench = fakeBench(t);
  const out = join(bench.root, '.memtune');
  mkdirSync(join(out, 'memtune-report.md', 'in-the-way'), { recursive: true });
  const result = bench.run(['--compiler', bench.compiler]);
  assert.equal(result.status, 2, result.stderr);
  assertNoStackTrace(result.stderr);
  assert.match(
    result.stderr,
    /^memtune: \.memtune\/memtune-report\.md: cannot be written \(EISDIR\); the finished runs are kept in \.memtune\/memtune-journal\.jsonl\.\n.*memtune bench --resume/m,
  );
  assert.equal(bench.calls().length, 2);

  rmSync(join(out, 'memtune-report.md'), { recursive: true });
  const resumed = bench.run(['--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(bench.calls().length, 2, 'nothing measured again');
  assert.doesNotMatch(resumed.stderr, /started/);
  assert.match(readFileSync(join(out, 'memtune-report.md'), 'utf8'), /\| single \|/);
  assert.equal(readReport(out).packages[0]?.status, 'ok');
  assertNoTempDirs(bench);
});

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
    assertNoStackTrace(stderr());
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

test('a journal that cannot be written stops the bench before any run, naming it, with no temp directory left', (t) => {
  const bench = fakeBench(t);
  const journal = join(bench.root, '.memtune', 'memtune-journal.jsonl');
  mkdirSync(join(journal, 'in-the-way'), { recursive: true });
  for (const [args, message] of [
    [[], /^memtune: \.memtune\/memtune-journal\.jsonl: cannot be written \(EISDIR\)\.\nMake it a file you can write, or pass another --out\./],
    [['--resume'], /^memtune: \.memtune\/memtune-journal\.jsonl: cannot be read \(EISDIR\)\.\n/],
  ] as const) {
    const result = bench.run(['--compiler', bench.compiler, ...args]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assertNoStackTrace(result.stderr);
  }
  // A read-only journal. Root passes every permission check, so as root the bench runs as `nobody`, with the rest
  // of the tree open to it.
  rmSync(journal, { recursive: true });
  writeFileSync(journal, '');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) for (const dir of [bench.root, bench.tmp]) openToAll(dir);
  chmodSync(journal, 0o444);
  const result = bench.run(['--compiler', bench.compiler], asRoot ? { uid: 65534, gid: 65534 } : {});
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /^memtune: \.memtune\/memtune-journal\.jsonl: cannot be written \(EACCES\)\./);
  assert.deepEqual(bench.calls(), [], 'nothing was measured');
  assertNoTempDirs(bench);
});

test('a journal that stops taking writes in the middle of a bench stops it with a message naming it, leaving no process or temp directory', (t) => {
  // The first check to end takes the journal's place away: appending its run fails, with the other package's check running.
  const journal = 'const j = require("node:path").join(process.cwd(), "..", "..", ".memtune", "memtune-journal.jsonl");';
  const bench = fakeBench(
    t,
    ['a', 'b'],
    `${journal}\nif (dir === 'a') { fs.rmSync(j, { force: true }); fs.mkdirSync(j, { recursive: true }); } else setTimeout(() => {}, 60_000);`,
  );
  const result = bench.run(['--compiler', bench.compiler, '--concurrency', '2', '--budget', '100%'], { timeout: 60_000 });
  const pids = bench.calls().map((call) => call.pid);
  t.after(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /^memtune: \.memtune\/memtune-journal\.jsonl: cannot be written \(EISDIR\)/m);
  assertNoStackTrace(result.stderr);
  assert.deepEqual(pids.filter(alive), [], 'the running check was stopped');
  assertNoTempDirs(bench);
});

test('a baseline that is not whole is refused before any run, naming the field', (t) => {
  const bench = fakeBench(t);
  assert.equal(bench.run(['--compiler', bench.compiler, '--out', 'first']).status, 0);
  const good = readReport(join(bench.root, 'first'));
  const checks = bench.calls().length;
  const [pkg] = good.packages as unknown as Array<Record<string, unknown>>;
  const cases: Array<[unknown, RegExp]> = [
    [{ ...good, environment: null }, /^memtune: --baseline "baseline\.json": environment is null, not an object\./],
    [{ ...good, packages: [null] }, /^memtune: --baseline "baseline\.json": packages\[0\] is null, not an object\./],
    [{ ...good, packages: [{}] }, /^memtune: --baseline "baseline\.json": packages\[0\]\.name is missing, not a string\./],
    [{ ...good, packages: [{ ...pkg, spread: undefined }] }, /^memtune: --baseline "baseline\.json": packages\[0\]\.spread is missing, not an object\./],
    [{ ...good, packages: [{ ...pkg, peakRssBytes: '300' }] }, /^memtune: --baseline "baseline\.json": packages\[0\]\.peakRssBytes is "300", not a number or null\./],
  ];
  for (const [baseline, message] of cases) {
    writeFileSync(join(bench.root, 'baseline.json'), JSON.stringify(baseline));
    const result = bench.run(['--compiler', bench.compiler, '--baseline', 'baseline.json']);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /\nPass the memtune-report\.json of an earlier memtune bench, as it wrote it\.\n/);
    assertNoStackTrace(result.stderr);
  }
  assert.equal(bench.calls().length, checks, 'nothing measured against them');
  assertNoTempDirs(bench);
});
