import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parseCommandArgs } from '../shared/parse-command-args.js';
import { UsageError, formatWarning, quote } from '../shared/errors.js';
import { planDocker } from './effects/plan.js';
import { readPreset, readStartProfile } from './effects/presets.js';
import { renderDockerfile, renderDockerignore } from './render.js';
import { writeFileAtomic } from '../shared/effects/write-file-atomic.js';

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

  const root = process.cwd();
  const toStdout = values.out === '-';
  const out = resolve(root, values.out ?? 'Dockerfile');
  const force = values.force === true;
  if (!toStdout && !force && existsSync(out)) {
    throw new UsageError({
      message: `${quote(relative(root, out) || out)} already exists; memtune docker does not replace it without --force.`,
      fix: 'Re-run with --force to replace it, or write elsewhere: memtune docker --out Dockerfile.memtune',
    });
  }

  if (!toStdout && !existsSync(dirname(out))) {
    throw new UsageError({
      where: `--out ${quote(values.out ?? 'Dockerfile')}`,
      message: 'cannot be written: its directory does not exist.',
      fix: `Create it first (mkdir -p ${relative(root, dirname(out)) || dirname(out)}) or choose another --out.`,
    });
  }

  const plan = planDocker({ root, ...(values.app !== undefined ? { app: values.app } : {}) });
  const profile = readStartProfile();
  const dockerfile = renderDockerfile(plan, readPreset('docker/Dockerfile'), profile);
  for (const warning of plan.warnings) process.stderr.write(`${formatWarning(warning)}\n`);

  if (toStdout) {
    process.stdout.write(dockerfile);
    return 0;
  }
  if (!writeFileAtomic(out, dockerfile, force)) {
    throw new UsageError({ message: `${quote(relative(root, out))} appeared while rendering; it was left as it is.`, fix: 'Re-run with --force to replace it.' });
  }

  const ignorePath = resolve(root, '.dockerignore');
  let ignoreNote: string;
  if (writeFileAtomic(ignorePath, renderDockerignore(readPreset('docker/.dockerignore')), force)) {
    ignoreNote = 'wrote .dockerignore';
  } else {
    ignoreNote = 'kept the existing .dockerignore';
    if (!/^\s*(\*\*\/)?node_modules\/?\s*$/m.test(readFileSync(ignorePath, 'utf8'))) {
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
