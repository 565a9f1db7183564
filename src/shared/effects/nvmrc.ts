import { dirname, join } from 'node:path';
import { findPackageDirs } from './package-dirs.js';
import { readTextIfExists } from './read-text.js';

export interface NvmrcFile {
  /** Absolute. */
  path: string;
  /** Its first line, trimmed: what nvm reads. */
  value: string;
}

/**
 * The `.nvmrc` that pins a directory's Node: the nearest one from `from` upwards, as nvm finds it, but
 * never above the repository root (`findPackageDirs`). `memtune doctor` and `memtune docker` both ask
 * this. The repository root is the boundary for both because a pin is only a pin when it is committed
 * with the code: CI (setup-node's node-version-file), the image and every clone see the repository's
 * `.nvmrc`, never one in the home directory or a parent checkout on this machine, which would make the
 * Dockerfile or doctor's verdict depend on where the repository happens to be cloned.
 */
export function findNvmrc(from: string): NvmrcFile | undefined {
  const { repoRoot } = findPackageDirs(from);
  for (let dir = from; ; dir = dirname(dir)) {
    const path = join(dir, '.nvmrc');
    const text = readTextIfExists(path);
    if (text !== undefined) return { path, value: text.split('\n')[0]!.trim() };
    if (dir === repoRoot || dirname(dir) === dir) return undefined;
  }
}
