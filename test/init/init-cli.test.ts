import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';

/** The five script lines of issue 16, as a real team's write-up had them. */
const SCRIPTS = {
  build: "NODE_OPTIONS='--max-old-space-size=4096 --optimize-for-size --max_old_space_size=4096 --gc-interval=100' tsc -b",
  test: "NODE_OPTIONS='--max-old-space-size=2048' vitest run",
  start: "NODE_OPTIONS='--max-old-space-size=2048' node dist/main.js",
  dev: "NODE_OPTIONS='--max-old-space-size=2048 --expose-gc' tsx watch src/main.ts",
  typecheck: "NODE_OPTIONS='--max-old-space-size=3072' tsc --noEmit",
};

/** What the service prints: the heap limit node gave it, and whether gc() is exposed. */
const REPORT_HEAP = "JSON.stringify({ heapLimit: require('node:v8').getHeapStatistics().heap_size_limit, gc: typeof globalThis.gc })";

const GIT = ['-c', 'user.name=memtune', '-c', 'user.email=memtune@example.invalid', '-c', 'commit.gpgsign=false'];

function git(root: string, ...args: string[]): void {
  const result = spawnSync('git', [...GIT, ...args], { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
}

/**
 * A monorepo as issue 16 describes it: the five scripts at the root, three packages (a and b composite, b referencing
 * a; c composite with @types/node) and a solution tsconfig (none with `tsconfigs` false), committed. `npm` lists the packages in package.json,
 * `pnpm` in pnpm-workspace.yaml. Its node_modules links the real TypeScript 5.9.3, tsx and memtune.
 */
function issueRepo(root: string, manager: 'npm' | 'pnpm', tsconfigs = true): void {
  const manifest = { name: 'issue-16', private: true, scripts: SCRIPTS, devDependencies: { typescript: '5.9.3', memtune: '*' } };
  const composite = { composite: true, strict: true, outDir: 'dist', rootDir: 'src', module: 'nodenext', target: 'es2022' };
  writeTree(root, {
    'package.json': `${JSON.stringify(manager === 'npm' ? { ...manifest, workspaces: ['packages/*'] } : manifest, null, 2)}\n`,
    ...(manager === 'pnpm' ? { 'pnpm-workspace.yaml': 'packages:\n  - packages/*\n' } : {}),
    'tsconfig.json':
      '{\n  // the solution: tsc -b builds every package\n  "files": [],\n  "references": [{ "path": "packages/a" }, { "path": "packages/b" }, { "path": "packages/c" }]\n}\n',
    'turbo.json': '{\n  "$schema": "https://turbo.build/schema.json",\n  "tasks": { "build": { "dependsOn": ["^build"], "outputs": ["dist/**"] } }\n}\n',
    '.gitignore': 'node_modules\npackages/*/dist\n*.tsbuildinfo\n',
    'dist/main.js': `console.log(${REPORT_HEAP});\n`,
    'src/main.ts': `console.log(${REPORT_HEAP});\n`,
    'packages/a/package.json': { name: '@i/a', version: '1.0.0', type: 'module' },
    'packages/a/tsconfig.json': { compilerOptions: composite, include: ['src'] },
    'packages/a/src/index.ts': 'export const pair = <T,>(value: T): [T, T] => [value, value];\n',
    'packages/b/package.json': { name: '@i/b', version: '1.0.0', type: 'module' },
    'packages/b/tsconfig.json': { compilerOptions: composite, include: ['src'], references: [{ path: '../a' }] },
    'packages/b/src/index.ts': 'export const two = 2;\n',
    // @types/node is listed, not installed: what init reads is the manifest, and a check that loads it takes seconds.
    'packages/c/package.json': { name: '@i/c', version: '1.0.0', type: 'module', devDependencies: { '@types/node': '20.19.43' } },
    'packages/c/tsconfig.json': { compilerOptions: composite, include: ['src'] },
    'packages/c/src/index.ts': 'export const three = 3;\n',
  });
  if (!tsconfigs) for (const dir of ['.', 'packages/a', 'packages/b', 'packages/c']) rmSync(join(root, dir, 'tsconfig.json'));
  const modules = join(root, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules', 'typescript-5'), join(modules, 'typescript'), 'dir');
  symlinkSync(join(REPO, 'node_modules', 'tsx'), join(modules, 'tsx'), 'dir');
  symlinkSync(REPO, join(modules, 'memtune'), 'dir');
  symlinkSync('../typescript/bin/tsc', join(modules, '.bin', 'tsc'));
  symlinkSync('../tsx/dist/cli.mjs', join(modules, '.bin', 'tsx'));
  symlinkSync('../memtune/bin/memtune.js', join(modules, '.bin', 'memtune'));
  git(root, 'init', '-q');
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'before memtune init');
}

const PNPM = join(REPO, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');

/** `npm run NAME` or `pnpm run NAME`, as a user runs the script. */
function runScript(root: string, manager: 'npm' | 'pnpm', name: string): { status: number | null; stdout: string; stderr: string } {
  const [command, args] = manager === 'npm' ? ['npm', ['run', '--silent', name]] : [process.execPath, [PNPM, 'run', '--silent', name]];
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: cleanEnv(), timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A watch script's first line of output, then the whole process group stopped. */
async function firstLine(root: string, manager: 'npm' | 'pnpm', name: string): Promise<string> {
  const [command, args] = manager === 'npm' ? ['npm', ['run', '--silent', name]] : [process.execPath, [PNPM, 'run', '--silent', name]];
  const child = spawn(command, args, { cwd: root, env: cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no output in 60 s:\n${err}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((text) => text.startsWith('{'));
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        }
      });
    });
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
  }
}

/** Every package's build output, as names: what `tsc -b` wrote. */
function builtFiles(root: string): string[] {
  return ['a', 'b', 'c'].flatMap((name) => {
    const dist = join(root, 'packages', name, 'dist');
    return existsSync(dist) ? readdirSync(dist, { recursive: true }).map((file) => `${name}/${String(file)}`) : [];
  });
}

function cleanBuild(root: string): void {
  for (const name of ['a', 'b', 'c']) {
    rmSync(join(root, 'packages', name, 'dist'), { recursive: true, force: true });
    rmSync(join(root, 'packages', name, 'tsconfig.tsbuildinfo'), { force: true });
  }
}

/**
 * What each script does, run as the user runs it: the build's files, the service's heap, the check's result. Before
 * init the build line cannot start (node refuses two of its flags): its command runs with the flags node accepts.
 */
async function behaviour(root: string, manager: 'npm' | 'pnpm', initialised: boolean): Promise<Record<string, unknown>> {
  cleanBuild(root);
  const build = initialised
    ? runScript(root, manager, 'build')
    : spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b'], { cwd: root, encoding: 'utf8', env: cleanEnv({ NODE_OPTIONS: '--max-old-space-size=4096' }) });
  const typecheck = runScript(root, manager, 'typecheck');
  const start = runScript(root, manager, 'start');
  const dev = JSON.parse(await firstLine(root, manager, 'dev')) as { heapLimit: number; gc: string };
  return {
    build: [build.status, builtFiles(root).sort()],
    typecheck: typecheck.status,
    start: [start.status, JSON.parse(start.stdout.trim().split('\n').at(-1)!).heapLimit],
    dev: dev.heapLimit,
  };
}

for (const manager of ['npm', 'pnpm'] as const) {
  test(`init on the issue's five scripts and three packages (${manager}): a diff, --write, then doctor is clean, the scripts do what they did, bench runs and a second init proposes nothing`, async (t) => {
    const root = tempDir(t);
    issueRepo(root, manager);
    const refused = runScript(root, manager, 'build');
    assert.equal(refused.status, 9, 'node refuses to start the build line as written');
    assert.match(refused.stderr, /--optimize-for-size is not allowed in NODE_OPTIONS/);
    const before = await behaviour(root, manager, false);
    assert.deepEqual((before.build as unknown[])[0], 0, 'the fixture builds before init');
    cleanBuild(root);

    const write = runMemtune(['init', '--write'], { cwd: root });
    assert.equal(write.status, 0, write.stderr);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.deepEqual(manifest.scripts, {
      build: 'memtune run build -- tsc -b',
      test: 'memtune run test -- vitest run',
      start: 'memtune run start -- node dist/main.js',
      dev: 'memtune run dev -- tsx watch src/main.ts',
      typecheck: 'memtune run typecheck -- tsc --noEmit',
    });
    // Each flag node refuses, the second spelling and the uncalled --expose-gc: reported, not carried.
    for (const dropped of ['--optimize-for-size', '--gc-interval=100', '--max_old_space_size=4096', '--expose-gc']) {
      assert.match(write.stderr, new RegExp(`not carried over: ${dropped}: `), dropped);
    }
    const nodeOptions = readFileSync(join(root, '.node-options'), 'utf8');
    assert.doesNotMatch(nodeOptions.replace(/^#.*$/gm, ''), /gc-interval|optimize-for-size|expose-gc|max_old/);
    assert.match(readFileSync(join(root, 'turbo.json'), 'utf8'), /"globalPassThroughEnv": \["MEMTUNE_\*"\]|"MEMTUNE_\*"/);
    // .turbo/ too: the fixture has turbo and does not ignore its logs, which would make each task miss the cache.
    assert.match(readFileSync(join(root, '.gitignore'), 'utf8'), /^node_modules\n(.*\n){2}# memtune bench .*\n\.memtune\/\n# turbo's cache .*\n\.turbo\/\n$/);
    assert.match(readFileSync(join(root, 'tsconfig.json'), 'utf8'), /^ {2}"extends": "memtune\/tsconfig\/solution\.json",\n {2}\/\/ the solution/m);

    const doctor = runMemtune(['doctor', '--json'], { cwd: root });
    const findings = (JSON.parse(doctor.stdout) as { findings: Array<{ severity: string; message: string }> }).findings;
    assert.deepEqual(
      findings.filter((finding) => finding.severity === 'error'),
      [],
    );
    assert.deepEqual(
      findings.filter((finding) => finding.severity === 'warning' && !/end-of-life/.test(finding.message)),
      [],
      'no warning but the Node version of this machine',
    );

    assert.deepEqual(await behaviour(root, manager, true), before, 'the same build output, check result and heap limits, now from the profiles');
    // vitest is not installed here (memtune run refuses a command it cannot find): the test profile's settings, which
    // memtune run gives whatever command the script runs.
    const printed = runMemtune(['run', 'test', '--print', '--', 'node', '-e', '0'], { cwd: root });
    assert.match(printed.stdout, /^NODE_OPTIONS=.*--max-old-space-size=2048/m);

    const bench = runMemtune(['bench', '--json'], { cwd: root });
    assert.equal(bench.status, 0, bench.stderr);
    assert.deepEqual(
      (JSON.parse(bench.stdout) as { packages: Array<{ dir: string; status: string }> }).packages.map((pkg) => [pkg.dir, pkg.status]),
      [
        ['packages/a', 'ok'],
        ['packages/b', 'ok'],
        ['packages/c', 'ok'],
      ],
    );

    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'memtune init');
    const again = runMemtune(['init'], { cwd: root });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, '', 'no diff the second time');
    assert.match(again.stderr, /memtune: init: nothing to change\./);
  });
}

test('init leaves the scripts it cannot take apart as they are and lists each with why', (t) => {
  const root = tempDir(t);
  issueRepo(root, 'npm', false);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  manifest.scripts = {
    piped: "NODE_OPTIONS='--max-old-space-size=2048' tsc --noEmit | tee check.log",
    chained: "NODE_OPTIONS='--max-old-space-size=2048' tsc -b && node dist/main.js",
    variable: 'NODE_OPTIONS="--max-old-space-size=$HEAP" tsc -b',
  };
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  git(root, 'commit', '-qam', 'scripts init cannot parse');
  const result = runMemtune(['init', '--write'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /- package\.json "piped": left as it is: .*pipeline/);
  assert.match(result.stderr, /- package\.json "chained": left as it is: .*&&/);
  assert.match(result.stderr, /- package\.json "variable": left as it is: .*\$HEAP/);
  assert.deepEqual((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as typeof manifest).scripts, manifest.scripts);
  assert.equal(existsSync(join(root, '.node-options')), false);
});

test("init warns that a package's .env now reaches the scripts it rewrote, since memtune run loads it", (t) => {
  const root = tempDir(t);
  issueRepo(root, 'npm', false);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  manifest.scripts = { start: 'NODE_OPTIONS=--max-old-space-size=512 node dist/env.js', plain: 'node dist/env.js' };
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(root, 'dist/env.js'), 'console.log(process.env.FROM_DOTENV ?? "unset");\n');
  writeFileSync(join(root, '.env'), 'FROM_DOTENV=yes\n');
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'a .env that no script loaded');
  assert.equal(runScript(root, 'npm', 'start').stdout.trim(), 'unset');
  const result = runMemtune(['init', '--write'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /! \.env: memtune run loads it before its command: the rewritten scripts \("start"\) now get its variables/);
  assert.deepEqual([runScript(root, 'npm', 'start').stdout.trim(), runScript(root, 'npm', 'plain').stdout.trim()], ['yes', 'unset']);
});

test('a tsconfig with a syntax error is named and skipped; the rest goes on', (t) => {
  const root = tempDir(t);
  issueRepo(root, 'npm', false);
  writeFileSync(join(root, 'packages/b/tsconfig.json'), '{ "compilerOptions": { "strict": true,, } ');
  git(root, 'add', '-A');
  git(root, 'commit', '-qam', 'a broken tsconfig');
  const result = runMemtune(['init'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /- packages\/b\/tsconfig\.json: skipped: not valid JSON with comments/);
  assert.match(result.stdout, /\+\+\+ b\/package\.json/);
  assert.doesNotMatch(result.stdout, /packages\/b\/tsconfig\.json/);
});

test('init prints its changes as a diff and writes nothing; --write refuses a repository with uncommitted changes until --force', (t) => {
  const root = tempDir(t);
  issueRepo(root, 'npm', false);
  const dry = runMemtune(['init'], { cwd: root });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /^\+\s+"build": "memtune run build -- tsc -b",$/m);
  assert.match(dry.stderr, /nothing written\. Review the diff, then run memtune init --write\./);
  assert.equal(spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).stdout, '', 'nothing written without --write');

  writeFileSync(join(root, 'notes.txt'), 'work in progress\n');
  const refused = runMemtune(['init', '--write'], { cwd: root });
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /memtune: the repository has uncommitted changes, which init's changes would mix with:\n {2}\?\? notes\.txt\nNothing was written\.\nCommit or stash them first/,
  );
  assert.equal(readFileSync(join(root, 'package.json'), 'utf8').includes('memtune run'), false);
  assert.equal(existsSync(join(root, '.node-options')), false);
  const forced = runMemtune(['init', '--write', '--force'], { cwd: root });
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(readFileSync(join(root, 'package.json'), 'utf8').includes('memtune run build -- tsc -b'), true);
});

test('init --relative turns each fixed heap into a share of the memory limit, the basis in a comment', (t) => {
  const root = tempDir(t);
  issueRepo(root, 'npm', false);
  const result = runMemtune(['init', '--relative'], { cwd: root, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '8GiB' }) });
  assert.equal(result.status, 0, result.stderr);
  // 4096 MiB of 8 GiB, 3072 of 8 GiB, 2048 of 8 GiB.
  assert.match(result.stdout, /^\+--max-old-space-size=50%$/m);
  assert.match(result.stdout, /^\+--max-old-space-size=38%$/m);
  assert.match(result.stdout, /^\+--max-old-space-size=25%$/m);
  assert.match(result.stdout, /^\+# .*4096 MiB.*8 GiB/m);
});

test('init --ci github adds the workflow from presets/github; an unknown --ci is refused naming the workflows', (t) => {
  const root = tempDir(t);
  issueRepo(root, 'npm', false);
  const bad = runMemtune(['init', '--ci', 'gitlab'], { cwd: root });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /memtune: --ci "gitlab": not a workflow memtune has; the workflows are github, github-matrix\.\nWrite --ci github/);
  // The baseline is saved on pushes to the default branch: here master, not the preset's main.
  git(root, 'branch', '-M', 'master');
  const result = runMemtune(['init', '--write', '--ci', 'github-matrix'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /memtune-matrix\.yml: the workflow from memtune's presets\/github\/memtune-matrix\.yml; runs on pushes to master/);
  const preset = readFileSync(join(REPO, 'presets/github/memtune-matrix.yml'), 'utf8');
  assert.match(preset, /^ {4}branches: \[main\]$/m);
  assert.equal(readFileSync(join(root, '.github/workflows/memtune-matrix.yml'), 'utf8'), preset.replace('branches: [main]', 'branches: [master]'));
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'memtune init');
  const again = runMemtune(['init', '--ci', 'github-matrix'], { cwd: root });
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /memtune-matrix\.yml/, 'the workflow it wrote is not reported as differing');
});
