import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, posix, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError, quote } from '../errors.js';

/**
 * A workspace package, as found by a small local discovery (package.json `workspaces` and
 * pnpm-workspace.yaml, `*` and `**` globs): `memtune docker` and `memtune bench` need each package's
 * directory, name and manifest, not a package manager.
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

export function readManifest(dir: string): PackageManifest | undefined {
  const path = join(dir, 'package.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as PackageManifest;
  } catch (error) {
    throw new UsageError(`memtune: ${path} is not valid JSON (${(error as Error).message}).\nFix the file, then run memtune again.`);
  }
}

/** The workspace globs of a root, or undefined when the root is a single package. */
export function workspacePatterns(root: string, manifest: PackageManifest): string[] | undefined {
  const pnpmFile = join(root, 'pnpm-workspace.yaml');
  if (existsSync(pnpmFile)) {
    const doc = parseYaml(readFileSync(pnpmFile, 'utf8')) as { packages?: unknown } | null;
    if (Array.isArray(doc?.packages) && doc.packages.length > 0) return doc.packages.map(String);
  }
  const workspaces = manifest.workspaces;
  const list = Array.isArray(workspaces) ? workspaces : workspaces?.packages;
  return list && list.length > 0 ? list.map(String) : undefined;
}

export function listWorkspacePackages(root: string, patterns: string[]): WorkspacePackage[] {
  const excluded = patterns.filter((p) => p.startsWith('!')).map((p) => normalize(p.slice(1)));
  const found = new Map<string, WorkspacePackage>();
  for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
    for (const dir of expand(root, normalize(pattern).split('/'))) {
      if (found.has(dir) || excluded.some((glob) => matches(glob.split('/'), dir.split('/')))) continue;
      const manifest = readManifest(join(root, dir));
      if (manifest) found.set(dir, { dir, name: manifest.name ?? dir, manifest });
    }
  }
  return [...found.values()].sort((a, b) => a.dir.localeCompare(b.dir));
}

function normalize(pattern: string): string {
  return posix.normalize(pattern.replace(/\\/g, '/')).replace(/^\.\/|\/$/g, '');
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.'))
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}

function expand(root: string, segments: string[], prefix = ''): string[] {
  const [head, ...rest] = segments;
  if (head === undefined) return prefix === '' ? [] : [prefix];
  const here = (name: string) => (prefix === '' ? name : `${prefix}/${name}`);
  if (head === '**') {
    const deeper = subdirs(join(root, prefix)).flatMap((name) => expand(root, segments, here(name)));
    return [...expand(root, rest, prefix), ...deeper];
  }
  if (!head.includes('*')) return expand(root, rest, here(head));
  const re = segmentRegExp(head);
  return subdirs(join(root, prefix)).filter((name) => re.test(name)).flatMap((name) => expand(root, rest, here(name)));
}

function segmentRegExp(segment: string): RegExp {
  return new RegExp(`^${segment.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
}

function matches(glob: string[], path: string[]): boolean {
  const [head, ...rest] = glob;
  if (head === undefined) return path.length === 0;
  if (head === '**') return matches(rest, path) || (path.length > 0 && matches(glob, path.slice(1)));
  return path.length > 0 && segmentRegExp(head).test(path[0]!) && matches(rest, path.slice(1));
}

/** `--app` by directory (relative to the root) or by package name. */
export function findWorkspacePackage(packages: WorkspacePackage[], app: string, root?: string): WorkspacePackage {
  const dir = normalize(root !== undefined && isAbsolute(app) ? relative(root, app) : app);
  const found = packages.find((pkg) => pkg.dir === dir || pkg.name === app);
  if (found) return found;
  throw new UsageError(
    `memtune: --app ${quote(app)} is not a package of this workspace; the packages are: ${packages.map((pkg) => `${pkg.dir} (${pkg.name})`).join(', ') || 'none'}.\n` +
      'Pass one of them, by directory or by name: memtune docker --app apps/api',
  );
}
