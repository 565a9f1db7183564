import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BenchReport, CompilerInfo } from '../../src/bench/types.js';
import { compilerDependencies, compilerFromOverride, compilerOfDependency, detectCommandCompiler, resolveCompiler } from '../../src/shared/effects/typescript-compiler.js';
import { FIXTURES, REPO, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';

/** What pnpm writes as `node_modules/.bin/<bin>`: a shell script whose realpath is itself, not the compiler. */
function shim(target: string): string {
  return `#!/bin/sh\nbasedir=$(dirname "$0")\nexec node "$basedir/${target}" "$@"\n`;
}

/** A compiler package as installed: package.json plus the bins it declares (each a file). */
function compilerPackage(name: string, version: string, bins: Record<string, string>, extra: object = {}): Record<string, string | object> {
  const files: Record<string, string | object> = { 'package.json': { name, version, bin: bins, ...extra } };
  for (const path of Object.values(bins)) files[path.replace(/^\.\//, '')] = '#!/usr/bin/env node\n';
  return files;
}

function under(prefix: string, files: Record<string, string | object>): Record<string, string | object> {
  return Object.fromEntries(Object.entries(files).map(([path, content]) => [`${prefix}/${path}`, content]));
}

/**
 * A workspace laid out by hand the way the package managers do: the root depends on typescript 7 (hoisted,
 * its `.bin/tsc` a symlink as npm and Yarn make it); packages whose compilers sit in a pnpm-like store and
 * whose bins are shell shims; an npm alias; `@typescript/typescript6` (bin tsc6); the native preview (bin
 * tsgo, its package.json hidden by `exports`); a package with two dependencies that both provide `tsc`.
 */
function detectorTree(root: string): void {
  const store = 'node_modules/.store';
  writeTree(root, {
    'package.json': { name: 'root', private: true, workspaces: ['packages/*'], devDependencies: { typescript: '7.0.2' } },
    ...under('node_modules/typescript', compilerPackage('typescript', '7.0.2', { tsc: './bin/tsc' })),
    ...under(`${store}/typescript@6.0.3/node_modules/typescript`, compilerPackage('typescript', '6.0.3', { tsc: './bin/tsc', tsserver: './bin/tsserver' })),
    ...under(`${store}/typescript6@6.0.2/node_modules/@typescript/typescript6`, compilerPackage('@typescript/typescript6', '6.0.2', { tsc6: './bin/tsc6' })),
    ...under(
      `${store}/native-preview/node_modules/@typescript/native-preview`,
      compilerPackage('@typescript/native-preview', '7.0.0-dev.20260707.2', { tsgo: './bin/tsgo.js' }, { exports: { '.': './lib/version.cjs' } }),
    ),
    ...under('node_modules/tsc-alias', compilerPackage('tsc-alias', '1.8.16', { 'tsc-alias': './dist/bin/index.js' })),
    'packages/shim/package.json': { name: 'shim', devDependencies: { typescript: '6.0.3' } },
    'packages/shim/node_modules/.bin/tsc': shim('../typescript/bin/tsc'),
    'packages/shim/node_modules/.bin/tsserver': shim('../typescript/bin/tsserver'),
    'packages/shim/node_modules/.bin/tsgo': shim('../nowhere/tsgo'),
    'packages/six/package.json': { name: 'six', devDependencies: { '@typescript/typescript6': '6.0.2' } },
    'packages/six/node_modules/.bin/tsc6': shim('../@typescript/typescript6/bin/tsc6'),
    'packages/preview/package.json': { name: 'preview', devDependencies: { '@typescript/native-preview': '7.0.0-dev.20260707.2' } },
    'packages/preview/node_modules/.bin/tsgo': shim('../@typescript/native-preview/bin/tsgo.js'),
    'packages/alias/package.json': { name: 'alias', devDependencies: { 'typescript-6': 'npm:typescript@6.0.3' } },
    'packages/alias/node_modules/.bin/tsc': shim('../typescript-6/bin/tsc'),
    'packages/both/package.json': { name: 'both', devDependencies: { typescript: '7.0.2', 'typescript-6': 'npm:typescript@6.0.3' } },
    'packages/hoisted/package.json': { name: 'hoisted', devDependencies: { 'tsc-alias': '1.8.16' } },
    'tools/typescript/package.json': { name: 'typescript', version: '5.9.3', bin: { tsc: './bin/tsc' } },
    'tools/typescript/bin/tsc': '#!/usr/bin/env node\n',
    'tools/typescript/bin/package.json': { type: 'commonjs' },
    'tools/other/package.json': { name: 'other', version: '1.0.0' },
    'tools/other/tsc': '#!/bin/sh\n',
  });
  const link = (target: string, path: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(join(root, target), join(root, path));
  };
  link(`${store}/typescript@6.0.3/node_modules/typescript`, 'packages/shim/node_modules/typescript');
  link(`${store}/typescript6@6.0.2/node_modules/@typescript/typescript6`, 'packages/six/node_modules/@typescript/typescript6');
  link(`${store}/native-preview/node_modules/@typescript/native-preview`, 'packages/preview/node_modules/@typescript/native-preview');
  link(`${store}/typescript@6.0.3/node_modules/typescript`, 'packages/alias/node_modules/typescript-6');
  link(`${store}/typescript@6.0.3/node_modules/typescript`, 'packages/both/node_modules/typescript-6');
  link('node_modules/typescript', 'packages/both/node_modules/typescript');
  link('node_modules/typescript/bin/tsc', 'node_modules/.bin/tsc');
  link('node_modules/tsc-alias/dist/bin/index.js', 'node_modules/.bin/tsc-alias');
  // In `both`, the linked .bin/tsc is the alias's: the symlink says which of the two won.
  link(`${store}/typescript@6.0.3/node_modules/typescript/bin/tsc`, 'packages/both/node_modules/.bin/tsc');
  for (const path of ['packages/shim/node_modules/.bin/tsc', 'packages/shim/node_modules/.bin/tsserver', 'tools/typescript/bin/tsc', 'tools/other/tsc'])
    chmodSync(join(root, path), 0o755);
}

describe('the compiler detector on a tree laid out by hand', () => {
  test('memtune run: the package that provides the command bin, as the package resolves it; the realpath only as a fallback', (t) => {
    const root = realpathSync(tempDir(t, 'memtune-detect-'));
    detectorTree(root);
    const store = join(root, 'node_modules', '.store');
    const ts6 = join(store, 'typescript@6.0.3', 'node_modules', 'typescript', 'bin', 'tsc');
    const ts7 = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const rows: Array<{ what: string; pkg: string; command: string; resolved: string; expected: CompilerInfo | undefined }> = [
      {
        what: 'a pnpm shell shim for tsc: the package resolves typescript 6',
        pkg: 'packages/shim',
        command: 'tsc',
        resolved: 'packages/shim/node_modules/.bin/tsc',
        expected: { name: 'typescript', version: '6.0.3', native: false, path: ts6 },
      },
      {
        what: 'the same shim called by its path',
        pkg: 'packages/shim',
        command: './node_modules/.bin/tsc',
        resolved: 'packages/shim/node_modules/.bin/tsc',
        expected: { name: 'typescript', version: '6.0.3', native: false, path: ts6 },
      },
      {
        what: 'tsc6 of @typescript/typescript6 is TypeScript 6',
        pkg: 'packages/six',
        command: 'tsc6',
        resolved: 'packages/six/node_modules/.bin/tsc6',
        expected: { name: 'typescript', version: '6.0.2', native: false, path: join(store, 'typescript6@6.0.2', 'node_modules', '@typescript', 'typescript6', 'bin', 'tsc6') },
      },
      {
        what: 'tsgo of the native preview, whose exports hide its package.json, is native',
        pkg: 'packages/preview',
        command: 'tsgo',
        resolved: 'packages/preview/node_modules/.bin/tsgo',
        expected: {
          name: 'typescript',
          version: '7.0.0-dev.20260707.2',
          native: true,
          path: join(store, 'native-preview', 'node_modules', '@typescript', 'native-preview', 'bin', 'tsgo.js'),
        },
      },
      {
        what: 'an npm alias typescript-6 provides tsc',
        pkg: 'packages/alias',
        command: 'tsc',
        resolved: 'packages/alias/node_modules/.bin/tsc',
        expected: { name: 'typescript', version: '6.0.3', native: false, path: ts6 },
      },
      {
        what: 'two dependencies provide tsc: the one the symlinked bin points into',
        pkg: 'packages/both',
        command: 'tsc',
        resolved: 'packages/both/node_modules/.bin/tsc',
        expected: { name: 'typescript', version: '6.0.3', native: false, path: ts6 },
      },
      {
        what: "a package without a compiler dependency runs the root's tsc: the root's typescript 7",
        pkg: 'packages/hoisted',
        command: 'tsc',
        resolved: 'node_modules/.bin/tsc',
        expected: { name: 'typescript', version: '7.0.2', native: true, path: ts7 },
      },
      {
        what: 'a tsc outside node_modules: its real path up to its package.json',
        pkg: 'packages/hoisted',
        command: '../../tools/typescript/bin/tsc',
        resolved: 'tools/typescript/bin/tsc',
        expected: { name: 'typescript', version: '5.9.3', native: false, path: join(root, 'tools', 'typescript', 'bin', 'tsc') },
      },
      { what: 'a bin that no compiler provides', pkg: 'packages/hoisted', command: 'tsc-alias', resolved: 'node_modules/.bin/tsc-alias', expected: undefined },
      { what: 'a tsc of a package that is no compiler', pkg: 'packages/hoisted', command: '../../tools/other/tsc', resolved: 'tools/other/tsc', expected: undefined },
      {
        what: 'tsserver, the language server, is not a compiler',
        pkg: 'packages/shim',
        command: 'tsserver',
        resolved: 'packages/shim/node_modules/.bin/tsserver',
        expected: undefined,
      },
      { what: 'a compiler bin that the package does not have', pkg: 'packages/shim', command: 'tsgo', resolved: 'packages/shim/node_modules/.bin/tsgo', expected: undefined },
    ];
    for (const row of rows) {
      const found = detectCommandCompiler(row.command, join(root, row.resolved), { packageDir: join(root, row.pkg), repoRoot: root });
      assert.deepEqual(found, row.expected, row.what);
    }
  });

  test('bench and doctor: the typescript a package resolves, each compiler dependency as the package resolves it, --compiler', (t) => {
    const root = realpathSync(tempDir(t, 'memtune-detect-'));
    detectorTree(root);
    const version = (compiler: CompilerInfo | undefined) => (compiler ? `${compiler.version}${compiler.native ? ' native' : ''}` : undefined);
    const rows: Array<[string, string]> = [
      ['packages/shim', '6.0.3'],
      ['packages/alias', '7.0.2 native'],
      ['packages/six', '7.0.2 native'],
      ['packages/both', '7.0.2 native'],
      ['packages/hoisted', '7.0.2 native'],
    ];
    for (const [pkg, expected] of rows) assert.equal(version(resolveCompiler(join(root, pkg))), expected, pkg);
    assert.deepEqual(compilerDependencies(join(root, 'packages/both')), [
      { name: 'typescript', spec: '7.0.2', target: 'typescript' },
      { name: 'typescript-6', spec: 'npm:typescript@6.0.3', target: 'typescript' },
    ]);
    assert.deepEqual(compilerDependencies(join(root, 'packages/hoisted')), []);
    assert.equal(version(compilerOfDependency(join(root, 'packages/six'), '@typescript/typescript6')), '6.0.2');
    assert.equal(version(compilerOfDependency(join(root, 'packages/preview'), '@typescript/native-preview')), '7.0.0-dev.20260707.2 native');
    assert.equal(version(compilerOfDependency(join(root, 'packages/alias'), 'typescript-6')), '6.0.3');
    assert.equal(compilerOfDependency(join(root, 'packages/shim'), '@typescript/native-preview'), undefined);

    assert.equal(version(compilerFromOverride('tools/typescript', root)), '5.9.3');
    assert.equal(compilerFromOverride('tools/typescript/bin/tsc', root).path, join(root, 'tools', 'typescript', 'bin', 'tsc'));
    assert.equal(version(compilerFromOverride(join(root, 'node_modules', 'typescript'), '/')), '7.0.2 native');
    assert.throws(() => compilerFromOverride('tools/other', root), /: not a TypeScript compiler/);
  });
});

/**
 * Real workspaces, installed from the lockfiles committed in test/fixtures/compiler-<pm>: `packages/native`
 * depends on typescript 7.0.2, `packages/js` on 6.0.3. pnpm and Yarn come from this repo's devDependencies.
 */
const MANAGERS = ['npm', 'pnpm', 'yarn'] as const;
type Manager = (typeof MANAGERS)[number];

/** Downloads are kept between runs here, never in the home directory. */
const CACHE = join(REPO, 'node_modules', '.cache', 'memtune-compiler-fixtures');

function installCommand(manager: Manager): { args: string[]; env: Record<string, string> } {
  switch (manager) {
    case 'npm':
      return { args: ['npm', 'ci', '--no-audit', '--no-fund', '--cache', join(CACHE, 'npm')], env: { npm_config_update_notifier: 'false' } };
    case 'pnpm':
      return {
        args: [
          process.execPath,
          join(REPO, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs'),
          'install',
          '--frozen-lockfile',
          '--store-dir',
          join(CACHE, 'pnpm-store'),
          '--cache-dir',
          join(CACHE, 'pnpm-cache'),
          '--config.update-notifier=false',
        ],
        env: {},
      };
    case 'yarn':
      return {
        args: [process.execPath, join(REPO, 'node_modules', '@yarnpkg', 'cli-dist', 'bin', 'yarn.js'), 'install', '--immutable'],
        env: {
          YARN_ENABLE_GLOBAL_CACHE: 'false',
          YARN_ENABLE_MIRROR: 'false',
          YARN_CACHE_FOLDER: join(CACHE, 'yarn-cache'),
          YARN_GLOBAL_FOLDER: join(CACHE, 'yarn-global'),
          YARN_ENABLE_TELEMETRY: '0',
        },
      };
  }
}

/** The environment of an install: no home-directory state, nothing from an outer npm run. */
function installEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = cleanEnv();
  for (const key of Object.keys(env)) if (/^(npm|pnpm|yarn)_/i.test(key) || key === 'INIT_CWD') delete env[key];
  return {
    ...env,
    XDG_CACHE_HOME: join(CACHE, 'xdg-cache'),
    XDG_DATA_HOME: join(CACHE, 'xdg-data'),
    XDG_STATE_HOME: join(CACHE, 'xdg-state'),
    XDG_CONFIG_HOME: join(CACHE, 'xdg-config'),
    ...extra,
  };
}

function install(manager: Manager, cwd: string): Promise<void> {
  const { args, env } = installCommand(manager);
  return new Promise((resolve, reject) => {
    const child = spawn(args[0]!, args.slice(1), { cwd, env: installEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${manager} install in ${cwd} ended with ${signal ?? `code ${code}`}:\n${output}`));
    });
  });
}

const PACKAGES = [
  { dir: 'packages/native', name: '@fixture/native', version: '7.0.2', native: true },
  { dir: 'packages/js', name: '@fixture/js', version: '6.0.3', native: false },
] as const;

describe('run, doctor and bench agree on the compiler of each package, under npm, pnpm and Yarn 4', () => {
  const roots = new Map<Manager, string>();
  let top: string;

  before(async () => {
    top = mkdtempSync(join(tmpdir(), 'memtune-pm-'));
    for (const manager of MANAGERS) {
      const root = join(top, manager);
      cpSync(join(FIXTURES, `compiler-${manager}`), root, { recursive: true });
      roots.set(manager, root);
    }
    // One install per package manager for the whole file, side by side: they mostly wait on the network.
    await Promise.all(MANAGERS.map((manager) => install(manager, roots.get(manager)!)));
  });
  after(() => {
    if (top) rmSync(top, { recursive: true, force: true });
  });

  for (const manager of MANAGERS) {
    test(`${manager}: TypeScript 7 is native and TypeScript 6 is not, for memtune run, doctor and bench alike`, () => {
      const root = roots.get(manager)!;
      if (manager === 'pnpm') {
        // What the bug was about: pnpm's bin is a shell script, so its realpath leads to no compiler.
        assert.match(readFileSync(join(root, 'packages/native/node_modules/.bin/tsc'), 'utf8'), /^#!\/bin\/sh/);
      }
      const env = cleanEnv({ MEMTUNE_MEMORY_LIMIT: '1GiB' });
      for (const pkg of PACKAGES) {
        const cwd = join(root, pkg.dir);
        const explain = runMemtune(['run', 'typecheck', '--explain', '--', 'tsc', '-p', '.'], { cwd, env });
        assert.equal(explain.status, 0, explain.stderr);
        if (pkg.native) {
          assert.match(explain.stdout, /^note: the command is TypeScript 7\.0\.2, the native compiler/m, `${manager} ${pkg.dir}: run\n${explain.stdout}`);
          assert.match(explain.stdout, /^command: tsc -p \. --checkers 1$/m, `${manager} ${pkg.dir}: run sizes --checkers`);
        } else {
          assert.match(explain.stdout, /^note: the command is TypeScript 6\.0\.3, a JavaScript compiler on V8/m, `${manager} ${pkg.dir}: run\n${explain.stdout}`);
          assert.match(explain.stdout, /^command: tsc -p \.$/m, `${manager} ${pkg.dir}: no native arguments`);
        }
        // And the compiler memtune run starts is the one it detected.
        const started = runMemtune(['run', 'typecheck', '--', 'tsc', '--version'], { cwd, env });
        assert.equal(started.status, 0, started.stderr);
        assert.equal(started.stdout.trim(), `Version ${pkg.version}`, `${manager} ${pkg.dir}: the started compiler`);
      }

      const doctor = runMemtune(['doctor', '--json'], { cwd: root, env });
      const messages = (JSON.parse(doctor.stdout) as { findings: Array<{ check: string; message: string }> }).findings
        .filter((finding) => finding.check === 'typescript')
        .map((finding) => finding.message);
      assert.ok(
        messages.includes('typescript 7.0.2, native (Go): GOMEMLIMIT, GOGC and --checkers size it, V8 flags do not; in packages/native'),
        `${manager}: doctor\n${messages.join('\n')}`,
      );
      assert.ok(messages.includes('typescript 6.0.3, JavaScript on V8: NODE_OPTIONS sizes it; in packages/js'), `${manager}: doctor\n${messages.join('\n')}`);

      const bench = runMemtune(['bench', '--runs', '1'], { cwd: root, env: cleanEnv(), timeout: 300_000 });
      assert.equal(bench.status, 0, bench.stdout + bench.stderr);
      const report = JSON.parse(readFileSync(join(root, '.memtune', 'memtune-report.json'), 'utf8')) as BenchReport;
      for (const pkg of PACKAGES) {
        const result = report.packages.find((entry) => entry.dir === pkg.dir);
        assert.ok(result, `${manager}: bench measured ${pkg.dir}`);
        assert.equal(result.status, 'ok', `${manager} ${pkg.dir}\n${bench.stdout}`);
        assert.deepEqual([result.compiler.version, result.compiler.native], [pkg.version, pkg.native], `${manager} ${pkg.dir}: bench`);
      }
    });
  }
});
