import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { profileHeapMiB } from '../../src/shared/profiles.js';
import { loadProfiles } from '../../src/shared/effects/load-profiles.js';
import { GiB } from '../../src/shared/size.js';
import { REPO, cleanEnv, runMemtune, runNode, tempDir, writeTree, type Result } from '../helpers.js';

const BUNDLE = join(REPO, 'dist', 'bundle', 'run.cjs');
const EXPECTED = `--max-old-space-size=${profileHeapMiB(loadProfiles().build!.heap, 2 * GiB)} from-env`;
const COMMAND = ['run', 'build', '--', 'node', '-p', 'process.env.NODE_OPTIONS + " " + process.env.FROM_ENV'];
const CACHE_NAME = new RegExp(`^run-[0-9a-f]{16}-${process.versions.v8.replaceAll('.', '\\.')}-${process.arch}\\.cache$`);

/** What `memtune run` needs of the package, copied to a temporary directory: no dist/cli.js, no compiled modules. */
function shipped(t: TestContext): { bin: string; bundleDir: string; caches: () => string[] } {
  const dir = tempDir(t, 'memtune-bundle-');
  for (const file of ['package.json', 'bin/memtune.js', 'bin/package.json', 'dist/bundle/run.cjs', 'presets/profiles/profiles.json']) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(REPO, file), join(dir, file));
  }
  // dotenv, as an install would have it.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const bundleDir = join(dir, 'dist', 'bundle');
  return { bin: join(dir, 'bin', 'memtune.js'), bundleDir, caches: () => readdirSync(bundleDir).filter((file) => file.endsWith('.cache')) };
}

/** A package with a .env, so the bundle also requires dotenv. */
function project(t: TestContext): string {
  const dir = tempDir(t, 'memtune-run-');
  writeTree(dir, { 'package.json': { name: 'fixture', private: true }, '.env': 'FROM_ENV=from-env\n' });
  return dir;
}

function runShipped(bin: string, cwd: string, extra: string[] = []): Result {
  return runNode([bin, ...COMMAND.slice(0, 2), ...extra, ...COMMAND.slice(2)], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '2GiB' }) });
}

function assertRan(result: Result): void {
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), EXPECTED);
  assert.equal(result.stderr, '');
}

test('npm run build bundles memtune run alone into one CommonJS file: its first line is its hash, and it has no import()', () => {
  const source = readFileSync(BUNDLE, 'utf8');
  const newline = source.indexOf('\n');
  assert.match(source.slice(0, newline), /^\/\/ [0-9a-f]{16}$/);
  assert.equal(
    source.slice(3, newline),
    createHash('sha256')
      .update(source.slice(newline + 1))
      .digest('hex')
      .slice(0, 16),
  );
  assert.doesNotMatch(source, /(?<![\w$.])import\s*\(/);
  const modules = [...source.matchAll(/^\/\/ (src\/\S+)$/gm)].map((match) => match[1]!);
  assert.ok(modules.includes('src/run/entry.ts') && modules.includes('src/run/command.ts'), modules.join(', '));
  assert.deepEqual(
    // For `-- turbo run`: the bench's peak over runs, its first guess of a peak and the source size it guesses from.
    modules.filter((module) => !/^src\/(run|shared)\//.test(module) && !['src/bench/stats.ts', 'src/bench/schedule.ts', 'src/bench/effects/plan.ts'].includes(module)),
    [],
    'nothing of cli.ts or the other commands',
  );
});

test('memtune run needs nothing of dist/ but its bundle, and compiles it from the V8 code cache its first run left', (t) => {
  const { bin, bundleDir, caches } = shipped(t);
  const cwd = project(t);

  assertRan(runShipped(bin, cwd));
  const [cache] = caches();
  assert.match(cache ?? '', CACHE_NAME);
  assert.ok(readFileSync(BUNDLE, 'utf8').startsWith(`// ${cache!.split('-')[1]}\n`), 'named by the hash of the bundle');
  const written = statSync(join(bundleDir, cache!));

  // V8 took the cache: the second run leaves it as it was.
  assertRan(runShipped(bin, cwd));
  const kept = statSync(join(bundleDir, cache!));
  assert.deepEqual([kept.ino, kept.mtimeMs], [written.ino, written.mtimeMs]);

  // --spawn, where memtune stays the parent, runs from the same cache.
  assertRan(runShipped(bin, cwd, ['--spawn']));
  assert.deepEqual(caches(), [cache]);
});

test('a corrupt, truncated or foreign code cache is refused by V8 and replaced, never fatal', (t) => {
  const { bin, bundleDir, caches } = shipped(t);
  const cwd = project(t);
  assertRan(runShipped(bin, cwd));
  const [cache] = caches();
  const path = join(bundleDir, cache!);
  const good = readFileSync(path);

  for (const [what, bad] of [
    ['not a code cache', Buffer.from('not a code cache')],
    ['truncated', good.subarray(0, good.length >> 1)],
    ['empty', Buffer.alloc(0)],
  ] as const) {
    writeFileSync(path, bad);
    assertRan(runShipped(bin, cwd));
    assert.deepEqual(caches(), [cache], what);
    // A good one in its place: V8 takes it, so the next run leaves it as it is.
    const replaced = statSync(path);
    assertRan(runShipped(bin, cwd));
    assert.equal(statSync(path).ino, replaced.ino, what);
    assert.ok(replaced.size > good.length / 2, what);
  }

  // One left by an older bundle (another hash) is not read; the build removes it.
  const older = cache!.replace(/^run-[0-9a-f]{16}/, 'run-0000000000000000');
  writeFileSync(join(bundleDir, older), 'from an older bundle');
  assertRan(runShipped(bin, cwd));
  assert.equal(readFileSync(join(bundleDir, older), 'utf8'), 'from an older bundle');
});

test('where the code cache cannot be written, every run still works and leaves no temporary file', (t) => {
  const { bin, bundleDir, caches } = shipped(t);
  const cwd = project(t);
  const source = readFileSync(join(bundleDir, 'run.cjs'), 'utf8');
  // A directory where the cache file would go: reading it and renaming onto it both fail (root can write anywhere).
  const cache = `run-${source.slice(3, source.indexOf('\n'))}-${process.versions.v8}-${process.arch}.cache`;
  mkdirSync(join(bundleDir, cache, 'keep'), { recursive: true });
  assertRan(runShipped(bin, cwd));
  assertRan(runShipped(bin, cwd, ['--spawn']));
  assert.deepEqual(caches(), [cache]);
  assert.ok(statSync(join(bundleDir, cache)).isDirectory());
});

test('runs that start together, with no cache yet, all work and leave one whole cache that the next run takes', async (t) => {
  const { bin, bundleDir, caches } = shipped(t);
  const cwd = project(t);
  const runs = await Promise.all(
    Array.from(
      { length: 6 },
      () =>
        new Promise<Result>((resolve) => {
          const child = spawn(process.execPath, [bin, ...COMMAND], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '2GiB' }) });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk) => (stdout += chunk));
          child.stderr.on('data', (chunk) => (stderr += chunk));
          child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
        }),
    ),
  );
  for (const result of runs) assertRan(result);
  const [cache] = caches();
  assert.deepEqual(caches(), [cache], 'no temporary file left');
  const before = statSync(join(bundleDir, cache!));
  assertRan(runShipped(bin, cwd));
  assert.equal(statSync(join(bundleDir, cache!)).ino, before.ino, 'V8 took the cache');
});

test('without a bundle (a build by tsc -b alone), memtune run goes through dist/cli.js', (t) => {
  const dir = tempDir(t, 'memtune-nobundle-');
  for (const file of ['package.json', 'bin', 'presets/profiles']) cpSync(join(REPO, file), join(dir, file), { recursive: true });
  cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true, filter: (source) => !source.startsWith(dirname(BUNDLE)) });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  assertRan(runShipped(join(dir, 'bin', 'memtune.js'), project(t)));
  assert.ok(existsSync(join(dir, 'dist', 'cli.js')) && !existsSync(join(dir, 'dist', 'bundle')));
});

test('the other commands still load dist/cli.js', () => {
  const version = runMemtune(['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
  const doctor = runMemtune(['doctor', '--help']);
  assert.equal(doctor.status, 0, doctor.stderr);
  assert.match(doctor.stdout, /^Usage: memtune doctor/);
});
