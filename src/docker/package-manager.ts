import { relative, sep } from 'node:path';
import { type Notice, UsageError, quote } from '../shared/errors.js';
import type { PackageManifest } from '../shared/workspace-package.js';

export type PackageManagerName = 'npm' | 'pnpm' | 'yarn';

export interface PackageManager {
  name: PackageManagerName;
  /** Yarn 2+ ("berry"): another install command, cache and auth. */
  berry: boolean;
  lockfile: string;
  /** package.json "packageManager", e.g. `pnpm@10.20.0`, when set. */
  pinned?: string;
}

export const KNOWN_LOCKFILES: ReadonlyArray<{ file: string; name: PackageManagerName }> = [
  { file: 'package-lock.json', name: 'npm' },
  { file: 'npm-shrinkwrap.json', name: 'npm' },
  { file: 'pnpm-lock.yaml', name: 'pnpm' },
  { file: 'yarn.lock', name: 'yarn' },
];
export const UNSUPPORTED_LOCKFILES: readonly string[] = ['bun.lock', 'bun.lockb', 'deno.lock'];
const SUPPORTED_LIST = 'package-lock.json (npm), pnpm-lock.yaml (pnpm), yarn.lock (yarn)';

/** What the repository root holds that decides the package manager; read by effects/plan.ts. */
export interface LockfileFacts {
  root: string;
  /** The lockfiles (known and unsupported) at the root. */
  present: ReadonlySet<string>;
  /** The nearest directory above the root with a known lockfile, if any. */
  above?: { dir: string; file: string };
  /** Yarn Plug'n'Play's `.pnp.cjs` is at the root. */
  pnp: boolean;
  /** The text of `yarn.lock`, when there is one: Yarn 2+ writes `__metadata:`. */
  yarnLock?: string;
}

export type PackageManagerResult = { packageManager: PackageManager; warnings: Notice[] };

function posix(path: string): string {
  return path.split(sep).join('/');
}

/** No known lockfile at the root: say which one is there, or where the root is, or that one is needed. */
function noLockfile(facts: LockfileFacts): UsageError {
  const { root, above } = facts;
  const other = UNSUPPORTED_LOCKFILES.find((file) => facts.present.has(file));
  if (other) {
    return new UsageError({
      message: `the lockfile in ${root} is ${quote(other)}, which memtune docker cannot render for; it knows ${SUPPORTED_LIST}.`,
      fix: 'Use npm, pnpm or yarn for this app, or write the install stage of the Dockerfile by hand.',
    });
  }
  if (above) {
    const up = posix(relative(root, above.dir));
    const app = posix(relative(above.dir, root));
    return new UsageError({
      message: `no lockfile in ${root}, but ${up}/${above.file} is: memtune docker runs at the repository root, where the lockfile is.`,
      fix: `Run it there: cd ${up} && memtune docker --app ${app}`,
    });
  }
  return new UsageError({
    message: `no lockfile in ${root}; the image installs exactly what a lockfile pins, and memtune knows ${SUPPORTED_LIST}.`,
    fix: 'Create and commit one at the repository root (npm install, pnpm install or yarn install), then run memtune docker there.',
  });
}

/** The lockfile the image installs from: the only one, or the one package.json "packageManager" names. */
function chooseLockfile(facts: LockfileFacts, pinned: string | undefined, warnings: Notice[]): (typeof KNOWN_LOCKFILES)[number] {
  const found = KNOWN_LOCKFILES.filter(({ file }) => facts.present.has(file));
  if (found.length === 0) throw noLockfile(facts);
  const pinnedName = pinned?.split('@')[0];
  const chosen = found[0]!;
  if (new Set(found.map(({ name }) => name)).size > 1) {
    const byField = found.find(({ name }) => name === pinnedName);
    if (!byField) {
      throw new UsageError({
        message: `${facts.root} has more than one lockfile (${found.map(({ file }) => file).join(', ')}) and no package.json "packageManager" that picks one.`,
        fix: 'Delete the lockfiles of the package managers you do not use, or set "packageManager" (e.g. npm pkg set packageManager=pnpm@10.20.0).',
      });
    }
    return byField;
  }
  if (pinnedName !== undefined && pinnedName !== chosen.name) {
    warnings.push({
      message: `package.json "packageManager" is ${quote(pinned!)} but the lockfile is ${chosen.file}; rendering for ${chosen.name}.`,
      fix: 'Make them agree, or the image and your machine install differently.',
    });
  }
  return chosen;
}

/** The package manager from the root's lockfiles and package.json "packageManager"; throws UsageError when the image cannot install. */
export function choosePackageManager(facts: LockfileFacts, manifest: PackageManifest): PackageManagerResult {
  const warnings: Notice[] = [];
  const pinned = typeof manifest.packageManager === 'string' ? manifest.packageManager : undefined;
  const chosen = chooseLockfile(facts, pinned, warnings);
  if (facts.pnp) {
    throw new UsageError({
      message: `${facts.root} uses Yarn Plug'n'Play (.pnp.cjs); the Dockerfile runs binaries from node_modules/.bin.`,
      fix: 'Set nodeLinker: node-modules in .yarnrc.yml, run yarn install, then memtune docker again.',
    });
  }
  const berry = chosen.name === 'yarn' && (facts.yarnLock ?? '').includes('__metadata:');
  if (chosen.name !== 'npm' && pinned?.split('@')[0] !== chosen.name) {
    warnings.push({
      message: `package.json has no "packageManager" for ${chosen.name}; corepack in the image will pick its own default version.`,
      fix: `Pin the version you use: corepack use ${chosen.name}@<version>`,
    });
  }
  return { packageManager: { name: chosen.name, berry, lockfile: chosen.file, ...(pinned ? { pinned } : {}) }, warnings };
}
