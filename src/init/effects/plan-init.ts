import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import type { AllowedNodeFlags } from '../../run/node-flags.js';
import { readTurboJson } from '../../run/effects/turbo-tasks.js';
import { UsageError, quote } from '../../shared/errors.js';
import { parseJsonc } from '../../shared/jsonc.js';
import type { MemoryLimit } from '../../shared/effects/memory-limit.js';
import { PRESETS_DIR } from '../../shared/effects/load-profiles.js';
import { findPackageDirs } from '../../shared/effects/package-dirs.js';
import { readTextIfExists } from '../../shared/effects/read-text.js';
import { resolveCompiler } from '../../shared/effects/typescript-compiler.js';
import { listWorkspacePackages, readManifest, workspacePatterns } from '../../shared/effects/workspace.js';
import type { Profiles } from '../../shared/profiles.js';
import { formatBytes } from '../../shared/size.js';
import { missingPassThrough } from '../../shared/turbo-config.js';
import { nodeVersionFindings } from '../../doctor/effects/checks.js';
import { IGNORED, PASS_THROUGH, withGitIgnore, withPassThrough, withScripts } from '../json-edit.js';
import { nodeOptionsWithScripts } from '../node-options-sections.js';
import { type ScriptRewrite, planScriptRewrite } from '../scripts.js';
import { type PresetChoice, choosePreset, knownDefaults, presetChanges, withExtends } from '../tsconfig-preset.js';
import { readPresetOptions, sameResultWithPreset, shownConfig, type ShownConfig } from './tsconfig-check.js';

export const CI_WORKFLOWS = { github: 'memtune.yml', 'github-matrix': 'memtune-matrix.yml' } as const;
export type CiWorkflow = keyof typeof CI_WORKFLOWS;

export interface InitOptions {
  cwd: string;
  profiles: Profiles;
  allowed: AllowedNodeFlags;
  nodeVersion: string;
  /** `--relative`: fixed heap sizes become a share of this limit. */
  relative?: MemoryLimit | undefined;
  /** `--force`: add a preset's `extends` even where the package's result differs with it. */
  force: boolean;
  ci?: CiWorkflow | undefined;
}

/** One file as init would leave it; `before` undefined: a new file. Paths absolute, `shown` relative to the root. */
export interface FileChange {
  path: string;
  shown: string;
  before: string | undefined;
  after: string;
}

/** What init says about a place: `done` a change it plans, `left` something it leaves as it is and why. */
export interface InitNote {
  kind: 'done' | 'left' | 'warning' | 'error' | 'info';
  where: string;
  message: string;
}

export interface InitPlan {
  root: string;
  changes: FileChange[];
  notes: InitNote[];
}

/** Where init acts: the workspace root and every package in it, or (run inside a package) that package alone. */
function placesOf(cwd: string): { root: string; dirs: string[]; atRoot: boolean } {
  const { packageDir, repoRoot } = findPackageDirs(cwd);
  if (!existsSync(join(packageDir, 'package.json'))) {
    throw new UsageError({
      message: `${cwd} is not inside a package: no package.json here or above.`,
      fix: 'Run memtune init at the root of your repository (or in one of its packages).',
    });
  }
  if (packageDir !== repoRoot) return { root: repoRoot, dirs: [packageDir], atRoot: false };
  const manifest = readManifest(repoRoot);
  const patterns = manifest ? workspacePatterns(repoRoot, manifest) : undefined;
  const packages = patterns ? listWorkspacePackages(repoRoot, patterns).map((pkg) => join(repoRoot, pkg.dir)) : [];
  return { root: repoRoot, dirs: [repoRoot, ...packages], atRoot: true };
}

/** Plans every change `memtune init` would make; writes nothing (tsconfig checks use a temporary sibling file, removed). */
export async function planInit(options: InitOptions): Promise<InitPlan> {
  const { root, dirs, atRoot } = placesOf(options.cwd);
  const shown = (path: string) => relative(root, path).replaceAll('\\', '/') || '.';
  const changes: FileChange[] = [];
  const notes: InitNote[] = [];
  const change = (path: string, before: string | undefined, after: string) => {
    if (after !== before) changes.push({ path, shown: shown(path), before, after });
  };

  for (const dir of dirs) planScripts(dir, options, shown, change, notes);
  await planTsconfigs(dirs, options, shown, change, notes);
  if (atRoot) planWiring(root, options, change, notes);
  for (const finding of nodeVersionFindings({ cwd: options.cwd, nodeVersion: options.nodeVersion }, [root, ...dirs.slice(0, 1)])) {
    if (finding.severity !== 'info')
      notes.push({ kind: finding.severity, where: finding.where ? shown(finding.where) : 'node', message: `${finding.message} (left as it is: memtune doctor checks it)` });
  }
  return { root, changes, notes };
}

/** Whether the code a command runs calls `gc()`: a node script's own file is read; anything else is taken not to. */
function callsGc(dir: string): (command: readonly string[]) => boolean {
  return (command) => {
    const script = command[0] === 'node' ? command.slice(1).find((word) => !word.startsWith('-')) : undefined;
    if (script === undefined) return false;
    return /\bgc\s*\(/.test(readTextIfExists(join(dir, script)) ?? '');
  };
}

/** The package's scripts that set memory by hand, rewritten into `memtune run`; their flags into its `.node-options`. */
function planScripts(
  dir: string,
  options: InitOptions,
  shown: (path: string) => string,
  change: (path: string, before: string | undefined, after: string) => void,
  notes: InitNote[],
): void {
  const manifestPath = join(dir, 'package.json');
  const text = readTextIfExists(manifestPath);
  const scripts = text === undefined ? undefined : (readManifest(dir)?.scripts ?? {});
  if (text === undefined || scripts === undefined) return;
  const where = shown(manifestPath);
  const context = {
    profiles: options.profiles,
    allowed: options.allowed,
    nativeCompiler: resolveCompiler(dir)?.native === true,
    callsGc: callsGc(dir),
    ...(options.relative ? { relative: { bytes: options.relative.bytes, detail: `${formatBytes(options.relative.bytes)} (${options.relative.source})` } } : {}),
  };
  const rewrites: ScriptRewrite[] = [];
  for (const [name, script] of Object.entries(scripts)) {
    if (typeof script !== 'string') continue;
    const plan = planScriptRewrite(name, script, context);
    if (plan.kind === 'unparsable') notes.push({ kind: 'left', where: `${where} "${name}"`, message: `left as it is: ${plan.reason}` });
    else if (plan.kind === 'unchanged' && plan.reason !== undefined) notes.push({ kind: 'left', where: `${where} "${name}"`, message: `left as it is: ${plan.reason}` });
    else if (plan.kind === 'rewrite') {
      rewrites.push(plan);
      const carried = plan.flags.map((flag) => (flag.value === undefined ? flag.name : `${flag.name}=${flag.value}`));
      notes.push({
        kind: 'done',
        where: `${where} "${name}"`,
        message: `${plan.script} (profile ${plan.profile}: ${plan.why})${carried.length > 0 ? `; ${carried.join(' ')} into .node-options [${plan.profile}]` : ''}`,
      });
      for (const dropped of plan.dropped)
        notes.push({
          kind: 'info',
          where: `${where} "${name}"`,
          message: `not carried over: ${dropped.flag}: ${dropped.reason.replace(/\.$/, '')}; instead: ${dropped.replacement}`,
        });
      for (const note of plan.notes) notes.push({ kind: 'info', where: `${where} "${name}"`, message: note });
    }
  }
  if (rewrites.length === 0) return;
  // memtune run loads the package's .env before its command: scripts that go through it now get those variables.
  const dotenv = join(dir, '.env');
  if (existsSync(dotenv)) {
    const names = rewrites.map((rewrite) => quote(rewrite.name)).join(', ');
    notes.push({
      kind: 'warning',
      where: shown(dotenv),
      message: `memtune run loads it before its command: the rewritten scripts (${names}) now get its variables where the environment does not set them (docs/run.md, .env files); check they expect them`,
    });
  }
  change(manifestPath, text, withScripts(text, rewrites));
  const nodeOptionsPath = join(dir, '.node-options');
  const before = readTextIfExists(nodeOptionsPath);
  const sections = nodeOptionsWithScripts(before, shown(nodeOptionsPath), rewrites, options.profiles);
  for (const skipped of sections.skipped) {
    notes.push({
      kind: skipped.conflict ? 'warning' : 'info',
      where: shown(nodeOptionsPath),
      message: `[${skipped.section}] ${skipped.flag} from "${skipped.script}" not written: ${skipped.reason}`,
    });
  }
  change(nodeOptionsPath, before, before === undefined && sections.text !== '' ? `${NODE_OPTIONS_HEADER}${sections.text}` : sections.text);
}

/** The comment a new `.node-options` starts with: what the file is, for whoever opens it next. */
const NODE_OPTIONS_HEADER = [
  "# Node flags for this package's scripts, read by `memtune run <profile>` (written by memtune init; docs/run.md).",
  '# One flag per line; [profile] starts a section for that profile only. Sizes in MB or as NN% of the memory limit.',
  '# `memtune doctor` checks this file; `memtune bench --write` puts measured heaps here.',
  '',
  '',
].join('\n');

interface TsconfigFacts {
  dir: string;
  tsconfig: string;
  text: string;
  own: { extends: string[]; compilerOptions: Record<string, unknown> };
  shown: ShownConfig;
  compiler: NonNullable<ReturnType<typeof resolveCompiler>>;
}

/** Each package's tsconfig.json: the matching preset, added only where its compiler's check is the same with it (or --force). */
async function planTsconfigs(
  dirs: string[],
  options: InitOptions,
  shown: (path: string) => string,
  change: (path: string, before: string | undefined, after: string) => void,
  notes: InitNote[],
): Promise<void> {
  const facts: TsconfigFacts[] = [];
  await inParallel(dirs, async (dir) => {
    const tsconfig = join(dir, 'tsconfig.json');
    const text = readTextIfExists(tsconfig);
    if (text === undefined) return;
    const where = shown(tsconfig);
    let own: { extends?: unknown; compilerOptions?: Record<string, unknown> };
    try {
      own = parseJsonc(text) as typeof own;
    } catch (error) {
      notes.push({ kind: 'left', where, message: `skipped: not valid JSON with comments (${(error as Error).message}); fix it and run memtune init again` });
      return;
    }
    const compiler = resolveCompiler(dir);
    if (!compiler) {
      notes.push({ kind: 'left', where, message: 'skipped: its package resolves no typescript (install it as a devDependency)' });
      return;
    }
    const config = await shownConfig(compiler, tsconfig);
    if ('unreadable' in config) {
      notes.push({ kind: 'left', where, message: `skipped: TypeScript ${compiler.version} cannot read it: ${config.unreadable.split('\n')[0]}` });
      return;
    }
    const extendsList = typeof own.extends === 'string' ? [own.extends] : Array.isArray(own.extends) ? own.extends.filter((entry) => typeof entry === 'string') : [];
    facts.push({ dir, tsconfig, text, own: { extends: extendsList, compilerOptions: own.compilerOptions ?? {} }, shown: config, compiler });
  });
  const referencedBy = new Map<string, string[]>();
  for (const fact of facts) for (const reference of fact.shown.references) referencedBy.set(reference, [...(referencedBy.get(reference) ?? []), shown(fact.tsconfig)]);
  await inParallel(facts, async (fact) => {
    const where = shown(fact.tsconfig);
    const manifest = readManifest(fact.dir) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> } | undefined;
    const choice: PresetChoice = choosePreset({
      extends: fact.own.extends,
      onlyReferences: fact.shown.files.length === 0 && fact.shown.include.length === 0 && fact.shown.references.length > 0,
      composite: fact.shown.options.composite === true,
      noEmit: fact.shown.options.noEmit === true,
      referencedBy: referencedBy.get(fact.tsconfig) ?? [],
      nodeTypes: manifest?.dependencies?.['@types/node'] !== undefined || manifest?.devDependencies?.['@types/node'] !== undefined,
    });
    if (choice.preset === null) {
      if (!choice.why.startsWith('already')) notes.push({ kind: 'left', where, message: `no preset: it ${choice.why}` });
      return;
    }
    if (!resolvesMemtune(fact.dir)) {
      notes.push({
        kind: 'left',
        where,
        message: `${choice.extends.join(', ')} would fit (${choice.why}), but memtune does not resolve from ${shown(fact.dir)}: install it (npm i -D memtune) and run memtune init again`,
      });
      return;
    }
    const edit = withExtends(fact.text, choice.extends, fact.compiler.version);
    if ('refused' in edit) {
      notes.push({ kind: 'left', where, message: `not extended: ${edit.refused}` });
      return;
    }
    const changed = presetChanges(readPresetOptions(choice.extends), fact.own.compilerOptions, fact.shown.options, knownDefaults(fact.compiler.version));
    const changeText =
      changed.length === 0 ? 'changes none of its options' : `changes ${changed.map((c) => `${c.option} ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`).join(', ')}`;
    const named = `extends ${choice.extends.join(' + ')} (${choice.why}); ${changeText}`;
    if (options.force) {
      notes.push({ kind: 'done', where, message: `${named}; added with --force, without comparing the check` });
      change(fact.tsconfig, fact.text, edit.text);
      return;
    }
    const check = await sameResultWithPreset(fact.dir, fact.tsconfig, edit.text, fact.compiler);
    if ('skipped' in check) notes.push({ kind: 'left', where, message: `${named}; not added: ${check.skipped}` });
    else if (!check.same) notes.push({ kind: 'left', where, message: `${named}; not added, the result would differ: ${check.difference.join('; ')}. --force adds it anyway` });
    else {
      notes.push({ kind: 'done', where, message: `${named}; TypeScript ${fact.compiler.version} checks it the same before and after` });
      change(fact.tsconfig, fact.text, edit.text);
    }
  });
}

/** `memtune/tsconfig/…` resolves from the package: what its `extends` needs. */
function resolvesMemtune(dir: string): boolean {
  try {
    createRequire(join(dir, 'package.json')).resolve('memtune/package.json');
    return true;
  } catch {
    return false;
  }
}

/** turbo.json passes MEMTUNE_* through, .gitignore has .memtune/ (and .turbo/ with turbo), and with --ci the workflow from presets/github/. */
function planWiring(root: string, options: InitOptions, change: (path: string, before: string | undefined, after: string) => void, notes: InitNote[]): void {
  const turbo = readTurboJson(root);
  if (turbo && missingPassThrough(turbo.config).length > 0) {
    const text = readFileSync(turbo.file, 'utf8');
    const present = (turbo.config as { globalPassThroughEnv?: unknown }).globalPassThroughEnv;
    change(turbo.file, text, withPassThrough(text, Array.isArray(present) ? present : undefined));
    notes.push({
      kind: 'done',
      where: relative(root, turbo.file),
      message: `globalPassThroughEnv gets ${PASS_THROUGH}: a memtune run inside a task then sees its share of memory`,
    });
  }
  // git check-ignore exits 1 for a path not ignored, 0 for one ignored, anything else outside a git work tree.
  const notIgnored = (path: string) => spawnSync('git', ['check-ignore', '-q', path], { cwd: root, stdio: 'ignore' }).status === 1;
  const entries = [
    ...(notIgnored(join('.memtune', 'memtune-report.json')) ? [IGNORED.memtune] : []),
    ...(turbo && notIgnored(join('.turbo', 'turbo-build.log')) ? [IGNORED.turbo] : []),
  ];
  if (entries.length > 0) {
    const path = join(root, '.gitignore');
    change(path, readTextIfExists(path), withGitIgnore(readTextIfExists(path), entries));
    for (const entry of entries) {
      const why =
        entry === IGNORED.memtune
          ? '(bench reports, journals, diagnostics)'
          : "(turbo's cache and logs: not ignored, the logs are inputs of the next run and tasks miss the cache)";
      notes.push({ kind: 'done', where: '.gitignore', message: `${entry.pattern} ${why} ignored` });
    }
  }
  if (options.ci) {
    const name = CI_WORKFLOWS[options.ci];
    const path = join(root, '.github', 'workflows', name);
    const branch = defaultBranchOf(root);
    const preset = withPushBranch(readFileSync(join(PRESETS_DIR, 'github', name), 'utf8'), branch);
    const existing = readTextIfExists(path);
    if (existing === undefined) {
      change(path, undefined, preset);
      const on = branch === undefined ? 'runs on pushes to main: change its branches: [main] if your default branch has another name' : `runs on pushes to ${branch}`;
      notes.push({ kind: 'done', where: relative(root, path), message: `the workflow from memtune's presets/github/${name}; ${on}, where it saves the baseline` });
    } else if (existing !== preset) {
      notes.push({
        kind: 'left',
        where: relative(root, path),
        message: `exists and differs from presets/github/${name}: left as it is (compare them: diff it with node_modules/memtune/presets/github/${name})`,
      });
    }
  }
}

/**
 * The branch whose pushes save the baseline: origin's HEAD, else a local main or master. Not the current branch:
 * init is often run on a branch made to adopt memtune.
 */
function defaultBranchOf(root: string): string | undefined {
  const remote = spawnSync('git', ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'], { cwd: root, encoding: 'utf8' });
  if (remote.status === 0 && remote.stdout.trim() !== '') return remote.stdout.trim().replace(/^origin\//, '');
  return ['main', 'master'].find((name) => spawnSync('git', ['show-ref', '--verify', '--quiet', `refs/heads/${name}`], { cwd: root }).status === 0);
}

/** The workflow with `push: branches: [main]` naming `branch` (quoted when YAML needs it). */
function withPushBranch(workflow: string, branch: string | undefined): string {
  if (branch === undefined || branch === 'main') return workflow;
  const name = /^[\w./-]+$/.test(branch) ? branch : JSON.stringify(branch);
  return workflow.replace(/^(\s+branches: )\[main\]$/m, `$1[${name}]`);
}

/** `work` for each item, as many at once as there are cores (each may start a compiler). */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), items.length) }, worker));
}

/** Uncommitted changes in the repository (`git status --porcelain`), or none outside git. */
export function uncommittedChanges(root: string): string[] {
  const result = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) return [];
  return result.stdout.split('\n').filter((line) => line.trim() !== '');
}

/** A `--ci` value: the workflows presets/github/ has. */
export function parseCi(text: string): CiWorkflow {
  if (Object.hasOwn(CI_WORKFLOWS, text)) return text as CiWorkflow;
  throw new UsageError({
    where: `--ci ${quote(text)}`,
    message: `not a workflow memtune has; the workflows are ${Object.keys(CI_WORKFLOWS).join(', ')}.`,
    fix: 'Write --ci github (one job) or --ci github-matrix (shards and a merge job).',
  });
}
