import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PackageDirs {
  /** The nearest directory with a package.json, from the working directory up (the working directory when none). */
  packageDir: string;
  /** The nearest directory with `.git`, `pnpm-workspace.yaml` or a package.json with `workspaces`; else the package dir. */
  repoRoot: string;
}

function hasWorkspaces(dir: string): boolean {
  if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return true;
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { workspaces?: unknown };
    return pkg.workspaces !== undefined;
  } catch {
    return false;
  }
}

export function findPackageDirs(cwd: string): PackageDirs {
  let packageDir: string | undefined;
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (packageDir === undefined && existsSync(join(dir, 'package.json'))) packageDir = dir;
    if (existsSync(join(dir, '.git')) || hasWorkspaces(dir)) return { packageDir: packageDir ?? dir, repoRoot: dir };
    if (dirname(dir) === dir) break;
  }
  return { packageDir: packageDir ?? cwd, repoRoot: packageDir ?? cwd };
}

/** `node_modules/.bin` of every directory from `dir` up to `top`, nearest first, as npm puts them on PATH for scripts. */
export function binDirs(dir: string, top: string): string[] {
  const dirs: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    dirs.push(join(current, 'node_modules', '.bin'));
    if (current === top || dirname(current) === current) break;
  }
  return dirs;
}
