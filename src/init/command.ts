import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { allowedFlagsOfThisNode } from '../run/effects/spawn-command.js';
import { UsageError, errorCode, quote } from '../shared/errors.js';
import { loadProfiles } from '../shared/effects/load-profiles.js';
import { detectMemoryLimit } from '../shared/effects/memory-limit.js';
import { endQuietlyWhenStdoutCloses } from '../shared/effects/stdout.js';
import { findPackageDirs } from '../shared/effects/package-dirs.js';
import { writeFileAtomic } from '../shared/effects/write-file-atomic.js';
import { parseCommandArgs } from '../shared/parse-command-args.js';
import { unifiedDiff } from '../shared/unified-diff.js';
import { type FileChange, type InitNote, parseCi, planInit, uncommittedChanges } from './effects/plan-init.js';

const USAGE = [
  'Usage: memtune init [--write] [--force] [--relative] [--ci github|github-matrix]',
  '',
  'Adopts memtune at a workspace root (every package) or in one package, and prints every change as a unified diff:',
  '  - npm scripts that set memory by hand (NODE_OPTIONS=… cmd, cross-env NODE_OPTIONS=…, node --max-old-space-size=N',
  '    node_modules/.bin/x, export NODE_OPTIONS=…; cmd) become `memtune run <profile> -- cmd`, the profile chosen from',
  "    the script's name and command; the flags node accepts move into .node-options under that profile, the original",
  '    line kept as a comment; flags node refuses, duplicates and --expose-gc without a caller are dropped, each said why;',
  "  - each tsconfig.json gets the matching preset's `extends` (library, check, node, solution) when its compiler",
  '    checks it the same before and after (both run), with the options the preset changes listed;',
  '  - turbo.json passes MEMTUNE_* through, .gitignore gets .memtune/ (and .turbo/ with turbo), --ci adds the workflow.',
  'Scripts it cannot take apart (pipelines, && chains, variables it cannot resolve) are left as they are and listed.',
  '',
  'Options:',
  '  --write      apply the changes (each file atomically, formatting and comments kept); without it nothing is written',
  '  --force      with --write: write although the repository has uncommitted changes; also add a preset whose',
  '               result would differ with it (review the diff first)',
  '  --relative   fixed heap sizes become a share of the memory limit (NN%), else they stay as written',
  '  --ci NAME    also add .github/workflows/: github (one job) or github-matrix (shards and a merge job)',
  '',
  'Diff on stdout, what it did and left (and why) on stderr. Exits 2 on bad input or a file it cannot write.',
].join('\n');

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  write: { type: 'boolean' },
  force: { type: 'boolean' },
  relative: { type: 'boolean' },
  ci: { type: 'string' },
} as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs({ args: argv, options: OPTIONS, strict: true }, 'Run memtune init --help for the options.');
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  endQuietlyWhenStdoutCloses();
  const ci = values.ci === undefined ? undefined : parseCi(values.ci);
  const cwd = process.cwd();
  if (values.write && !values.force) refuseUncommitted(cwd);
  const plan = await planInit({
    cwd,
    profiles: loadProfiles(),
    allowed: allowedFlagsOfThisNode(),
    nodeVersion: process.version,
    relative: values.relative ? detectMemoryLimit() : undefined,
    force: values.force === true,
    ci,
  });
  for (const note of plan.notes) process.stderr.write(`${noteLine(note)}\n`);
  for (const change of plan.changes)
    process.stdout.write(unifiedDiff(change.before ?? '', change.after, change.before === undefined ? '/dev/null' : `a/${change.shown}`, `b/${change.shown}`));
  if (plan.changes.length === 0) {
    process.stderr.write('memtune: init: nothing to change.\n');
    return 0;
  }
  const files = `${plan.changes.length} file${plan.changes.length === 1 ? '' : 's'}`;
  if (!values.write) {
    process.stderr.write(`memtune: init: ${files} to change; nothing written. Review the diff, then run memtune init --write${values.force ? ' --force' : ''}.\n`);
    return 0;
  }
  writeChanges(plan.changes);
  process.stderr.write(`memtune: init: wrote ${files}: ${plan.changes.map((change) => change.shown).join(', ')}. Check with memtune doctor.\n`);
  return 0;
}

/** --write into uncommitted changes mixes init's with the user's: refused before anything is planned or written. */
function refuseUncommitted(cwd: string): void {
  const dirty = uncommittedChanges(findPackageDirs(cwd).repoRoot);
  if (dirty.length === 0) return;
  const shown = dirty.slice(0, 5).join('\n  ');
  throw new UsageError({
    message: `the repository has uncommitted changes, which init's changes would mix with:\n  ${shown}${dirty.length > 5 ? `\n  and ${dirty.length - 5} more` : ''}\nNothing was written.`,
    fix: 'Commit or stash them first, so that git shows what init changed; or run memtune init --write --force.',
  });
}

function noteLine(note: InitNote): string {
  const mark = { done: '+', left: '-', info: ' ', warning: '!', error: '!' }[note.kind];
  return `memtune: init: ${mark} ${note.where}: ${note.message}`;
}

/** The nearest existing directory of a path: where a file or the directories it needs are made. */
function existingDir(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * Each file atomically, after checking that every one can be written: a file that cannot is refused before any
 * is touched. (One failing in between, a disk filling up, stops the rest, saying which were written.)
 */
function writeChanges(changes: FileChange[]): void {
  for (const change of changes) {
    try {
      accessSync(existingDir(change.path), constants.W_OK);
      if (existsSync(change.path)) accessSync(change.path, constants.W_OK);
    } catch (error) {
      throw new UsageError({
        where: change.shown,
        message: `cannot be written (${errorCode(error)}); nothing was written.`,
        fix: `Make ${quote(change.shown)} and its directory writable, then run memtune init --write again.`,
      });
    }
  }
  const written: string[] = [];
  for (const change of changes) {
    try {
      mkdirSync(dirname(change.path), { recursive: true });
      writeFileAtomic(change.path, change.after, true);
    } catch (error) {
      throw new UsageError({
        where: change.shown,
        message: `cannot be written (${errorCode(error)}); ${written.length > 0 ? `written before it: ${written.join(', ')}` : 'nothing was written'}.`,
        fix: `Make ${quote(change.shown)} writable, then run memtune init --write again (it plans only what is still to do).`,
      });
    }
    written.push(change.shown);
  }
}
