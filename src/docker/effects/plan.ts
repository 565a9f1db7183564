import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { findNvmrc } from '../../shared/effects/nvmrc.js';
import { readTextIfExists } from '../../shared/effects/read-text.js';
import { listWorkspacePackages, readManifest, workspacePatterns } from '../../shared/effects/workspace.js';
import type { PackageManifest } from '../../shared/workspace-package.js';
import { nodeVersionWithoutNvmrc, parseNvmrc, type NodeVersionResult } from '../node-version.js';
import { KNOWN_LOCKFILES, UNSUPPORTED_LOCKFILES, choosePackageManager, type LockfileFacts, type PackageManagerResult } from '../package-manager.js';
import { OPTIONAL_ROOT_FILES, assemblePlan, chooseApp, manifestOf, type DockerPlan, type StartNodeOption } from '../plan.js';
import { readNodeOptionsFile } from '../../run/effects/node-options-files.js';
import { loadProfiles } from '../../shared/effects/load-profiles.js';
import { resolveStartCommand } from '../start-script.js';

/**
 * What `memtune docker` reads from the repository, step by step: the app (workspace discovery), its Node
 * version (`.nvmrc`), the package manager (lockfiles), its start command (package.json), and the root files
 * the install needs. Each step's rules are pure, in ../node-version.ts, ../package-manager.ts,
 * ../start-script.ts and ../plan.ts; this module only reads the files they decide on.
 */

/** The `.nvmrc` nvm would use for the app: the nearest one from the app's directory up to the repository root. */
export function resolveNodeVersion(root: string, appDir: string): NodeVersionResult {
  const nvmrc = findNvmrc(resolve(root, appDir));
  return nvmrc ? parseNvmrc(nvmrc.value, relative(root, nvmrc.path).split(sep).join('/')) : nodeVersionWithoutNvmrc(root);
}

/** The nearest directory above `dir` with a known lockfile: run in a workspace package instead of its root. */
function lockfileAbove(dir: string): { dir: string; file: string } | undefined {
  for (let parent = dirname(dir); parent !== dir; dir = parent, parent = dirname(parent)) {
    const found = KNOWN_LOCKFILES.find(({ file }) => existsSync(join(parent, file)));
    if (found) return { dir: parent, file: found.file };
  }
  return undefined;
}

/** The lockfiles, Plug'n'Play marker and yarn.lock text the package manager is chosen from. */
function readLockfileFacts(root: string): LockfileFacts {
  const present = new Set([...KNOWN_LOCKFILES.map(({ file }) => file), ...UNSUPPORTED_LOCKFILES].filter((file) => existsSync(join(root, file))));
  const above = lockfileAbove(root);
  const yarnLock = present.has('yarn.lock') ? readTextIfExists(join(root, 'yarn.lock')) : undefined;
  return { root, present, ...(above ? { above } : {}), pnp: existsSync(join(root, '.pnp.cjs')), ...(yarnLock !== undefined ? { yarnLock } : {}) };
}

export function detectPackageManager(root: string, manifest: PackageManifest): PackageManagerResult {
  return choosePackageManager(readLockfileFacts(root), manifest);
}

/**
 * The start-profile lines of the `.node-options` that `memtune run start` reads in the image's working directory:
 * the root's, then the app's. Read by run's own reader, so a file run would refuse is refused here too
 * (the image's `memtune run build` would stop on it).
 */
function readStartNodeOptions(root: string, appDir: string): StartNodeOption[] {
  const profiles = Object.keys(loadProfiles());
  return [...new Set(['', appDir])].flatMap((dir) => {
    // Which flags the image's node accepts is its own business (memtune run checks them there): syntax only here.
    const file = readNodeOptionsFile(join(root, dir, '.node-options'), profiles);
    const shown = dir === '' ? '.node-options' : `${dir.split(sep).join('/')}/.node-options`;
    return (file?.flags ?? [])
      .filter((flag) => flag.section === undefined || flag.section === 'start')
      .map((flag) => ({
        where: `${shown}:${/:(\d+)$/.exec(flag.origin.label)?.[1] ?? '?'}`,
        dir: dir.split(sep).join('/'),
        name: flag.name,
        ...(flag.value !== undefined ? { value: flag.value } : {}),
      }));
  });
}

export interface PlanOptions {
  /** The repository root: where the lockfile is. */
  root: string;
  /** `--app`: a workspace package by directory or name. */
  app?: string;
}

/** Everything the Dockerfile depends on, read from the repository; throws UsageError on bad input. */
export function planDocker(options: PlanOptions): DockerPlan {
  const { root } = options;
  const rootManifest = readManifest(root);
  if (!rootManifest) {
    throw new UsageError({ message: `no package.json in ${root}.`, fix: 'Run memtune docker at the root of your repository (where the lockfile is).' });
  }
  const patterns = workspacePatterns(root, rootManifest);
  const app = chooseApp(root, rootManifest, patterns ? listWorkspacePackages(root, patterns) : undefined, options.app);
  const node = resolveNodeVersion(root, app.dir);
  const packageManager = detectPackageManager(root, rootManifest);
  const start = resolveStartCommand(app.manifest, manifestOf(app));
  const npmrc = readTextIfExists(join(root, '.npmrc'));
  const rootFiles = new Set(OPTIONAL_ROOT_FILES.filter((file) => existsSync(join(root, file))));
  const startNodeOptions = readStartNodeOptions(root, app.dir);
  return assemblePlan({ rootManifest, app, node, packageManager, start, rootFiles, startNodeOptions, ...(npmrc !== undefined ? { npmrc } : {}) });
}
