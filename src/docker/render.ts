import { posix } from 'node:path';
import type { Notice } from '../shared/errors.js';
import { DIRECTORY_FLAGS, flagKey } from '../run/node-options.js';
import type { PackageManager } from './package-manager.js';
import type { DockerPlan } from './plan.js';
import { renderTemplate } from './template.js';

/** corepack is no longer bundled from Node 25 on; this pinned release is installed in the image instead. */
export const COREPACK_VERSION = '0.36.0';

/** The share of the memory limit and the flags of memtune's `start` profile: the image uses the same on every Node. */
export interface StartProfile {
  heapPercent: number;
  nodeFlags: string[];
}

interface InstallSteps {
  mounts: string;
  install: string;
  prune: string;
}

/** Per package manager: the cache it fills, where a token comes in, a frozen install and the dev-dependency drop. */
function installSteps(pm: PackageManager): InstallSteps {
  const npmrcSecret = '--mount=type=secret,id=npmrc,target=/root/.npmrc';
  const removeModules = 'find . -name node_modules -type d -prune -exec rm -rf {} +';
  switch (pm.name) {
    case 'npm':
      return { mounts: `--mount=type=cache,target=/root/.npm ${npmrcSecret}`, install: 'npm ci', prune: 'npm prune --omit=dev' };
    case 'pnpm':
      // pnpm documents delete-and-reinstall for workspaces: `pnpm prune --prod` is not reliable there.
      return {
        mounts: `--mount=type=cache,id=pnpm-store,target=/pnpm/store ${npmrcSecret}`,
        install: 'pnpm install --frozen-lockfile --store-dir=/pnpm/store',
        prune: `${removeModules} && pnpm install --prod --frozen-lockfile --offline --store-dir=/pnpm/store`,
      };
    case 'yarn':
      return pm.berry
        ? {
            mounts: '--mount=type=cache,target=/root/.yarn/berry/cache --mount=type=secret,id=npm_token,env=YARN_NPM_AUTH_TOKEN',
            install: 'yarn install --immutable',
            prune: 'yarn workspaces focus --all --production',
          }
        : {
            mounts: `--mount=type=cache,target=/usr/local/share/.cache/yarn ${npmrcSecret}`,
            install: 'yarn install --frozen-lockfile',
            prune: 'yarn install --production --frozen-lockfile --prefer-offline',
          };
  }
}

/**
 * The start profile's flags as node gets them without memtune in front: node writes fatal-error reports to
 * --report-directory (else the working directory, which the image's user cannot write), not to --diagnostic-dir,
 * so the report follows the diagnostics directory as it does under `memtune run`.
 */
export function profileNodeFlags(profile: StartProfile): string[] {
  const flags = [...profile.nodeFlags];
  const diagnosticDir = flags.map((flag) => /^--diagnostic-dir=(.+)$/.exec(flag)?.[1]).find((dir) => dir !== undefined);
  const reports = flags.some((flag) => /^--report-(on-fatalerror|uncaught-exception|on-signal)$/.test(flag));
  if (diagnosticDir !== undefined && reports && !flags.some((flag) => flag.startsWith('--report-directory'))) {
    flags.push(`--report-directory=${diagnosticDir}`);
  }
  return flags;
}

/** Flags whose value is a directory node writes into: the ones memtune run creates before it starts a command. */

function directoryOf(name: string, value: string | undefined): string | undefined {
  return DIRECTORY_FLAGS.has(flagKey(name)) && value !== undefined && value !== '' ? value : undefined;
}

/** The image path of the app's working directory (WORKDIR of the runtime stage). */
function appRootOf(plan: DockerPlan): string {
  return plan.app.dir === '' ? '/app' : `/app/${plan.app.dir}`;
}

/**
 * The directories the started app writes reports and snapshots into, which the runtime stage must create owned
 * by `node`: the app's files are root's, and `memtune run build` in the build stage (root) may already have
 * created them root-owned, so a fatal-error report would be lost. Under `memtune run start` (Node < 24) these
 * are all that memtune run creates: the start profile's, relative to the app, and those of the root's and the
 * app's `.node-options`, each relative to its file. A Node >= 24 CMD is node itself with the profile's flags and
 * reads no `.node-options`: a directory only a file names is reported instead. Paths outside /app are not
 * created (a system directory is not the app's to chown). Returned as image paths, relative to the working
 * directory where they are inside it.
 */
export function runtimeDirectories(plan: DockerPlan, profile: StartProfile): { dirs: string[]; warnings: Notice[] } {
  const appRoot = appRootOf(plan);
  const dirs: string[] = [];
  const warnings: Notice[] = [];
  const fromProfile = profileNodeFlags(profile).flatMap((flag) => {
    const [name = '', value] = flag.split(/=(.*)/s);
    const dir = directoryOf(name, value);
    return dir === undefined ? [] : [{ where: 'the start profile (presets/profiles/profiles.json)', flag, path: posix.resolve(appRoot, dir) }];
  });
  const fromFiles = plan.startNodeOptions.flatMap((option) => {
    const dir = directoryOf(option.name, option.value);
    return dir === undefined ? [] : [{ where: option.where, flag: `${option.name}=${option.value}`, path: posix.resolve('/app', option.dir, dir) }];
  });
  const shown = (path: string) => (path === appRoot ? '.' : path.startsWith(`${appRoot}/`) ? posix.relative(appRoot, path) : path);
  const profilePaths = new Set(fromProfile.map((entry) => entry.path));
  for (const entry of [...fromProfile, ...fromFiles]) {
    if (plan.node.heapPercentageFlag && !profilePaths.has(entry.path)) {
      const reports = fromProfile.find((other) => /^--report-dir(ectory)?=/.test(other.flag));
      warnings.push({
        where: entry.where,
        message:
          `${entry.flag} is not used in the image: its CMD starts Node ${plan.node.tag} directly, which does not read .node-options; ` +
          `${reports ? `reports go to ${shown(reports.path)}` : 'node writes reports into its working directory'}.`,
        fix: 'Move the flag into the CMD of the rendered Dockerfile if the image needs it (with an install -d -o node line for its directory).',
      });
      continue;
    }
    if (entry.path !== '/app' && !entry.path.startsWith('/app/')) {
      warnings.push({
        where: entry.where,
        message: `${entry.flag} is outside the app (/app); the image does not create it, so the node user may not be able to write there.`,
        fix: 'Use a directory relative to the app (e.g. .memtune/diagnostics), or create it for the node user in the Dockerfile.',
      });
      continue;
    }
    const dir = shown(entry.path);
    if (!dirs.includes(dir)) dirs.push(dir);
  }
  return { dirs, warnings };
}

/** A word for a shell line: as it is when it holds nothing a shell reads, else in single quotes. */
function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The exec-form command of the runtime stage: node's own percentage flag, or memtune's start profile. */
export function startCommand(plan: DockerPlan, profile: StartProfile): string[] {
  const node = ['node', ...plan.start.nodeFlags, plan.start.entry, ...plan.start.args];
  if (plan.node.heapPercentageFlag) {
    return ['node', `--max-old-space-size-percentage=${profile.heapPercent}`, ...profileNodeFlags(profile), ...node.slice(1)];
  }
  return ['memtune', 'run', 'start', '--', ...node];
}

export function jsonArray(words: string[]): string {
  return `[${words.map((word) => JSON.stringify(word)).join(', ')}]`;
}

function imageName(name: string): string {
  return (
    name
      .replace(/^@/, '')
      .replace(/[^a-z0-9._-]+/gi, '-')
      .toLowerCase() || 'app'
  );
}

/** The Dockerfile text for a plan: a pure function of the plan, the template and the start profile. */
export function renderDockerfile(plan: DockerPlan, template: string, profile: StartProfile): string {
  const pm = plan.packageManager;
  const steps = installSteps(pm);
  const appRoot = appRootOf(plan);
  const cmd = startCommand(plan, profile);
  const { dirs } = runtimeDirectories(plan, profile);
  const heapNote = plan.node.heapPercentageFlag
    ? `node --max-old-space-size-percentage=${profile.heapPercent} gives V8's old space ${profile.heapPercent}% of the memory node sees (the cgroup limit)`
    : `Node ${plan.node.tag} has no --max-old-space-size-percentage, so memtune run start sets --max-old-space-size to ${profile.heapPercent}% of the detected limit; memtune is a production dependency for that`;
  return renderTemplate(template, {
    buildSecretHint: pm.berry ? '--secret id=npm_token,env=NPM_TOKEN' : '--secret id=npmrc,src=$HOME/.npmrc',
    imageName: imageName(plan.app.name),
    heapNote,
    nodeTag: plan.node.tag,
    nodeSource: plan.node.source,
    binPath: plan.app.dir === '' ? '/app/node_modules/.bin' : `${appRoot}/node_modules/.bin:/app/node_modules/.bin`,
    corepack: pm.name !== 'npm',
    packageManager: pm.name,
    corepackVersion: COREPACK_VERSION,
    monorepo: plan.monorepo !== undefined,
    appName: plan.app.name,
    turboVersion: plan.monorepo?.turboVersion ?? '',
    manifests: plan.manifests.join(' '),
    rootFiles: plan.rootFiles.length > 0,
    rootFileList: plan.rootFiles.join(' '),
    installMounts: steps.mounts,
    installCommand: steps.install,
    pruneCommand: steps.prune,
    build: plan.buildCommand !== undefined,
    buildCommand: plan.buildCommand ?? '',
    runtimeDir: appRoot,
    diagnostics: dirs.length > 0,
    diagnosticDirs: dirs.map(shellWord).join(' '),
    cmdNote: plan.node.heapPercentageFlag
      ? `Exec form: node is tini's child and gets SIGTERM. No fixed heap size: ${profile.heapPercent}% of the container's limit.`
      : 'Exec form: memtune sizes the heap from the cgroup limit, then replaces itself with node (or forwards signals to it).',
    cmd: jsonArray(cmd),
  });
}

export function renderDockerignore(template: string): string {
  return template;
}
