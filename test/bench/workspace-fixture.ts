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
