import { statSync } from 'node:fs';
import { readTextIfExists } from '../shared/effects/read-text.js';
import { dirname, join, relative, resolve } from 'node:path';
import { parseCommandArgs } from '../shared/parse-command-args.js';
import { UsageError, formatWarning, quote } from '../shared/errors.js';
import { planDocker } from './effects/plan.js';
import { readPreset, readStartProfile } from './effects/presets.js';
import { renderDockerfile, renderDockerignore, runtimeDirectories } from './render.js';
import { writeFileAtomic } from '../shared/effects/write-file-atomic.js';
import { endQuietlyWhenStdoutCloses } from '../shared/effects/stdout.js';

const HELP = `Usage: memtune docker [--app DIR] [--out FILE] [--force]

Renders memtune's Dockerfile template for the repository in the current directory (run it where the
lockfile is): Node from .nvmrc, the package manager from the lockfile, and for an app inside a
workspace the turbo prune --docker layout. Writes .dockerignore beside it unless one exists.

Options:
  --app DIR     the workspace package the image runs (directory or package name); required in a workspace
  --out FILE    where to write the Dockerfile (default: Dockerfile; - prints it instead)
  --force       replace an existing Dockerfile (and .dockerignore)
  -h, --help    show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    {
      args: argv,
      options: {
        app: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    },
    'The options are --app DIR, --out FILE and --force (memtune docker --help).',
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }

  endQuietlyWhenStdoutCloses();
  const root = process.cwd();
  const toStdout = values.out === '-';
  const out = resolve(root, values.out ?? 'Dockerfile');
  const shownOut = values.out === undefined ? quote('Dockerfile') : `--out ${quote(values.out)}`;
  const force = values.force === true;
  const ignorePath = resolve(root, '.dockerignore');
  if (!toStdout) checkWritable(root, out, shownOut, values.out, force);
  // A directory named .dockerignore is found before the Dockerfile is written, not after.
  if (!toStdout && kindOf(ignorePath) === 'directory') {
    throw new UsageError({
      where: quote('.dockerignore'),
      message: 'is a directory; docker reads .dockerignore as a file.',
      fix: 'Remove it (rmdir .dockerignore) and re-run.',
    });
  }

  const plan = planDocker({ root, ...(values.app !== undefined ? { app: values.app } : {}) });
  const profile = readStartProfile();
  const dockerfile = renderDockerfile(plan, readPreset('docker/Dockerfile'), profile);
  for (const warning of [...plan.warnings, ...runtimeDirectories(plan, profile).warnings]) process.stderr.write(`${formatWarning(warning)}\n`);

  if (toStdout) {
    process.stdout.write(dockerfile);
    return 0;
  }
  if (!writeOrExplain(out, dockerfile, force, { where: shownOut, fix: 'Choose a directory you can write to, or print it instead: memtune docker --out -' })) {
    throw new UsageError({ message: `${quote(relative(root, out))} appeared while rendering; it was left as it is.`, fix: 'Re-run with --force to replace it.' });
  }

  let ignoreNote: string;
  const ignoreText = renderDockerignore(readPreset('docker/.dockerignore'));
  const written = `${relative(root, out) || out} was written`;
  if (
    writeOrExplain(ignorePath, ignoreText, force, {
      where: quote('.dockerignore'),
      written,
      fix: 'Make the directory writable and re-run with --force, or add a .dockerignore yourself.',
    })
  ) {
    ignoreNote = 'wrote .dockerignore';
  } else {
    ignoreNote = 'kept the existing .dockerignore';
    if (!/^\s*(\*\*\/)?node_modules\/?\s*$/m.test(readTextIfExists(ignorePath) ?? '')) {
      const notice = {
        message: "the existing .dockerignore does not exclude node_modules; the host's node_modules would be copied over the image's.",
        fix: "Add a line **/node_modules (or re-run with --force to use memtune's .dockerignore).",
      };
      process.stderr.write(`${formatWarning(notice)}\n`);
    }
  }
  const heap = plan.node.heapPercentageFlag ? `node --max-old-space-size-percentage=${profile.heapPercent}` : `memtune run start (${profile.heapPercent}% of the limit)`;
  const layout = plan.monorepo ? `${plan.app.dir} (${plan.app.name}) via turbo prune --docker` : 'single package';
  process.stdout.write(
    `memtune: wrote ${relative(root, out)}: Node ${plan.node.tag}, ${plan.packageManager.name}${plan.packageManager.berry ? ' (berry)' : ''}, ${layout}; heap: ${heap}; ${ignoreNote}.\n` +
      'No Docker engine here? Check it where there is one: docker build -t app . && docker run --rm --memory=512m app\n',
  );
  return 0;
}

function kindOf(path: string): 'missing' | 'directory' | 'file' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'file';
  } catch {
    return 'missing';
  }
}

/** Refuses an --out that cannot be a file before anything is rendered: a directory, or a path whose directory is missing or is a file. */
function checkWritable(root: string, out: string, where: string, given: string | undefined, force: boolean): void {
  const kind = kindOf(out);
  if (kind === 'directory') {
    throw new UsageError({
      where,
      message: 'is a directory; memtune docker writes a file.',
      fix:
        given === undefined
          ? 'Rename that directory, or write elsewhere: memtune docker --out Dockerfile.memtune'
          : `Name the file: memtune docker --out ${join(given, 'Dockerfile')}`,
    });
  }
  if (kind === 'file' && !force) {
    throw new UsageError({
      message: `${quote(relative(root, out) || out)} already exists; memtune docker does not replace it without --force.`,
      fix: 'Re-run with --force to replace it, or write elsewhere: memtune docker --out Dockerfile.memtune',
    });
  }
  // The nearest existing ancestor says why the directory cannot hold the file: it is missing, or it is a file.
  let dir = dirname(out);
  while (kindOf(dir) === 'missing' && dirname(dir) !== dir) dir = dirname(dir);
  if (kindOf(dir) === 'file') {
    throw new UsageError({
      where,
      message: `cannot be written: ${relative(root, dir) || dir} is a file, not a directory.`,
      fix: 'Choose another --out, in a directory.',
    });
  }
  if (dir !== dirname(out)) {
    throw new UsageError({
      where,
      message: 'cannot be written: its directory does not exist.',
      fix: `Create it first (mkdir -p ${relative(root, dirname(out)) || dirname(out)}) or choose another --out.`,
    });
  }
}

/**
 * writeFileAtomic, with a failure the file system reports (no permission, a read-only or full disk) turned into
 * an error that names the file, the cause and a fix; `written` says what this run already wrote.
 */
function writeOrExplain(path: string, text: string, force: boolean, about: { where: string; fix: string; written?: string }): boolean {
  try {
    return writeFileAtomic(path, text, force);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const cause = ERRNO_TEXT[code] ? `${code}: ${ERRNO_TEXT[code]}` : code;
    throw new UsageError({ where: about.where, message: `cannot be written (${cause})${about.written ? `; ${about.written}` : ''}.`, fix: about.fix });
  }
}

const ERRNO_TEXT: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};
