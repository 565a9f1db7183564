import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageDirs } from '../../shared/effects/package-dirs.js';
import { UsageError } from '../../shared/errors.js';
import { parseNodeOptionsFile, type NodeOptionsFile } from '../node-options.js';

/** A `.node-options` file, or undefined when there is none; anything wrong in it is an error naming its line. */
export function readNodeOptionsFile(path: string, profiles: string[]): NodeOptionsFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new UsageError({
      where: path,
      message: `cannot be read (${code ?? (error as Error).message}).`,
      fix: 'Make it a readable file of Node flags, one per line, or remove it.',
    });
  }
  return parseNodeOptionsFile(text, path, profiles);
}

/** The repo's `.node-options`, then the package's (when the package is not the repo root): later wins. */
export function readNodeOptionsFiles(dirs: PackageDirs, profiles: string[]): NodeOptionsFile[] {
  const places = dirs.packageDir === dirs.repoRoot ? [dirs.repoRoot] : [dirs.repoRoot, dirs.packageDir];
  return places.flatMap((dir) => readNodeOptionsFile(join(dir, '.node-options'), profiles) ?? []);
}
