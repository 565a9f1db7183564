import { isAbsolute, posix, relative } from 'node:path';
import { UsageError, quote } from './errors.js';

/**
 * A workspace package, as found by a small local discovery (package.json `workspaces` and
 * pnpm-workspace.yaml, `*` and `**` globs): `memtune docker` and `memtune bench` need each package's
 * directory, name and manifest, not a package manager. effects/workspace.ts finds them.
 */
export interface WorkspacePackage {
  /** POSIX path relative to the workspace root, e.g. `apps/api`. */
  dir: string;
  name: string;
  manifest: PackageManifest;
}

export interface PackageManifest {
  name?: string;
  main?: string;
  packageManager?: string;
  workspaces?: string[] | { packages?: string[] };
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** A workspace pattern or directory as a POSIX path without `./` before or `/` after it. */
export function normalizeWorkspacePath(pattern: string): string {
  return posix.normalize(pattern.replace(/\\/g, '/')).replace(/^\.\/|\/$/g, '');
}

/** `--app` by directory (relative to the root) or by package name. */
export function findWorkspacePackage(packages: WorkspacePackage[], app: string, root?: string): WorkspacePackage {
  const dir = normalizeWorkspacePath(root !== undefined && isAbsolute(app) ? relative(root, app) : app);
  const found = packages.find((pkg) => pkg.dir === dir || pkg.name === app);
  if (found) return found;
  throw new UsageError({
    where: `--app ${quote(app)}`,
    message: `not a package of this workspace; the packages are: ${packages.map((pkg) => `${pkg.dir} (${pkg.name})`).join(', ') || 'none'}.`,
    fix:
      packages.length === 0
        ? 'Run it in a workspace with packages, or without --app in the package itself.'
        : `Pass one of them, by directory or by name: memtune docker --app ${packages[0]!.dir}`,
  });
}
