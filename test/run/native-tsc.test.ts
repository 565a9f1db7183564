import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { stepValue } from '../../src/shared/profiles.js';
import { loadProfiles } from '../../src/shared/effects/load-profiles.js';
import { GiB } from '../../src/shared/size.js';
import { COMPILERS, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';

const PROFILES = loadProfiles();
const TS7 = COMPILERS.find((compiler) => compiler.native)!;
const TS6 = COMPILERS.find((compiler) => compiler.version.startsWith('6.'))!;

/** A one-file package whose node_modules/.bin/tsc is the given compiler, as npm would link it. */
function tscProject(t: Parameters<typeof tempDir>[0], tsc: string): string {
  const dir = tempDir(t, 'memtune-tsc-');
  writeTree(dir, {
    'package.json': { name: 'fixture', type: 'module' },
    'tsconfig.json': { compilerOptions: { rootDir: 'src', outDir: 'dist', module: 'nodenext', target: 'es2023', composite: true, types: [] }, include: ['src'] },
    'src/index.ts': 'export const answer: number = 42;\n',
  });
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(tsc, join(dir, 'node_modules', '.bin', 'tsc'));
  return dir;
}

test('a TypeScript 7 tsc gets --checkers/--builders sized from a 1 GiB limit, and --explain says V8 flags do not reach it', (t) => {
  const cwd = tscProject(t, TS7.tsc);
  const result = runMemtune(['run', 'build', '--explain', '--', 'tsc', '-b'], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '1GiB' }) });
  assert.equal(result.status, 0, result.stderr);
  const checkers = stepValue(PROFILES.build!.tsc!.checkers, GiB)!.value;
  const builders = stepValue(PROFILES.build!.tsc!.builders, GiB)!.value;
  assert.match(result.stdout, new RegExp(`^command: tsc -b --checkers ${checkers} --builders ${builders}$`, 'm'));
  assert.match(result.stdout, /^note: the command is TypeScript 7\.0\.2, the native compiler: the V8 flags in NODE_OPTIONS do not reach it/m);
  assert.match(result.stdout, /^GOMEMLIMIT=\d+MiB {2}preset build/m);
});

test("memtune leaves the native compiler's --checkers alone when the command sets it", (t) => {
  const cwd = tscProject(t, TS7.tsc);
  const result = runMemtune(['run', 'typecheck', '--explain', '--', 'tsc', '-b', '--checkers', '3'], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '1GiB' }) });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^command: tsc -b --checkers 3 --builders \d$/m);
  assert.doesNotMatch(result.stdout, /added --checkers/);
});

test('the real TypeScript 7 compiler builds with the arguments and Go settings memtune adds', (t) => {
  const cwd = tscProject(t, TS7.tsc);
  const result = runMemtune(['run', 'build', '--', 'tsc', '-b'], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '1GiB' }) });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.ok(existsSync(join(cwd, 'dist', 'index.js')));
});

test('a TypeScript 6 tsc is a JavaScript compiler: NODE_OPTIONS sizes it and no native arguments are added', (t) => {
  const cwd = tscProject(t, TS6.tsc);
  const explain = runMemtune(['run', 'build', '--explain', '--', 'tsc', '-b'], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '1GiB' }) });
  assert.match(explain.stdout, /^command: tsc -b$/m);
  assert.match(explain.stdout, /TypeScript 6\.0\.3, a JavaScript compiler on V8: NODE_OPTIONS sizes its heap/);
  const build = runMemtune(['run', 'build', '--', 'tsc', '-b'], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '1GiB' }) });
  assert.equal(build.status, 0, build.stdout + build.stderr);
  assert.ok(existsSync(join(cwd, 'dist', 'index.js')));
});
