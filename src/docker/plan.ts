import { type Notice, UsageError, quote } from '../shared/errors.js';
import { findWorkspacePackage, type PackageManifest, type WorkspacePackage } from '../shared/workspace-package.js';
import type { NodeVersion, NodeVersionResult } from './node-version.js';
import type { PackageManager, PackageManagerResult } from './package-manager.js';
import type { StartCommand } from './start-script.js';

export interface DockerPlan {
  node: NodeVersion;
  packageManager: PackageManager;
  app: { dir: string; name: string };
  /** Set for an app inside a workspace: the image uses `turbo prune --docker`. */
  monorepo?: { turboVersion: string };
  /** The command the build stage runs under `memtune run build`, or undefined when there is nothing to build. */
  buildCommand?: string;
  start: StartCommand;
  /** Root files copied beside package.json and the lockfile before the install (single package). */
  manifests: string[];
  /** Root files that turbo prune leaves out but `memtune run` reads (monorepo): `.node-options`. */
  rootFiles: string[];
  /** The flags of the root's and the app's `.node-options` that apply to the start profile, root first. */
  startNodeOptions: StartNodeOption[];
  warnings: Notice[];
}

/** One flag of a `.node-options` line that applies to the start profile (no section, or `[start]`). */
export interface StartNodeOption {
  /** `apps/api/.node-options:3`, relative to the repository root. */
  where: string;
  /** The file's directory relative to the repository root, `/`-separated; '' for the root. */
  dir: string;
  name: string;
  value?: string;
}

/** The package the image runs: `dir` is '' for a single-package repository. */
export interface DockerApp {
  dir: string;
  name: string;
  manifest: PackageManifest;
}

/** Root files the image may copy: what the install reads, in the order it is copied, and `.node-options` for `memtune run`. effects/plan.ts says which exist. */
export const OPTIONAL_ROOT_FILES: readonly string[] = ['.npmrc', 'pnpm-workspace.yaml', '.yarnrc.yml', '.node-options'];

/** Everything read from the repository that the plan is made of. */
export interface RepositoryFacts {
  rootManifest: PackageManifest;
  app: DockerApp;
  node: NodeVersionResult;
  packageManager: PackageManagerResult;
  start: { start: StartCommand; warnings: Notice[] };
  /** Those of OPTIONAL_ROOT_FILES that exist. */
  rootFiles: ReadonlySet<string>;
  /** The root .npmrc's text, when there is one. */
  npmrc?: string;
  startNodeOptions: StartNodeOption[];
}

/**
 * The app the image runs: in a workspace the package `--app` names (required), else the root package
 * (`--app` refused). `packages` is undefined for a single-package repository.
 */
export function chooseApp(root: string, rootManifest: PackageManifest, packages: WorkspacePackage[] | undefined, app: string | undefined): DockerApp {
  if (packages) {
    if (app === undefined) {
      throw new UsageError({
        message: `${root} is a workspace; name the app the image runs with --app, one of: ${packages.map((pkg) => `${pkg.dir} (${pkg.name})`).join(', ') || 'none found'}.`,
        fix: `For example: memtune docker --app ${packages[0]?.dir ?? 'apps/api'}`,
      });
    }
    return findWorkspacePackage(packages, app, root);
  }
  if (app !== undefined && app !== '.' && app !== '') {
    throw new UsageError({
      where: `--app ${quote(app)}`,
      message: `not a package of the workspace: ${root} is a single package (no "workspaces" in package.json, no pnpm-workspace.yaml).`,
      fix: 'Leave out --app to render for this package, or run memtune docker at the root of the monorepo.',
    });
  }
  return { dir: '', name: rootManifest.name ?? 'app', manifest: rootManifest };
}

/** How messages name the app's manifest. */
export function manifestOf(app: DockerApp): string {
  return app.dir === '' ? 'package.json' : `${app.dir}/package.json`;
}

function hasDependency(manifest: PackageManifest | undefined, name: string, fields: Array<'dependencies' | 'devDependencies'>): boolean {
  return fields.some((field) => manifest?.[field]?.[name] !== undefined);
}

function addCommand(pm: PackageManager, dev: boolean, workspaceDir?: string): string {
  if (pm.name === 'npm') return `npm install ${dev ? '--save-dev' : '--save'} memtune${workspaceDir ? ` -w ${workspaceDir}` : ''}`;
  if (pm.name === 'pnpm') return `pnpm add ${dev ? '--save-dev ' : ''}memtune${workspaceDir ? ` --filter ./${workspaceDir}` : ''}`;
  return `${workspaceDir ? `cd ${workspaceDir} && ` : ''}yarn add ${dev ? '--dev ' : ''}memtune`;
}

/**
 * The image builds with `memtune run build`, so memtune must be installed; on a Node without
 * --max-old-space-size-percentage it also starts the app, so it must survive the removal of dev dependencies.
 */
export function checkMemtuneDependency(facts: Pick<RepositoryFacts, 'rootManifest' | 'app'>, node: NodeVersion, pm: PackageManager): void {
  const { app, rootManifest } = facts;
  const where = manifestOf(app);
  if (!node.heapPercentageFlag && !hasDependency(app.manifest, 'memtune', ['dependencies'])) {
    throw new UsageError({
      message:
        `Node ${node.tag} (${node.source}) has no --max-old-space-size-percentage, so the image starts the app through \`memtune run start\`, ` +
        `and memtune must be in the "dependencies" of ${where} to survive the removal of dev dependencies.`,
      fix: `Add it: ${addCommand(pm, false, app.dir || undefined)}   (or move to Node 24+ in .nvmrc)`,
    });
  }
  const inTree =
    hasDependency(app.manifest, 'memtune', ['dependencies', 'devDependencies']) || (app.dir !== '' && hasDependency(rootManifest, 'memtune', ['dependencies', 'devDependencies']));
  if (!inTree) {
    throw new UsageError({
      message: `memtune is not a dependency of ${where}${app.dir !== '' ? ' nor of the workspace root' : ''}; the image builds with \`memtune run build\`.`,
      fix: `Add it: ${addCommand(pm, true, undefined)}`,
    });
  }
}

/** A turbo version spec from the root's devDependencies, if it is a plain one; else turbo 2. */
function turboVersion(root: PackageManifest): string {
  const spec = root.devDependencies?.turbo ?? root.dependencies?.turbo;
  return spec !== undefined && /^[\^~]?\d+(\.\d+){0,2}$/.test(spec) ? spec : '2';
}

export interface BuildStep {
  monorepo?: { turboVersion: string };
  buildCommand?: string;
  warnings: Notice[];
}

/** What the build stage runs: turbo for a workspace app, the app's build script, or nothing (with a warning). */
export function buildStep(facts: Pick<RepositoryFacts, 'rootManifest' | 'app'>, pm: PackageManager, start: StartCommand): BuildStep {
  const { app, rootManifest } = facts;
  if (app.dir !== '') {
    if (typeof rootManifest.packageManager !== 'string') {
      throw new UsageError({
        message: 'the root package.json has no "packageManager"; turbo prune (the monorepo layout of the image) refuses to run without it.',
        fix: `Set it, e.g.: npm pkg set packageManager=${pm.name}@<version>   (${pm.name} --version prints yours)`,
      });
    }
    if (!/^[@\w./-]+$/.test(app.name)) {
      throw new UsageError({ message: `the package name ${quote(app.name)} cannot be passed to turbo in a Dockerfile.`, fix: 'Rename the package to a valid npm name.' });
    }
    return { monorepo: { turboVersion: turboVersion(rootManifest) }, buildCommand: `turbo run build --filter=${app.name}`, warnings: [] };
  }
  if (app.manifest.scripts?.build !== undefined) return { buildCommand: `${pm.name} run build`, warnings: [] };
  const ignored = /^(\.\/)?dist\//.test(start.entry) ? ` But memtune's .dockerignore leaves dist/ out of the build context, so ${start.entry} will be missing.` : '';
  return {
    warnings: [
      {
        message: `${manifestOf(app)} has no build script; the image runs ${start.entry} as it is in the repository.${ignored}`,
        fix: 'Add "build" (e.g. "memtune run build -- tsc -b") if the app is compiled.',
      },
    ],
  };
}

/** The root files copied before the install, and a warning when .npmrc would carry a token into a layer. */
export function installFiles(facts: Pick<RepositoryFacts, 'rootFiles' | 'npmrc'>, pm: PackageManager): { manifests: string[]; warnings: Notice[] } {
  const wanted = new Set(['.npmrc', ...(pm.name === 'pnpm' ? ['pnpm-workspace.yaml'] : []), ...(pm.berry ? ['.yarnrc.yml'] : [])]);
  const manifests = ['package.json', pm.lockfile, ...OPTIONAL_ROOT_FILES.filter((file) => wanted.has(file) && facts.rootFiles.has(file))];
  const warnings: Notice[] = [];
  if (facts.npmrc !== undefined && /_auth(Token)?\s*=\s*[^$\s]/.test(facts.npmrc)) {
    warnings.push({
      message: '.npmrc holds a registry token in plain text; the image copies .npmrc, so the token would end up in a layer.',
      fix: 'Write it as _authToken=${NPM_TOKEN} and pass your ~/.npmrc as a build secret: docker build --secret id=npmrc,src=$HOME/.npmrc .',
    });
  }
  return { manifests, warnings };
}

/** The plan from what was read: checks in the order a user fixes them, warnings in the order they were found. */
export function assemblePlan(facts: RepositoryFacts): DockerPlan {
  const { app, node, start } = facts;
  const { packageManager } = facts.packageManager;
  checkMemtuneDependency(facts, node.version, packageManager);
  const build = buildStep(facts, packageManager, start.start);
  const install = installFiles(facts, packageManager);
  return {
    node: node.version,
    packageManager,
    app: { dir: app.dir, name: app.name },
    ...(build.monorepo ? { monorepo: build.monorepo } : {}),
    ...(build.buildCommand ? { buildCommand: build.buildCommand } : {}),
    start: start.start,
    manifests: install.manifests,
    rootFiles: app.dir !== '' && facts.rootFiles.has('.node-options') ? ['.node-options'] : [],
    startNodeOptions: facts.startNodeOptions,
    warnings: [...node.warnings, ...facts.packageManager.warnings, ...start.warnings, ...build.warnings, ...install.warnings],
  };
}
