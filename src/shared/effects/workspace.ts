import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Yaml from 'yaml';
import { UsageError } from '../errors.js';
import { globRegExp } from '../glob.js';
import { readTextIfExists } from './read-text.js';
import { normalizeWorkspacePath as normalize, type PackageManifest, type WorkspacePackage } from '../workspace-package.js';

export { findWorkspacePackage, type PackageManifest, type WorkspacePackage } from '../workspace-package.js';

// yaml is large and only pnpm workspaces need it; memtune run bundles this module (turbo's fallback), so load it on use.
const require = createRequire(import.meta.filename);
const parseYaml = (text: string): unknown => (require('yaml') as typeof Yaml).parse(text);

export function readManifest(dir: string): PackageManifest | undefined {
  const path = join(dir, 'package.json');
  const text = readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as PackageManifest;
  } catch (error) {
    throw new UsageError({ where: path, message: `not valid JSON (${(error as Error).message}).`, fix: 'Fix the file, then run memtune again.' });
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
  const excluded = patterns.filter((p) => p.startsWith('!')).map((p) => globRegExp(normalize(p.slice(1))));
  const found = new Map<string, WorkspacePackage>();
  for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
    for (const dir of expand(root, normalize(pattern).split('/'))) {
      if (found.has(dir) || excluded.some((glob) => glob.test(dir))) continue;
      const manifest = readManifest(join(root, dir));
      if (manifest) found.set(dir, { dir, name: manifest.name ?? dir, manifest });
    }
  }
  return [...found.values()].sort((a, b) => a.dir.localeCompare(b.dir));
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
  const re = globRegExp(head);
  return subdirs(join(root, prefix))
    .filter((name) => re.test(name))
    .flatMap((name) => expand(root, rest, here(name)));
}
