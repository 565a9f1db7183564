import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { profileHeapMiB } from '../../src/shared/profiles.js';
import { loadProfiles } from '../../src/shared/effects/load-profiles.js';
import { GiB } from '../../src/shared/size.js';
import { BIN, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';

const PROFILES = loadProfiles();
/** A command that leaves a file behind if it ever starts: "nothing started" is checked by its absence. */
const MARK = ['node', '-e', "require('fs').writeFileSync('started', '')"];

function project(t: Parameters<typeof tempDir>[0], files: Record<string, string | object> = {}): string {
  const dir = tempDir(t, 'memtune-run-');
  writeTree(dir, { 'package.json': { name: 'fixture', private: true }, ...files });
  return dir;
}

function heapLimitOfNode(oldSpaceMiB: number): number {
  const result = spawnSync(process.execPath, [`--max-old-space-size=${oldSpaceMiB}`, '-p', 'v8.getHeapStatistics().heap_size_limit'], { encoding: 'utf8', env: cleanEnv() });
  return Number(result.stdout);
}

test("with MEMTUNE_MEMORY_LIMIT=2GiB the build profile gives the started node the profile's share of 2 GiB", (t) => {
  const cwd = project(t);
  const result = runMemtune(['run', 'build', '--', 'node', '-p', 'v8.getHeapStatistics().heap_size_limit'], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '2GiB' }) });
  assert.equal(result.status, 0, result.stderr);
  const expectedMiB = profileHeapMiB(PROFILES.build!.heap, 2 * GiB);
  // V8 adds its young generation to the old-space flag: compare with a node given the same flag directly.
  assert.equal(Number(result.stdout), heapLimitOfNode(expectedMiB));
});

test("the start profile sizes the heap from the detected limit: 512 MiB gives the profile's share of 512 MiB", (t) => {
  const cwd = project(t);
  const result = runMemtune(['run', 'start', '--', 'node', '-p', 'v8.getHeapStatistics().heap_size_limit'], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '512MiB' }) });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(Number(result.stdout), heapLimitOfNode(profileHeapMiB(PROFILES.start!.heap, 512 * 1024 ** 2)));
  assert.ok(existsSync(join(cwd, '.memtune', 'diagnostics')), 'the diagnostics directory is created for --report-on-fatalerror');
});

test('refuses the seed NODE_OPTIONS flags in .node-options, naming --gc-interval and its line, and starts nothing', (t) => {
  const cwd = project(t, { '.node-options': '# from the old package.json\n--max-old-space-size=4096\n--optimize-for-size\n--gc-interval=100\n' });
  const result = runMemtune(['run', 'build', '--', ...MARK], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '8GiB' }) });
  assert.equal(result.status, 2);
  assert.match(result.stderr, new RegExp(`^memtune: ${cwd.replaceAll('.', '\\.')}/\\.node-options:4: --gc-interval is not allowed in NODE_OPTIONS .*V8 debugging flag`, 'm'));
  assert.match(result.stderr, /\.node-options:3: --optimize-for-size is not allowed/);
  assert.doesNotMatch(result.stderr, /:2: /);
  assert.equal(existsSync(join(cwd, 'started')), false);
});

const BAD_INPUT: Array<{ name: string; args: string[]; files?: Record<string, string>; env?: Record<string, string>; status: number; stderr: RegExp }> = [
  {
    name: 'an unknown profile, listing the known ones',
    args: ['run', 'bild', '--', ...MARK],
    status: 2,
    stderr: /^memtune: unknown profile "bild"; the profiles are build, typecheck, test, dev, start\.\n/,
  },
  { name: 'no command after --', args: ['run', 'build', '--'], status: 2, stderr: /^memtune: no command after --\.\nWrite: memtune run build -- <command>/ },
  { name: 'no -- at all', args: ['run', 'build'], status: 2, stderr: /^memtune: no command after --\./ },
  { name: 'a command before --', args: ['run', 'build', 'tsc'], status: 2, stderr: /^memtune: "tsc" comes before --/ },
  {
    name: 'a malformed .node-options, with file:line',
    args: ['run', 'build', '--', ...MARK],
    files: { '.node-options': '--max-old-space-size=60%\n[build]\nheap=lots\n' },
    status: 2,
    stderr: /\.node-options:3: heap= cannot be set here/,
  },
  {
    name: 'an invalid MEMTUNE_MEMORY_LIMIT',
    args: ['run', 'build', '--', ...MARK],
    env: { MEMTUNE_MEMORY_LIMIT: '2GB' },
    status: 2,
    stderr: /^memtune: MEMTUNE_MEMORY_LIMIT="2GB": not a memory size\.\n/,
  },
  {
    name: 'a heap of -1',
    args: ['run', 'build', '--', ...MARK],
    files: { '.node-options': '--max-old-space-size=-1\n' },
    status: 2,
    stderr: /:1: "--max-old-space-size=-1" is not a size/,
  },
  {
    name: 'a heap of 150%',
    args: ['run', 'build', '--', ...MARK],
    files: { '.node-options': '\n--max-old-space-size=150%\n' },
    status: 2,
    stderr: /:2: "--max-old-space-size=150%": 150% is more than the memory limit/,
  },
  {
    name: 'a heap of 4gb',
    args: ['run', 'build', '--node-option=--max-old-space-size=4gb', '--', ...MARK],
    status: 2,
    stderr: /--node-option=--max-old-space-size=4gb: "--max-old-space-size=4gb" is not a size/,
  },
  {
    name: 'a heap above the memory limit',
    args: ['run', 'build', '--', ...MARK],
    files: { '.node-options': '--max-old-space-size=3000\n' },
    env: { MEMTUNE_MEMORY_LIMIT: '2GiB' },
    status: 2,
    stderr: /:1: --max-old-space-size=3000 is above the memory limit, 2048 MiB from MEMTUNE_MEMORY_LIMIT/,
  },
  {
    name: 'a heap in NODE_OPTIONS of the environment above the memory limit',
    args: ['run', 'test', '--', ...MARK],
    env: { NODE_OPTIONS: '--max-old-space-size=99999', MEMTUNE_MEMORY_LIMIT: '2GiB' },
    status: 2,
    stderr: /^memtune: environment NODE_OPTIONS: --max-old-space-size=99999 is above the memory limit/,
  },
  {
    name: 'a command that is not found, exit 127 with its name',
    args: ['run', 'build', '--', 'no-such-command-xyz', '--flag'],
    status: 127,
    stderr: /^memtune: command not found: "no-such-command-xyz"/,
  },
  {
    name: 'a missing --dotenv file',
    args: ['run', 'build', '--dotenv=missing.env', '--', ...MARK],
    status: 2,
    stderr: /^memtune: --dotenv ".*missing\.env": cannot be read \(ENOENT\)\.\nCheck the path/,
  },
  { name: 'an unknown option', args: ['run', 'build', '--heap=4096', '--', ...MARK], status: 2, stderr: /^memtune: unknown option "--heap"\.\nRun memtune run --help/ },
  {
    name: 'a command written without --, with options of its own',
    args: ['run', 'build', 'node', '-e', '0'],
    status: 2,
    stderr: /^memtune: "node" comes before --; the command goes after it\.\nWrite: memtune run build -- node -e 0\n$/,
  },
  {
    name: 'a command split around --, keeping all its arguments in the advice',
    args: ['run', 'build', '--dotenv', 'x.env', 'node', '--', '-e', 'x'],
    status: 2,
    stderr: /^memtune: "node" comes before --; the command goes after it\.\nWrite: memtune run build --dotenv x\.env -- node -e x\n$/,
  },
  {
    name: 'a path to a file that is not executable, exit 126',
    args: ['run', 'build', '--', './script.sh'],
    files: { 'script.sh': 'echo started > started\n' },
    status: 126,
    stderr: /^memtune: "\.\/script\.sh": is not executable\.\nMake it executable \(chmod \+x \.\/script\.sh\)/,
  },
  {
    name: 'a path to a file that does not exist, exit 127',
    args: ['run', 'build', '--', './missing.sh'],
    status: 127,
    stderr: /^memtune: "\.\/missing\.sh": no such file \(.*missing\.sh\)\./,
  },
  {
    name: 'a memory limit below the smallest heap of the profile, blaming the limit',
    args: ['run', 'build', '--', ...MARK],
    env: { MEMTUNE_MEMORY_LIMIT: '1KiB' },
    status: 2,
    stderr: /^memtune: the memory limit, 1 KiB from MEMTUNE_MEMORY_LIMIT: below the smallest heap the profile allows \(preset build/,
  },
  {
    name: 'an absurd memory limit',
    args: ['run', 'start', '--', ...MARK],
    env: { MEMTUNE_MEMORY_LIMIT: '99999999999999999999999GiB' },
    status: 2,
    stderr: /^memtune: MEMTUNE_MEMORY_LIMIT="99999999999999999999999GiB": too large for a memory limit \(above 8 PiB\)\./,
  },
  {
    name: 'a .node-options with a syntax error and a flag node refuses, both named at once',
    args: ['run', 'build', '--', ...MARK],
    files: { '.node-options': '[bild]\n--gc-interval=100\n' },
    status: 2,
    stderr: /:1: unknown profile section \[bild\][\s\S]*:2: --gc-interval is not allowed in NODE_OPTIONS/,
  },
  {
    name: 'a .node-options that is a directory',
    args: ['run', 'build', '--', ...MARK],
    files: { '.node-options/keep': '' },
    status: 2,
    stderr: /^memtune: .*\.node-options: cannot be read \(EISDIR\)\.\nMake it a readable file/,
  },
];

for (const c of BAD_INPUT) {
  test(`memtune run refuses ${c.name}, and starts nothing`, (t) => {
    const cwd = project(t, c.files);
    const result = runMemtune(c.args, { cwd, env: cleanEnv(c.env) });
    assert.equal(result.status, c.status, result.stderr);
    assert.match(result.stderr, c.stderr);
    assert.equal(existsSync(join(cwd, 'started')), false);
  });
}

test('passes the exit code of the command through', (t) => {
  const cwd = project(t);
  const failed = runMemtune(['run', 'test', '--spawn', '--', 'node', '-e', 'process.exit(7)'], { cwd });
  assert.equal(failed.status, 7);
  assert.match(failed.stderr, /^memtune: "node -e process.exit\(7\)" exited with code 7 \(profile test, NODE_OPTIONS=--max-old-space-size=\d+\)\.$/m);
  assert.equal(runMemtune(['run', 'test', '--', 'node', '-e', 'process.exit(7)'], { cwd }).status, 7);
  assert.equal(runMemtune(['run', 'test', '--', 'node', '-e', ''], { cwd }).status, 0);
});

test('--print prints KEY=VALUE lines, exits 0 and starts nothing', (t) => {
  const cwd = project(t);
  const result = runMemtune(['run', 'build', '--print', '--', ...MARK], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '2GiB' }) });
  assert.equal(result.status, 0, result.stderr);
  const heap = profileHeapMiB(PROFILES.build!.heap, 2 * GiB);
  assert.deepEqual(result.stdout.trim().split('\n'), [
    `NODE_OPTIONS=--max-old-space-size=${heap}`,
    `GOMEMLIMIT=${Math.floor((2048 * PROFILES.build!.go!.memlimitPercent) / 100)}MiB`,
    `GOGC=${PROFILES.build!.go!.gogc}`,
  ]);
  assert.equal(existsSync(join(cwd, 'started')), false);
});

test('merges preset < repo .node-options < package .node-options < NODE_OPTIONS < --node-option, and warns on duplicates', (t) => {
  const root = tempDir(t, 'memtune-run-');
  writeTree(root, {
    'package.json': { name: 'root', private: true, workspaces: ['packages/*'] },
    '.node-options': '--max-old-space-size=1000\n--expose-gc\n',
    'packages/a/package.json': { name: 'a' },
    'packages/a/.node-options': '[build]\n--max-old-space-size=1100\n',
    'packages/a/src/.keep': '',
  });
  const cwd = join(root, 'packages', 'a', 'src');
  const heap = (args: string[], env: Record<string, string> = {}) => {
    const result = runMemtune(['run', 'build', '--print', ...args], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '4GiB', ...env }) });
    assert.equal(result.status, 0, result.stderr);
    return { line: result.stdout.split('\n')[0], stderr: result.stderr };
  };
  assert.equal(heap([]).line, 'NODE_OPTIONS=--max-old-space-size=1100 --expose-gc');
  // The package's file over the repo's is the documented layering, not a mistake: no warning.
  assert.doesNotMatch(heap([]).stderr, /set twice/);
  assert.equal(heap([], { NODE_OPTIONS: '--max-old-space-size=1200' }).line, 'NODE_OPTIONS=--max-old-space-size=1200 --expose-gc');
  assert.equal(heap(['--node-option=--max-old-space-size=50%'], { NODE_OPTIONS: '--max-old-space-size=1200' }).line, 'NODE_OPTIONS=--max-old-space-size=2048 --expose-gc');
});

test('--explain names the origin of every value: preset, file:line, environment, flag', (t) => {
  const cwd = project(t, { '.node-options': '# heap for this package\n[typecheck]\n--max-old-space-size=70%\n' });
  const result = runMemtune(['run', 'typecheck', '--explain', '--node-option=--expose-gc', '--', 'node', '-e', '0'], {
    cwd,
    env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '1GiB', NODE_OPTIONS: '--max-semi-space-size=16', GOGC: '80' }),
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^memory limit: 1 GiB from MEMTUNE_MEMORY_LIMIT$/m);
  assert.match(result.stdout, /^ {2}--max-old-space-size=716 +.*\.node-options:3 \(70% of 1 GiB\)$/m);
  assert.match(result.stdout, /^ {2}--max-semi-space-size=16 +environment NODE_OPTIONS$/m);
  assert.match(result.stdout, /^ {2}--expose-gc +--node-option=--expose-gc$/m);
  assert.match(result.stdout, /^ {2}\(--max-old-space-size=\d+ from preset typecheck: 50% of 1 GiB.* replaced by .*\.node-options:3 \(70% of 1 GiB\)\)$/m);
  assert.match(result.stdout, /^GOMEMLIMIT=\d+MiB {2}preset typecheck: \d+% of 1 GiB/m);
  assert.match(result.stdout, /^GOGC=80 {2}environment GOGC$/m);
});

test('loads .env without overriding the real environment, unless --override-env; --dotenv files come after .env', (t) => {
  const cwd = project(t, { '.env': 'GREETING=from-dotenv\nONLY_FILE=1\n', 'extra.env': 'ONLY_FILE=2\n' });
  const show = ['--', 'node', '-p', 'process.env.GREETING + " " + process.env.ONLY_FILE'];
  const env = cleanEnv({ GREETING: 'from-shell' });
  assert.equal(runMemtune(['run', 'test', ...show], { cwd, env }).stdout.trim(), 'from-shell 1');
  assert.equal(runMemtune(['run', 'test', '--override-env', ...show], { cwd, env }).stdout.trim(), 'from-dotenv 1');
  assert.equal(runMemtune(['run', 'test', '--dotenv=extra.env', ...show], { cwd, env }).stdout.trim(), 'from-shell 2');
});

test('--print and --explain never show a value from .env, nor one whose name says it is secret', (t) => {
  const cwd = project(t, { '.env': 'API_TOKEN=supersecret123\nGREETING=hello-from-dotenv\n' });
  for (const flag of ['--print', '--explain']) {
    const result = runMemtune(['run', 'build', flag, '--', ...MARK], { cwd, env: cleanEnv({ MY_PASSWORD: 'hunter2' }) });
    assert.equal(result.status, 0, result.stderr);
    for (const secret of ['supersecret123', 'hello-from-dotenv', 'hunter2']) assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), `${flag}: ${secret}`);
    assert.match(result.stdout, /API_TOKEN/, flag);
  }
  assert.match(runMemtune(['run', 'build', '--print'], { cwd }).stdout, /^API_TOKEN=<hidden: from .*\.env>$/m);
});

test('MEMTUNE_MEMORY_LIMIT set in .env sizes the heap', (t) => {
  const cwd = project(t, { '.env': 'MEMTUNE_MEMORY_LIMIT=1GiB\n' });
  const result = runMemtune(['run', 'build', '--print'], { cwd });
  assert.match(result.stdout, new RegExp(`^NODE_OPTIONS=--max-old-space-size=${profileHeapMiB(PROFILES.build!.heap, GiB)}$`, 'm'));
});

test('finds commands in node_modules/.bin of the package and of the repo root, as npm scripts do', (t) => {
  const root = tempDir(t, 'memtune-run-');
  writeTree(root, {
    'package.json': { name: 'root', workspaces: ['pkg'] },
    'node_modules/.bin/hello-root': '#!/bin/sh\necho root "$@"\n',
    'pkg/package.json': { name: 'pkg' },
    'pkg/node_modules/.bin/hello-pkg': '#!/bin/sh\necho pkg "$@"\n',
  });
  spawnSync('chmod', ['+x', join(root, 'node_modules/.bin/hello-root'), join(root, 'pkg/node_modules/.bin/hello-pkg')]);
  const cwd = join(root, 'pkg');
  assert.equal(runMemtune(['run', 'build', '--', 'hello-root', 'a b'], { cwd }).stdout, 'root a b\n');
  assert.equal(runMemtune(['run', 'build', '--', 'hello-pkg', '$HOME'], { cwd }).stdout, 'pkg $HOME\n', 'arguments reach the command unexpanded: no shell');
});

test("checks flags against the node that will run the command, asking that binary when it is not memtune's own", (t) => {
  const cwd = project(t);
  const bin = join(cwd, 'other-node');
  mkdirSync(bin);
  const other = join(bin, 'node');
  try {
    linkSync(process.execPath, other);
  } catch {
    copyFileSync(process.execPath, other);
  }
  const result = runMemtune(['run', 'build', '--print', '--node-option=--max-old-space-size-percentage=50', '--', other, '-e', '0'], { cwd });
  if (process.allowedNodeEnvironmentFlags.has('--max-old-space-size-percentage')) {
    assert.equal(result.status, 0, result.stderr);
  } else {
    assert.equal(result.status, 2);
    assert.match(result.stderr, new RegExp(`--max-old-space-size-percentage is not allowed in NODE_OPTIONS by node ${process.version} \\(${other.replaceAll('.', '\\.')}\\)`));
  }
});

test('memtune run --help lists every profile with its description', () => {
  const result = runMemtune(['run', '--help']);
  assert.equal(result.status, 0);
  for (const profile of Object.values(PROFILES)) assert.ok(result.stdout.includes(`  ${profile.name}`) && result.stdout.includes(profile.description), profile.name);
});

const WRITE_REPORT = ['node', '-e', 'process.report.writeReport()'];

test('the diagnostics directory reaches node intact from a path with spaces', (t) => {
  const root = tempDir(t, 'memtune-run-');
  const cwd = join(root, 'my project');
  writeTree(cwd, { 'package.json': { name: 'spaced' } });
  const result = runMemtune(['run', 'dev', '--', ...WRITE_REPORT], { cwd });
  assert.equal(result.status, 0, result.stderr);
  assert.match(readdirSync(join(cwd, '.memtune', 'diagnostics')).join(), /^report\..*\.json$/);
});

test('when the diagnostics directory cannot be created, the command still starts and reports go to a temp directory', (t) => {
  const cwd = project(t, { '.memtune': 'a file where the directory should be\n' });
  // A temporary directory of its own, so the fallback directory goes with the test.
  const result = runMemtune(['run', 'start', '--', ...WRITE_REPORT], { cwd, env: cleanEnv({ TMPDIR: tempDir(t, 'memtune-tmp-') }) });
  assert.equal(result.status, 0, result.stderr);
  const fallback = /^memtune: warning: ".*\.memtune\/diagnostics": cannot be written \((?:ENOTDIR|EEXIST)\); diagnostics go to (.*)\.$/m.exec(result.stderr);
  assert.ok(fallback, result.stderr);
  const report = /Writing Node\.js report to file: (\S+)/.exec(result.stderr)?.[1];
  assert.ok(report && existsSync(join(fallback[1]!, report)), result.stderr);
  rmSync(join(fallback[1]!, report));
});

test('the fallback for reports is a directory of this user: one another user owns or that cannot be written, or a file in its place, is passed over', (t) => {
  const uid = process.getuid!();
  for (const taken of ['not ours to write in', 'a file']) {
    const tmp = tempDir(t, 'memtune-tmp-');
    const shared = join(tmp, `memtune-diagnostics-${uid}`);
    if (taken === 'a file') writeFileSync(shared, '');
    else {
      mkdirSync(shared);
      // Root writes anywhere, so as root the directory goes to another user; anyone else gets one they cannot write in.
      if (uid === 0) chownSync(shared, 12345, 12345);
      else chmodSync(shared, 0o500);
    }
    const cwd = project(t, { '.memtune': 'a file where the directory should be\n' });
    const result = runMemtune(['run', 'start', '--', ...WRITE_REPORT], { cwd, env: cleanEnv({ TMPDIR: tmp }) });
    assert.equal(result.status, 0, `${taken}: ${result.stderr}`);
    const fallback = /diagnostics go to (.*)\.$/m.exec(result.stderr)?.[1] ?? '';
    assert.ok(fallback.startsWith(join(tmp, 'memtune-diagnostics-')) && fallback !== shared, `${taken}: ${result.stderr}`);
    const report = /Writing Node\.js report to file: (\S+)/.exec(result.stderr)?.[1];
    assert.ok(report && existsSync(join(fallback, report)), `${taken}: ${result.stderr}`);
  }
});

test('a memtune run nested in another applies its own profile, not the NODE_OPTIONS the outer one wrote', (t) => {
  const cwd = project(t);
  const inner = ['node', BIN, 'run', 'test', '--', 'node', '-p', 'process.env.NODE_OPTIONS'];
  const result = runMemtune(['run', 'build', '--', ...inner], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '2GiB' }) });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), `--max-old-space-size=${profileHeapMiB(PROFILES.test!.heap, 2 * GiB)}`);
});
