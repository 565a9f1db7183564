import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, cpSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, FIXTURES, REPO, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';
import { render } from './dockerfile.js';

// The command: what it writes and refuses, its options, and the warnings and errors bad input gets.
// The rules of the Dockerfile itself are in rules.test.ts, the docs' claims in docs.test.ts.

test('writes Dockerfile and .dockerignore into the repository, and the .dockerignore keeps node_modules and .env out', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  const result = runMemtune(['docker'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /wrote Dockerfile: Node 26, npm, single package; heap: node --max-old-space-size-percentage=\d+; wrote \.dockerignore/);
  assert.match(result.stdout, /docker run --rm --memory=512m/);
  assert.equal(readFileSync(join(repo, 'Dockerfile'), 'utf8'), render(join(FIXTURES, 'docker-single-npm')).stdout);
  const ignore = readFileSync(join(repo, '.dockerignore'), 'utf8').split('\n');
  for (const line of ['**/node_modules', '**/.env', '.git']) assert.ok(ignore.includes(line), `.dockerignore has ${line}`);
  assert.deepEqual(
    readdirSync(repo).filter((name) => name.endsWith('.tmp')),
    [],
  );
});

test('npm pack ships the Dockerfile template and its .dockerignore', () => {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, env: cleanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const files = (JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
  for (const required of ['presets/docker/Dockerfile', 'presets/docker/.dockerignore', 'presets/docker/README.md']) {
    assert.ok(files.includes(required), `${required} is in the package`);
  }
});

// ---------- bad input ----------

const SINGLE = {
  'package.json': { name: 'svc', version: '1.0.0', scripts: { build: 'tsc', start: 'node dist/index.js' }, devDependencies: { memtune: '0.1.0' } },
  'package-lock.json': { name: 'svc', lockfileVersion: 3, packages: {} },
};

test('no .nvmrc: renders for Node 26, the active LTS, with a warning that says so', (t) => {
  const repo = tempDir(t);
  writeTree(repo, SINGLE);
  const { stdout, stderr } = render(repo);
  assert.match(stdout, /^FROM node:26-slim AS base$/m);
  assert.match(
    stderr,
    /^memtune: warning: no \.nvmrc in .* or above it in the repository; rendering for Node 26, the current active LTS\.\nPin the Node major your app is tested on: echo 26 > \.nvmrc\n/,
  );
  assert.match(stdout, /^CMD \["node", "--max-old-space-size-percentage=\d+"/m, 'Node 26 sizes the heap with its own flag');
});

test('no lockfile: refused with the lockfiles it knows, nothing written', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { 'package.json': SINGLE['package.json'], '.nvmrc': '26\n' });
  const result = runMemtune(['docker'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: no lockfile in .*package-lock\.json \(npm\), pnpm-lock\.yaml \(pnpm\), yarn\.lock \(yarn\)\.\nCreate and commit one/);
  assert.deepEqual(readdirSync(repo).sort(), ['.nvmrc', 'package.json']);
});

test('an unknown lockfile (bun.lock) is named and refused, nothing written', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { 'package.json': SINGLE['package.json'], 'bun.lock': '{}\n' });
  const result = runMemtune(['docker'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: the lockfile in .* is "bun\.lock", which memtune docker cannot render for; it knows package-lock\.json/);
  assert.deepEqual(readdirSync(repo).sort(), ['bun.lock', 'package.json']);
});

test('--app that is not a package of the workspace is named, the packages listed, nothing written', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-monorepo-npm'), repo, { recursive: true });
  const before = readdirSync(repo).sort();
  const result = runMemtune(['docker', '--app', 'apps/web'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(
    result.stderr,
    /^memtune: --app "apps\/web": not a package of this workspace; the packages are: apps\/api \(@acme\/api\), packages\/util \(@acme\/util\)\.\nPass one of them, by directory or by name: memtune docker --app apps\/api$/m,
  );
  assert.equal(result.stdout, '');
  assert.deepEqual(readdirSync(repo).sort(), before);
});

test('--app in a single-package repository is refused: it is not a workspace; nothing written', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  const before = readdirSync(repo).sort();
  const result = runMemtune(['docker', '--app', 'api'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: --app "api": not a package of the workspace: .* is a single package.*\nLeave out --app/);
  assert.deepEqual(readdirSync(repo).sort(), before);
});

test('a workspace without --app is refused, with the packages to choose from', () => {
  const result = runMemtune(['docker', '--out', '-'], { cwd: join(FIXTURES, 'docker-monorepo-pnpm'), env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /is a workspace; name the app the image runs with --app, one of: apps\/api \(@acme\/api\), packages\/util \(@acme\/util\)/);
});

test('an existing Dockerfile is refused without --force and left unchanged; --force replaces it atomically', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  writeFileSync(join(repo, 'Dockerfile'), 'FROM scratch\n');
  const refused = runMemtune(['docker'], { cwd: repo, env: cleanEnv() });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /^memtune: "Dockerfile" already exists; memtune docker does not replace it without --force\.\nRe-run with --force/);
  assert.equal(readFileSync(join(repo, 'Dockerfile'), 'utf8'), 'FROM scratch\n');
  assert.ok(!existsSync(join(repo, '.dockerignore')), 'nothing else written either');

  // A second name for the old file: an in-place rewrite would change it too, a rename leaves it alone.
  linkSync(join(repo, 'Dockerfile'), join(repo, 'old-dockerfile'));
  const forced = runMemtune(['docker', '--force'], { cwd: repo, env: cleanEnv() });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(readFileSync(join(repo, 'Dockerfile'), 'utf8'), /^# syntax=docker\/dockerfile:1\n/);
  assert.equal(readFileSync(join(repo, 'old-dockerfile'), 'utf8'), 'FROM scratch\n');
  assert.deepEqual(
    readdirSync(repo).filter((name) => name.endsWith('.tmp')),
    [],
  );
});

test('--out writes the named file atomically and keeps an existing .dockerignore', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  writeFileSync(join(repo, '.dockerignore'), '.git\n');
  const result = runMemtune(['docker', '--out', 'deploy/Dockerfile.api'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2, 'a missing directory is refused');
  assert.match(result.stderr, /^memtune: --out "deploy\/Dockerfile\.api": cannot be written: its directory does not exist\./);
  mkdirSync(join(repo, 'deploy'));
  const written = runMemtune(['docker', '--out', 'deploy/Dockerfile.api'], { cwd: repo, env: cleanEnv() });
  assert.equal(written.status, 0, written.stderr);
  assert.match(readFileSync(join(repo, 'deploy/Dockerfile.api'), 'utf8'), /^CMD \["node"/m);
  assert.equal(readFileSync(join(repo, '.dockerignore'), 'utf8'), '.git\n');
  assert.match(written.stderr, /the existing \.dockerignore does not exclude node_modules/);
  assert.deepEqual(readdirSync(join(repo, 'deploy')), ['Dockerfile.api']);
});

test('Node 22 without memtune in "dependencies" is refused: memtune run start would be pruned away', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { ...SINGLE, '.nvmrc': '22\n' });
  const result = runMemtune(['docker', '--out', '-'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: Node 22 \(\.nvmrc says 22\) has no --max-old-space-size-percentage, .* memtune must be in the "dependencies" of package\.json/);
  assert.match(result.stderr, /\nAdd it: npm install --save memtune/);
});

test('a start script that does not start node on a file is refused with the form it needs', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { ...SINGLE, 'package.json': { ...SINGLE['package.json'], scripts: { start: 'next start' } } });
  const result = runMemtune(['docker', '--out', '-'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: the start script of package\.json is "next start"; .*\nWrite it as "start": "node dist\/server\.js"/);
});

test('unknown options are named, with the valid ones', () => {
  const result = runMemtune(['docker', '--app-dir', 'x'], { cwd: join(FIXTURES, 'docker-single-npm'), env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: unknown option "--app-dir"\.\nThe options are --app DIR, --out FILE and --force/);
});

test('a monorepo root without "packageManager" is refused: turbo prune will not run without it', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-monorepo-npm'), repo, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  delete manifest.packageManager;
  writeFileSync(join(repo, 'package.json'), JSON.stringify(manifest));
  const result = runMemtune(['docker', '--app', 'apps/api'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: the root package\.json has no "packageManager"; turbo prune .*\nSet it, e\.g\.: npm pkg set packageManager=npm@<version>/);
  assert.ok(!existsSync(join(repo, 'Dockerfile')));
});

test('a repository .npmrc is copied for the install, and a literal token in it is warned about', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { ...SINGLE, '.nvmrc': '26\n', '.npmrc': '//registry.npmjs.org/:_authToken=npm_abc123\n' });
  const { stdout, stderr } = render(repo);
  assert.match(stdout, /^COPY package\.json package-lock\.json \.npmrc \.\/$/m);
  assert.match(stderr, /\.npmrc holds a registry token in plain text.*\nWrite it as _authToken=\$\{NPM_TOKEN\} and pass your ~\/\.npmrc as a build secret/);
  writeTree(repo, { '.npmrc': '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n' });
  assert.doesNotMatch(render(repo).stderr, /plain text/);
});

test('memtune docker --help lists the options and exits 0', () => {
  const result = runMemtune(['docker', '--help']);
  assert.equal(result.status, 0);
  assert.match(result.stdout, /^Usage: memtune docker \[--app DIR\] \[--out FILE\] \[--force\]/);
});

test('no build script: rendered without a build step, and a dist/ entry that .dockerignore leaves out is warned about', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { ...SINGLE, '.nvmrc': '26\n', 'package.json': { ...SINGLE['package.json'], scripts: { start: 'node dist/index.js' } } });
  const { stdout, stderr } = render(repo);
  assert.doesNotMatch(stdout, /memtune run build/);
  assert.match(stderr, /has no build script; the image runs dist\/index\.js as it is in the repository\. But memtune's \.dockerignore leaves dist\/ out/);
});

test('run inside a workspace package, it points at the root where the lockfile is', () => {
  const result = runMemtune(['docker', '--out', '-'], { cwd: join(FIXTURES, 'docker-monorepo-npm/apps/api'), env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(
    result.stderr,
    /^memtune: no lockfile in .*apps\/api, but \.\.\/\.\.\/package-lock\.json is: memtune docker runs at the repository root, where the lockfile is\.\nRun it there: cd \.\.\/\.\. && memtune docker --app apps\/api\n/,
  );
});

// ---------- files that cannot be written (issue 12) ----------

/** Root passes every permission check: as root, the command runs as `nobody` so that a read-only directory refuses it. */
const UNPRIVILEGED = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(stderr, /node:internal|Error: E[A-Z]+:/);
}

test('--out in a directory memtune may not write is refused with the path, the cause and a fix, exit 2, nothing written', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  mkdirSync(join(repo, 'locked'));
  mkdirSync(join(repo, 'deploy'));
  chmodSync(repo, 0o755);
  chmodSync(join(repo, 'locked'), 0o555);
  chmodSync(join(repo, 'deploy'), 0o777);
  const locked = runMemtune(['docker', '--out', 'locked/Dockerfile'], { cwd: repo, env: cleanEnv(), ...UNPRIVILEGED });
  assert.equal(locked.status, 2, locked.stderr);
  assert.match(
    locked.stderr,
    /^memtune: --out "locked\/Dockerfile": cannot be written \(EACCES: permission denied\)\.\nChoose a directory you can write to, or print it instead: memtune docker --out -\n$/,
  );
  assertNoStackTrace(locked.stderr);
  assert.deepEqual(readdirSync(join(repo, 'locked')), []);
  assert.ok(!existsSync(join(repo, '.dockerignore')));

  // The Dockerfile goes into a writable directory, the .dockerignore beside the lockfile cannot: the error says which was written.
  chmodSync(repo, 0o555);
  let ignore: ReturnType<typeof runMemtune>;
  try {
    ignore = runMemtune(['docker', '--out', 'deploy/Dockerfile'], { cwd: repo, env: cleanEnv(), ...UNPRIVILEGED });
  } finally {
    // Writable again, so that the temporary directory can be removed by a user who is not root.
    chmodSync(repo, 0o755);
  }
  assert.equal(ignore.status, 2, ignore.stderr);
  assert.match(ignore.stderr, /^memtune: "\.dockerignore": cannot be written \(EACCES: permission denied\); deploy\/Dockerfile was written\.\n/);
  assertNoStackTrace(ignore.stderr);
  assert.deepEqual(readdirSync(join(repo, 'deploy')), ['Dockerfile']);
});

test('--out under a file (not a directory) is refused with the path and a fix, exit 2, nothing written', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  const before = readdirSync(repo).sort();
  const result = runMemtune(['docker', '--out', 'package.json/Dockerfile'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /^memtune: --out "package\.json\/Dockerfile": cannot be written: package\.json is a file, not a directory\.\nChoose another --out/);
  assertNoStackTrace(result.stderr);
  assert.deepEqual(readdirSync(repo).sort(), before);
});

test('--out naming an existing directory is refused, with or without --force, exit 2, the directory left alone', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  mkdirSync(join(repo, 'deploy'));
  for (const args of [
    ['--out', 'deploy', '--force'],
    ['--out', 'deploy'],
  ]) {
    const result = runMemtune(['docker', ...args], { cwd: repo, env: cleanEnv() });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^memtune: --out "deploy": is a directory; memtune docker writes a file\.\nName the file: memtune docker --out deploy\/Dockerfile\n$/);
    assertNoStackTrace(result.stderr);
  }
  assert.deepEqual(readdirSync(join(repo, 'deploy')), []);
  assert.ok(!existsSync(join(repo, '.dockerignore')));

  // A directory where .dockerignore goes is named before anything is written.
  mkdirSync(join(repo, '.dockerignore'));
  const ignore = runMemtune(['docker', '--force'], { cwd: repo, env: cleanEnv() });
  assert.equal(ignore.status, 2, ignore.stderr);
  assert.match(ignore.stderr, /^memtune: "\.dockerignore": is a directory; docker reads \.dockerignore as a file\.\nRemove it \(rmdir \.dockerignore\) and re-run\.\n$/);
  assertNoStackTrace(ignore.stderr);
  assert.ok(!existsSync(join(repo, 'Dockerfile')));
});

test('memtune docker --out - exits quietly, with its usual exit code, when its stdout is closed', async () => {
  const cwd = join(FIXTURES, 'docker-single-npm');
  const child = spawn(process.execPath, [BIN, 'docker', '--out', '-'], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  // The reader is gone before the Dockerfile is printed, as when `head -1` has exited.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [status, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  assertNoStackTrace(stderr);
  assert.doesNotMatch(stderr, /EPIPE/);
  assert.equal(signal, null);
  assert.equal(status, 0);
});

test('a .node-options that memtune run would refuse is refused with its file:line: the image builds with memtune run build', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  writeTree(repo, { '.node-options': '[strat]\n--report-directory=reports\n' });
  const result = runMemtune(['docker', '--out', '-'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: .*\.node-options:1: unknown profile section \[strat\]; the profiles are .*\nFix .*\.node-options/);
  assert.equal(result.stdout, '');
});
