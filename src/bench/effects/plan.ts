import { type Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { CompilerInfo, SkippedPackage } from '../types.js';
import { listWorkspacePackages, readManifest, workspacePatterns } from '../../shared/effects/workspace.js';
import { UsageError, quote } from '../../shared/errors.js';
import { globRegExp } from '../../shared/glob.js';
import { findPackageDirs } from '../../shared/effects/package-dirs.js';
import { compilerFromOverride, resolveCompiler } from '../../shared/effects/typescript-compiler.js';

export interface BenchTarget {
  name: string;
  /** Absolute. */
  dir: string;
  /** Relative to the workspace root, `.` for the root. */
  relDir: string;
  tsconfig: string;
  compiler: CompilerInfo;
}

export interface BenchPlan {
  root: string;
  mode: 'workspace' | 'package';
  targets: BenchTarget[];
  skipped: SkippedPackage[];
}

export interface PlanOptions {
  /** Where the bench was started (a workspace root, a package, or a directory inside one). */
  cwd: string;
  filters: string[];
  /** `--compiler`: a `bin/tsc` or a typescript package directory, used for every package. */
  compilerOverride?: string | undefined;
}

/** A `--filter` matches a package name or directory, as a glob (`*` and `**`: see globRegExp). */
export function matchesFilter(filter: string, name: string, relDir: string): boolean {
  const re = globRegExp(filter);
  return re.test(name) || re.test(relDir);
}

/**
 * The packages to measure: every workspace package with a tsconfig.json when started at a workspace
 * root, just the package when started inside one (or in a repository without workspaces).
 */
export function planBench(options: PlanOptions): BenchPlan {
  const { packageDir, repoRoot } = findPackageDirs(options.cwd);
  const rootManifest = readManifest(repoRoot);
  const patterns = rootManifest ? workspacePatterns(repoRoot, rootManifest) : undefined;
  const inWorkspace = patterns !== undefined && packageDir === repoRoot;
  if (!inWorkspace && !existsSync(join(packageDir, 'package.json'))) {
    throw new UsageError({
      message: `${options.cwd} is neither a workspace nor a package: no package.json here or above.`,
      fix: 'Run memtune bench at the root of your monorepo or inside one of its packages.',
    });
  }
  const candidates = inWorkspace
    ? listWorkspacePackages(repoRoot, patterns).map((pkg) => ({ name: pkg.name, dir: join(repoRoot, pkg.dir) }))
    : [{ name: readManifest(packageDir)?.name ?? basename(packageDir), dir: packageDir }];
  const override = options.compilerOverride === undefined ? undefined : compilerFromOverride(options.compilerOverride, options.cwd);
  const targets: BenchTarget[] = [];
  const skipped: SkippedPackage[] = [];
  for (const candidate of candidates) {
    const relDir = relative(repoRoot, candidate.dir).replaceAll('\\', '/') || '.';
    if (options.filters.length > 0 && !options.filters.some((filter) => matchesFilter(filter, candidate.name, relDir))) continue;
    const tsconfig = join(candidate.dir, 'tsconfig.json');
    if (!existsSync(tsconfig)) {
      skipped.push({ name: candidate.name, dir: relDir, reason: 'no tsconfig.json' });
      continue;
    }
    const compiler = override ?? resolveCompiler(candidate.dir);
    if (!compiler) {
      skipped.push({
        name: candidate.name,
        dir: relDir,
        reason: `typescript cannot be resolved from ${relDir}: install it in the package or the root (npm i -D typescript), or pass --compiler`,
      });
      continue;
    }
    targets.push({ name: candidate.name, dir: candidate.dir, relDir, tsconfig, compiler });
  }
  if (options.filters.length > 0 && targets.length + skipped.length === 0) {
    throw new UsageError({
      where: `--filter ${options.filters.map(quote).join(' --filter ')}`,
      message: `matches no package; the packages are: ${candidates.map((c) => c.name).join(', ')}.`,
      fix: 'Filter by package name or directory; * and ** are globs, e.g. --filter "@acme/*"',
    });
  }
  return { root: repoRoot, mode: inWorkspace ? 'workspace' : 'package', targets, skipped };
}

/** Total size of a package's TypeScript sources: the first estimate of what checking it costs. */
export function sourceBytes(dir: string, depth = 0): number {
  if (depth > 8) return 0;
  let total = 0;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += sourceBytes(path, depth + 1);
    else if (/\.[cm]?tsx?$/.test(entry.name)) total += statSync(path).size;
  }
  return total;
}

/** What expanding a solution-style tsconfig needs to know of each project. */
export interface ProjectShape {
  solution: boolean;
  references: string[];
}

/**
 * A package whose tsconfig.json is a solution (`files: []` plus references, as Vite templates make with
 * tsconfig.app.json and tsconfig.node.json) checks nothing itself: its projects inside the package are
 * measured instead, each as `name (tsconfig.app.json)`. One that references only other packages is skipped.
 */
export function expandSolutionTargets(targets: BenchTarget[], shapes: ReadonlyMap<string, ProjectShape>): { targets: BenchTarget[]; skipped: SkippedPackage[] } {
  const expanded: BenchTarget[] = [];
  const skipped: SkippedPackage[] = [];
  for (const target of targets) {
    const shape = shapes.get(target.tsconfig);
    if (!shape?.solution) {
      expanded.push(target);
      continue;
    }
    const inside = shape.references.filter((tsconfig) => !relative(target.dir, tsconfig).startsWith('..'));
    if (inside.length === 0) {
      skipped.push({ name: target.name, dir: target.relDir, reason: 'tsconfig.json only references other packages (files: []): nothing of its own to check' });
      continue;
    }
    for (const tsconfig of inside) expanded.push({ ...target, name: `${target.name} (${relative(target.dir, tsconfig).replaceAll('\\', '/')})`, tsconfig });
  }
  return { targets: expanded, skipped };
}
