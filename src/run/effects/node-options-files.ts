import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageDirs } from '../../shared/effects/package-dirs.js';
import { type Problem, UsageError } from '../../shared/errors.js';
import { nodeFlagProblems, type AllowedNodeFlags } from '../node-flags.js';
import { nodeOptionsFileError, scanNodeOptionsFile, type NodeOptionsFile } from '../node-options.js';

/**
 * A `.node-options` file, or undefined when there is none. Anything wrong in it, lines node would refuse
 * included, is one error naming each line: the user fixes the file in one pass.
 */
export function readNodeOptionsFile(path: string, profiles: string[], allowed?: AllowedNodeFlags): NodeOptionsFile | undefined {
  const inspected = inspectNodeOptionsFile(path, profiles, allowed);
  if (inspected && inspected.problems.length > 0) throw nodeOptionsFileError(path, inspected.problems);
  return inspected?.file;
}

/**
 * The file's good lines and every problem in it, for doctor, which reports them and checks the rest. Without
 * `allowed` (the node that will read the flags is not this machine's) only the syntax is checked.
 */
export function inspectNodeOptionsFile(path: string, profiles: string[], allowed?: AllowedNodeFlags): { file: NodeOptionsFile; problems: Problem[] } | undefined {
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
  const { file, problems } = scanNodeOptionsFile(text, path, profiles);
  if (!allowed) return { file, problems };
  const refused = nodeFlagProblems(file.flags, allowed);
  return { file: { ...file, flags: file.flags.filter((flag) => allowed.has(flag.name)) }, problems: [...problems, ...refused] };
}

/** The repo's `.node-options`, then the package's (when the package is not the repo root): later wins. */
export function readNodeOptionsFiles(dirs: PackageDirs, profiles: string[], allowed: AllowedNodeFlags): NodeOptionsFile[] {
  const places = dirs.packageDir === dirs.repoRoot ? [dirs.repoRoot] : [dirs.repoRoot, dirs.packageDir];
  return places.flatMap((dir) => readNodeOptionsFile(join(dir, '.node-options'), profiles, allowed) ?? []);
}
