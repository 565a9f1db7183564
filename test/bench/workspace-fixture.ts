import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, linkMemtune, writeTree } from '../helpers.js';

export const LIB = 'export const pair = <T,>(value: T): [T, T] => [value, value];\n';

/** Links a real compiler as the package's own `typescript`, as an npm install would. */
export function linkTypeScript(dir: string, alias: 'typescript' | 'typescript-5' | 'typescript-6'): void {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules', alias), join(dir, 'node_modules', 'typescript'), 'dir');
}

export const WORKSPACE_ROOT = { 'package.json': { name: 'mono', private: true, workspaces: ['packages/*'] } };

/**
 * A workspace's files with four packages @s/a–d of different source sizes (b larger than the others together), so
 * that a split by source size is known: b alone in shard 1 of 2.
 */
export function fourPackageFiles(): Record<string, string | object> {
  const files: Record<string, string | object> = { ...WORKSPACE_ROOT };
  for (const [name, size] of [
    ['a', 100],
    ['b', 4000],
    ['c', 2000],
    ['d', 800],
  ] as const) {
    files[`packages/${name}/package.json`] = { name: `@s/${name}` };
    files[`packages/${name}/tsconfig.json`] = { files: [] };
    files[`packages/${name}/src/index.ts`] = `export const text = '${'x'.repeat(size)}';\n`;
  }
  return files;
}

/** A workspace: a JS-compiled package, a native one, one without tsconfig, one that resolves no typescript. */
export function mixedCompilerWorkspace(root: string): void {
  linkMemtune(root);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    'packages/js/package.json': { name: '@m/js', type: 'module' },
    'packages/js/tsconfig.json': { extends: 'memtune/tsconfig/library.json' },
    'packages/js/src/index.ts': LIB,
    'packages/native/package.json': { name: '@m/native', type: 'module' },
    'packages/native/tsconfig.json': { extends: 'memtune/tsconfig/library.json' },
    'packages/native/src/index.ts': LIB,
    'packages/docs/package.json': { name: '@m/docs' },
    'packages/bare/package.json': { name: '@m/bare', type: 'module' },
    'packages/bare/tsconfig.json': { extends: 'memtune/tsconfig/check.json' },
    'packages/bare/src/index.ts': LIB,
  });
  linkTypeScript(join(root, 'packages/js'), 'typescript-5');
  linkTypeScript(join(root, 'packages/native'), 'typescript');
}
