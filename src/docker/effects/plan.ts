import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UsageError, quote } from '../../shared/errors.js';
import {
  findWorkspacePackage,
  listWorkspacePackages,
  readManifest,
  workspacePatterns,
  type PackageManifest,
} from '../../shared/effects/workspace.js';

/** Node 26 has been the active LTS since 2026-10-28: what a repo without `.nvmrc` gets. */
export const ACTIVE_LTS_MAJOR = 26;

const LTS_CODENAMES: Record<string, number> = {
  argon: 4, boron: 6, carbon: 8, dubnium: 10, erbium: 12, fermium: 14, gallium: 16, hydrogen: 18, iron: 20, jod: 22, krypton: 24,
};

export interface NodeVersion {
  /** The image tag before `-slim`: `26`, `24.11` or `22.21.0`, as `.nvmrc` pins it. */
  tag: string;
  major: number;
  /** Where the version came from, for the Dockerfile's comment. */
  source: string;
  /** `--max-old-space-size-percentage` exists in this version (Node 24.6+; the rule is Node >= 24). */
  heapPercentageFlag: boolean;
}

export type PackageManagerName = 'npm' | 'pnpm' | 'yarn';

export interface PackageManager {
  name: PackageManagerName;
  /** Yarn 2+ ("berry"): another install command, cache and auth. */
  berry: boolean;
  lockfile: string;
  /** package.json "packageManager", e.g. `pnpm@10.20.0`, when set. */
  pinned?: string;
}

export interface StartCommand {
  /** Node flags of the start script, before the entry file (heap flags removed). */
  nodeFlags: string[];
  entry: string;
  args: string[];
  source: string;
}

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
  warnings: string[];
}

const KNOWN_LOCKFILES: Array<{ file: string; name: PackageManagerName }> = [
  { file: 'package-lock.json', name: 'npm' },
  { file: 'npm-shrinkwrap.json', name: 'npm' },
  { file: 'pnpm-lock.yaml', name: 'pnpm' },
  { file: 'yarn.lock', name: 'yarn' },
];
const UNSUPPORTED_LOCKFILES = ['bun.lock', 'bun.lockb', 'deno.lock'];
const SUPPORTED_LIST = 'package-lock.json (npm), pnpm-lock.yaml (pnpm), yarn.lock (yarn)';

/**
 * Reads one `.nvmrc` text. Numbers pin the image tag; `lts/*`, `node` and friends float, so the active
 * LTS is used with a warning; an end-of-life major is rendered but warned about.
 */
export function parseNvmrc(text: string, file = '.nvmrc'): { version: NodeVersion; warnings: string[] } {
  const value = text.split('\n')[0]!.trim();
  const warnings: string[] = [];
  let tag: string | undefined;
  const numeric = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(value);
  if (numeric) {
    tag = value.replace(/^v/, '');
  } else if (/^lts\/(\*|latest)$/i.test(value) || /^(node|stable|latest|current)$/i.test(value)) {
    tag = String(ACTIVE_LTS_MAJOR);
    warnings.push(
      `memtune: warning: ${file} says ${quote(value)}, which moves with each release; the Dockerfile pins Node ${ACTIVE_LTS_MAJOR}, the active LTS.\n` +
        `Pin a major in ${file} (e.g. ${ACTIVE_LTS_MAJOR}) so the image and your machine agree.`,
    );
  } else {
    const codename = /^lts\/([a-z]+)$/i.exec(value)?.[1]?.toLowerCase();
    const major = codename === undefined ? undefined : LTS_CODENAMES[codename];
    if (major !== undefined) tag = String(major);
  }
  if (tag === undefined) {
    throw new UsageError(
      `memtune: ${file} says ${quote(value)}, which is not a Node version memtune can turn into an image tag.\n` +
        `Write a major (${ACTIVE_LTS_MAJOR}), a version (${ACTIVE_LTS_MAJOR}.1.0), lts/* or lts/<codename> (${Object.keys(LTS_CODENAMES).slice(-3).join(', ')}).`,
    );
  }
  const [major = 0, minor] = tag.split('.').map(Number);
  if (major < 22 || (major % 2 === 1 && major < ACTIVE_LTS_MAJOR)) {
    warnings.push(
      `memtune: warning: ${file} pins Node ${major}, which is end-of-life: no more security fixes in its images.\n` +
        `Move to Node ${ACTIVE_LTS_MAJOR} (the active LTS) when you can.`,
    );
  }
  const heapPercentageFlag = major > 24 || (major === 24 && (minor === undefined || minor >= 6));
  return { version: { tag, major, source: `${file} says ${value}`, heapPercentageFlag }, warnings };
}

/** The `.nvmrc` nvm would use for the app: the nearest one from the app's directory upwards. */
export function resolveNodeVersion(root: string, appDir: string): { version: NodeVersion; warnings: string[] } {
  let dir = resolve(root, appDir);
  for (;;) {
    const path = join(dir, '.nvmrc');
    if (existsSync(path)) return parseNvmrc(readFileSync(path, 'utf8'), relative(root, path).split(sep).join('/'));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return {
    version: { tag: String(ACTIVE_LTS_MAJOR), major: ACTIVE_LTS_MAJOR, source: 'no .nvmrc: the active LTS', heapPercentageFlag: true },
    warnings: [
      `memtune: warning: no .nvmrc in ${root} or above it; rendering for Node ${ACTIVE_LTS_MAJOR}, the current active LTS.\n` +
        `Pin the Node major your app is tested on: echo ${ACTIVE_LTS_MAJOR} > .nvmrc`,
    ],
  };
}

/** The nearest directory above `dir` with a known lockfile: run in a workspace package instead of its root. */
function lockfileAbove(dir: string): { dir: string; file: string } | undefined {
  for (let parent = dirname(dir); parent !== dir; dir = parent, parent = dirname(parent)) {
    const found = KNOWN_LOCKFILES.find(({ file }) => existsSync(join(parent, file)));
    if (found) return { dir: parent, file: found.file };
  }
  return undefined;
}

export function detectPackageManager(root: string, manifest: PackageManifest): { packageManager: PackageManager; warnings: string[] } {
  const warnings: string[] = [];
  const found = KNOWN_LOCKFILES.filter(({ file }) => existsSync(join(root, file)));
  const pinned = typeof manifest.packageManager === 'string' ? manifest.packageManager : undefined;
  const pinnedName = pinned?.split('@')[0];
  if (found.length === 0) {
    const other = UNSUPPORTED_LOCKFILES.find((file) => existsSync(join(root, file)));
    if (other) {
      throw new UsageError(
        `memtune: the lockfile in ${root} is ${quote(other)}, which memtune docker cannot render for; it knows ${SUPPORTED_LIST}.\n` +
          'Use npm, pnpm or yarn for this app, or write the install stage of the Dockerfile by hand.',
      );
    }
    const above = lockfileAbove(root);
    if (above) {
      const up = relative(root, above.dir).split(sep).join('/');
      const app = relative(above.dir, root).split(sep).join('/');
      throw new UsageError(
        `memtune: no lockfile in ${root}, but ${up}/${above.file} is: memtune docker runs at the repository root, where the lockfile is.\n` +
          `Run it there: cd ${up} && memtune docker --app ${app}`,
      );
    }
    throw new UsageError(
      `memtune: no lockfile in ${root}; the image installs exactly what a lockfile pins, and memtune knows ${SUPPORTED_LIST}.\n` +
        'Create and commit one at the repository root (npm install, pnpm install or yarn install), then run memtune docker there.',
    );
  }
  let chosen = found[0]!;
  if (new Set(found.map(({ name }) => name)).size > 1) {
    const byField = found.find(({ name }) => name === pinnedName);
    if (!byField) {
      throw new UsageError(
        `memtune: ${root} has more than one lockfile (${found.map(({ file }) => file).join(', ')}) and no package.json "packageManager" that picks one.\n` +
          'Delete the lockfiles of the package managers you do not use, or set "packageManager" (e.g. npm pkg set packageManager=pnpm@10.20.0).',
      );
    }
    chosen = byField;
  } else if (pinnedName !== undefined && pinnedName !== chosen.name) {
    warnings.push(
      `memtune: warning: package.json "packageManager" is ${quote(pinned!)} but the lockfile is ${chosen.file}; rendering for ${chosen.name}.\n` +
        'Make them agree, or the image and your machine install differently.',
    );
  }
  if (existsSync(join(root, '.pnp.cjs'))) {
    throw new UsageError(
      `memtune: ${root} uses Yarn Plug'n'Play (.pnp.cjs); the Dockerfile runs binaries from node_modules/.bin.\n` +
        'Set nodeLinker: node-modules in .yarnrc.yml, run yarn install, then memtune docker again.',
    );
  }
  const berry = chosen.name === 'yarn' && readFileSync(join(root, chosen.file), 'utf8').includes('__metadata:');
  if (chosen.name !== 'npm' && pinnedName !== chosen.name) {
    warnings.push(
      `memtune: warning: package.json has no "packageManager" for ${chosen.name}; corepack in the image will pick its own default version.\n` +
        `Pin the version you use: corepack use ${chosen.name}@<version>`,
    );
  }
  return { packageManager: { name: chosen.name, berry, lockfile: chosen.file, ...(pinned ? { pinned } : {}) }, warnings };
}

const HEAP_FLAG = /^--max[-_]old[-_]space[-_]size(?:[-_]percentage)?(?:=|$)/;
/** Node flags whose value is the next word when not written with `=`. */
const FLAGS_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--title', '--input-type']);

/**
 * The entry of a start script written as `node [flags] FILE [args]`, optionally behind `memtune run start --`.
 * Returns undefined for anything else (a shell line, another program), which the caller reports.
 */
export function parseStartScript(script: string): { nodeFlags: string[]; entry: string; args: string[]; dropped: string[] } | undefined {
  if (/["'`$;&|<>(){}\\]/.test(script)) return undefined;
  let words = script.trim().split(/\s+/);
  if (words[0] === 'memtune' && words[1] === 'run') {
    const dashes = words.indexOf('--');
    if (dashes < 0) return undefined;
    words = words.slice(dashes + 1);
  }
  if (words[0] !== 'node') return undefined;
  const nodeFlags: string[] = [];
  const dropped: string[] = [];
  let i = 1;
  for (; i < words.length && words[i]!.startsWith('-'); i++) {
    const word = words[i]!;
    const takesValue = FLAGS_WITH_VALUE.has(word) && i + 1 < words.length;
    const flag = takesValue ? [word, words[++i]!] : [word];
    if (HEAP_FLAG.test(word)) {
      if (!word.includes('=') && i + 1 < words.length && /^\d/.test(words[i + 1]!)) flag.push(words[++i]!);
      dropped.push(flag.join(' '));
    } else {
      nodeFlags.push(...flag);
    }
  }
  const entry = words[i];
  if (entry === undefined) return undefined;
  return { nodeFlags, entry, args: words.slice(i + 1), dropped };
}

export function resolveStartCommand(manifest: PackageManifest, where: string): { start: StartCommand; warnings: string[] } {
  const warnings: string[] = [];
  const script = manifest.scripts?.start;
  if (script !== undefined) {
    const parsed = parseStartScript(script);
    if (!parsed) {
      throw new UsageError(
        `memtune: the start script of ${where} is ${quote(script)}; memtune docker needs it to start node on a file, so the image can size that node's heap.\n` +
          'Write it as "start": "node dist/server.js" (or "memtune run start -- node dist/server.js").',
      );
    }
    if (parsed.dropped.length > 0) {
      warnings.push(
        `memtune: warning: the start script of ${where} sets ${parsed.dropped.map(quote).join(', ')}; the image leaves that out and sizes the heap from the container's limit instead.\n` +
          'Remove it from the script so that both start the same way.',
      );
    }
    return { start: { nodeFlags: parsed.nodeFlags, entry: parsed.entry, args: parsed.args, source: `the start script of ${where}` }, warnings };
  }
  if (typeof manifest.main === 'string' && manifest.main !== '') {
    return { start: { nodeFlags: [], entry: manifest.main, args: [], source: `"main" of ${where}` }, warnings };
  }
  throw new UsageError(
    `memtune: ${where} has neither a start script nor a "main"; memtune docker cannot tell which file the container starts.\n` +
      'Add one: npm pkg set scripts.start="node dist/server.js"',
  );
}

function hasDependency(manifest: PackageManifest | undefined, name: string, fields: Array<'dependencies' | 'devDependencies'>): boolean {
  return fields.some((field) => manifest?.[field]?.[name] !== undefined);
}

function runScriptCommand(pm: PackageManager, script: string): string {
  return `${pm.name} run ${script}`;
}

function addCommand(pm: PackageManager, dev: boolean, workspaceDir?: string): string {
  if (pm.name === 'npm') return `npm install ${dev ? '--save-dev' : '--save'} memtune${workspaceDir ? ` -w ${workspaceDir}` : ''}`;
  if (pm.name === 'pnpm') return `pnpm add ${dev ? '--save-dev ' : ''}memtune${workspaceDir ? ` --filter ./${workspaceDir}` : ''}`;
  return `${workspaceDir ? `cd ${workspaceDir} && ` : ''}yarn add ${dev ? '--dev ' : ''}memtune`;
}

/** A turbo version spec from the root's devDependencies, if it is a plain one; else turbo 2. */
function turboVersion(root: PackageManifest): string {
  const spec = root.devDependencies?.turbo ?? root.dependencies?.turbo;
  return spec !== undefined && /^[\^~]?\d+(\.\d+){0,2}$/.test(spec) ? spec : '2';
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
    throw new UsageError(`memtune: no package.json in ${root}.\nRun memtune docker at the root of your repository (where the lockfile is).`);
  }
  const warnings: string[] = [];
  const patterns = workspacePatterns(root, rootManifest);
  let app: { dir: string; name: string; manifest: PackageManifest };
  if (patterns) {
    const packages = listWorkspacePackages(root, patterns);
    if (options.app === undefined) {
      throw new UsageError(
        `memtune: ${root} is a workspace; name the app the image runs with --app, one of: ${packages.map((pkg) => `${pkg.dir} (${pkg.name})`).join(', ') || 'none found'}.\n` +
          `For example: memtune docker --app ${packages[0]?.dir ?? 'apps/api'}`,
      );
    }
    app = findWorkspacePackage(packages, options.app, root);
  } else {
    if (options.app !== undefined && options.app !== '.' && options.app !== '') {
      throw new UsageError(
        `memtune: --app ${quote(options.app)} is not a package of the workspace: ${root} is a single package (no "workspaces" in package.json, no pnpm-workspace.yaml).\n` +
          'Leave out --app to render for this package, or run memtune docker at the root of the monorepo.',
      );
    }
    app = { dir: '', name: rootManifest.name ?? 'app', manifest: rootManifest };
  }
  const where = app.dir === '' ? 'package.json' : `${app.dir}/package.json`;

  const node = resolveNodeVersion(root, app.dir);
  warnings.push(...node.warnings);
  const pm = detectPackageManager(root, rootManifest);
  warnings.push(...pm.warnings);
  const packageManager = pm.packageManager;
  const start = resolveStartCommand(app.manifest, where);
  warnings.push(...start.warnings);

  const inTree = hasDependency(app.manifest, 'memtune', ['dependencies', 'devDependencies']) ||
    (app.dir !== '' && hasDependency(rootManifest, 'memtune', ['dependencies', 'devDependencies']));
  if (!node.version.heapPercentageFlag && !hasDependency(app.manifest, 'memtune', ['dependencies'])) {
    throw new UsageError(
      `memtune: Node ${node.version.tag} (${node.version.source}) has no --max-old-space-size-percentage, so the image starts the app through \`memtune run start\`, ` +
        `and memtune must be in the "dependencies" of ${where} to survive the removal of dev dependencies.\n` +
        `Add it: ${addCommand(packageManager, false, app.dir || undefined)}   (or move to Node 24+ in .nvmrc)`,
    );
  }
  if (!inTree) {
    throw new UsageError(
      `memtune: memtune is not a dependency of ${where}${app.dir !== '' ? ' nor of the workspace root' : ''}; the image builds with \`memtune run build\`.\n` +
        `Add it: ${addCommand(packageManager, true, undefined)}`,
    );
  }

  let monorepo: DockerPlan['monorepo'];
  let buildCommand: string | undefined;
  if (app.dir !== '') {
    if (typeof rootManifest.packageManager !== 'string') {
      throw new UsageError(
        `memtune: the root package.json has no "packageManager"; turbo prune (the monorepo layout of the image) refuses to run without it.\n` +
          `Set it, e.g.: npm pkg set packageManager=${packageManager.name}@<version>   (${packageManager.name} --version prints yours)`,
      );
    }
    monorepo = { turboVersion: turboVersion(rootManifest) };
    buildCommand = `turbo run build --filter=${app.name}`;
  } else if (app.manifest.scripts?.build !== undefined) {
    buildCommand = runScriptCommand(packageManager, 'build');
  } else {
    const ignored = /^(\.\/)?dist\//.test(start.start.entry) ? ` But memtune's .dockerignore leaves dist/ out of the build context, so ${start.start.entry} will be missing.` : '';
    warnings.push(
      `memtune: warning: ${where} has no build script; the image runs ${start.start.entry} as it is in the repository.${ignored}\n` +
        'Add "build" (e.g. "memtune run build -- tsc -b") if the app is compiled.',
    );
  }
  if (app.dir !== '' && !/^[@\w./-]+$/.test(app.name)) {
    throw new UsageError(`memtune: the package name ${quote(app.name)} cannot be passed to turbo in a Dockerfile.\nRename the package to a valid npm name.`);
  }

  const manifests = ['package.json', packageManager.lockfile];
  for (const extra of ['.npmrc', ...(packageManager.name === 'pnpm' ? ['pnpm-workspace.yaml'] : []), ...(packageManager.berry ? ['.yarnrc.yml'] : [])]) {
    if (existsSync(join(root, extra))) manifests.push(extra);
  }
  const npmrc = join(root, '.npmrc');
  if (existsSync(npmrc) && /_auth(Token)?\s*=\s*[^$\s]/.test(readFileSync(npmrc, 'utf8'))) {
    warnings.push(
      'memtune: warning: .npmrc holds a registry token in plain text; the image copies .npmrc, so the token would end up in a layer.\n' +
        'Write it as _authToken=${NPM_TOKEN} and pass your ~/.npmrc as a build secret: docker build --secret id=npmrc,src=$HOME/.npmrc .',
    );
  }

  return {
    node: node.version,
    packageManager,
    app: { dir: app.dir, name: app.name },
    ...(monorepo ? { monorepo } : {}),
    ...(buildCommand ? { buildCommand } : {}),
    start: start.start,
    manifests,
    rootFiles: app.dir !== '' && existsSync(join(root, '.node-options')) ? ['.node-options'] : [],
    warnings,
  };
}
