import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import { REPO, cleanEnv, writeTree } from './helpers.js';

/**
 * Runs the workflows of presets/github as GitHub would, on a scratch repository: every `run:` step with bash and the
 * GitHub files, each `uses:` step by a stand-in that does to the files what the action does. An expression or an
 * action the harness does not know fails the test.
 */

export interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

export interface Job {
  'runs-on': string;
  needs?: string | string[];
  if?: string;
  strategy?: { 'fail-fast'?: boolean; matrix: Record<string, Array<string | number>> };
  steps: Step[];
}

export interface Workflow {
  on: unknown;
  jobs: Record<string, Job>;
}

export function readWorkflow(file: string): Workflow {
  return parse(readFileSync(join(REPO, 'presets', 'github', file), 'utf8')) as Workflow;
}

/** One run of a workflow: the branch it runs on, and for a matrix job the combination this job has and how many there are. */
export interface Event {
  defaultBranch: boolean;
  matrix?: Record<string, string | number>;
  jobTotal?: number;
}

/** What each expression the workflows use evaluates to, given the event and whether an earlier step of the job failed. */
function evaluate(inner: string, event: Event, failed: boolean): string {
  const matrix = /^matrix\.(\w+)$/.exec(inner)?.[1];
  if (matrix !== undefined && event.matrix?.[matrix] !== undefined) return String(event.matrix[matrix]);
  switch (inner) {
    case 'github.ref_name == github.event.repository.default_branch':
      return String(event.defaultBranch);
    case 'strategy.job-total':
      if (event.jobTotal !== undefined) return String(event.jobTotal);
      break;
    case 'always()':
    case '!cancelled()':
      return 'true';
    case 'success()':
      return String(!failed);
    case 'failure()':
      return String(failed);
  }
  throw new Error(`the test does not know the expression ${JSON.stringify(inner)}: teach it how GitHub evaluates it`);
}

/** A string with each `${{ … }}` replaced by its value. */
export function interpolate(text: string, event: Event, failed = false): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, inner: string) => evaluate(inner, event, failed));
}

/** A step's or job's `if:`: without a status function, GitHub adds `success() &&`. */
export function condition(text: string | undefined, event: Event, failed: boolean): boolean {
  if (text === undefined) return !failed;
  const inner = /^\$\{\{\s*(.*?)\s*\}\}$/.exec(text.trim())?.[1] ?? text.trim();
  const statusChecked = /\b(always|cancelled|success|failure)\(\)/.test(inner);
  return (statusChecked || !failed) && evaluate(inner, event, failed) === 'true';
}

const LIB = 'export const pair = <T,>(value: T): [T, T] => [value, value];\n';

/** The repository a user would have: npm workspaces `names`, turbo, memtune, a JavaScript compiler, all installed from local files (no network). */
export function userRepo(dir: string, names: readonly string[] = ['a', 'b']): void {
  const workspacePackage = (name: string) => ({
    [`packages/${name}/package.json`]: { name, private: true, type: 'module', scripts: { typecheck: 'memtune run typecheck -- tsc -p tsconfig.json --noEmit' } },
    [`packages/${name}/tsconfig.json`]: { extends: 'memtune/tsconfig/check.json' },
    [`packages/${name}/src/index.ts`]: LIB,
  });
  writeTree(dir, {
    'package.json': {
      name: 'user-repo',
      private: true,
      workspaces: ['packages/*'],
      packageManager: 'npm@11.19.1',
      devDependencies: {
        memtune: `file:${REPO}`,
        turbo: `file:${join(REPO, 'node_modules', 'turbo')}`,
        typescript: `file:${join(REPO, 'node_modules', 'typescript-5')}`,
        '@types/node': `file:${join(REPO, 'node_modules', '@types', 'node')}`,
      },
    },
    '.nvmrc': `${process.versions.node.split('.')[0]}\n`,
    '.gitignore': 'node_modules/\n.memtune/\n.turbo/\n',
    'turbo.json': { $schema: 'https://turborepo.com/schema.json', globalPassThroughEnv: ['MEMTUNE_*'], tasks: { typecheck: {} } },
    ...Object.assign({}, ...names.map(workspacePackage)),
  });
  const lock = spawnSync('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], { cwd: dir, env: cleanEnv(), encoding: 'utf8' });
  assert.equal(lock.status, 0, lock.stderr);
}

/** Where the jobs of one workflow run share things: the source they check out, the cache (shared between runs), the artifacts (this run's). */
export interface Runner {
  workflow: string;
  source: string;
  work: string;
  cache: string;
  artifacts: string;
}

export interface JobRun {
  /** What each `run:` step printed, by step name. */
  logs: Map<string, string>;
  summary: string;
  outputs: string;
  checkout: string;
  /** The first step that failed, with what it printed; undefined: the job passed. */
  failed?: string;
}

/** The files an upload-artifact step names, by their path under the paths' common directory (as the action stores them). */
function uploadArtifact(checkout: string, paths: string[], into: string, failed: boolean): void {
  const present = paths.filter((path) => existsSync(join(checkout, path)));
  if (!failed) for (const path of paths) assert.ok(present.includes(path), `the artifact holds ${path}`);
  if (present.length === 0) return;
  const common = present.map((path) => dirname(path)).reduce((a, b) => (b.startsWith(a) ? a : a.startsWith(b) ? b : '.'));
  for (const path of present) {
    const target = join(into, relative(common, path));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(checkout, path), target);
  }
}

/**
 * Runs job `name` of the runner's workflow in a fresh checkout as GitHub would for `event`: each step whose `if:` holds
 * (after a failed step only those that ask for it), `run:` steps with `bash -e` (GitHub's default shell), their `env:`
 * and the GitHub files; the cache a directory shared between runs, the artifacts one shared between the jobs of a run.
 */
export function runJob(runner: Runner, name: string, event: Event): JobRun {
  const job = readWorkflow(runner.workflow).jobs[name];
  assert.ok(job, `job ${name}`);
  const label = [name, event.defaultBranch ? 'main' : 'pr', ...Object.values(event.matrix ?? {})].join('-');
  const checkout = join(runner.work, label);
  rmSync(checkout, { recursive: true, force: true });
  const summary = join(runner.work, `${label}-summary.md`);
  const outputs = join(runner.work, `${label}-output.txt`);
  writeFileSync(summary, '');
  writeFileSync(outputs, '');
  const logs = new Map<string, string>();
  let failed: string | undefined;
  for (const [index, step] of job.steps.entries()) {
    const title = step.name ?? step.uses ?? step.run ?? `step ${index}`;
    if (!condition(step.if, event, failed !== undefined)) continue;
    const input = (key: string) => interpolate(step.with?.[key] ?? '', event);
    if (step.uses !== undefined) {
      const action = step.uses.replace(/@.*$/, '');
      switch (action) {
        case 'actions/checkout':
          cpSync(runner.source, checkout, { recursive: true, filter: (path) => !path.includes('node_modules') });
          break;
        case 'actions/setup-node':
          assert.ok(existsSync(join(checkout, input('node-version-file') || '.nvmrc')), 'setup-node reads the .nvmrc');
          break;
        case 'actions/cache/restore':
          if (existsSync(runner.cache)) cpSync(runner.cache, join(checkout, input('path')), { recursive: true });
          break;
        case 'actions/cache/save': {
          const path = join(checkout, input('path'));
          assert.ok(existsSync(path), `the cache saves ${input('path')}, which the job made`);
          rmSync(runner.cache, { recursive: true, force: true });
          cpSync(path, runner.cache, { recursive: true });
          break;
        }
        case 'actions/upload-artifact': {
          const paths = input('path')
            .split('\n')
            .map((path) => path.trim())
            .filter(Boolean);
          uploadArtifact(checkout, paths, join(runner.artifacts, input('name')), failed !== undefined);
          break;
        }
        case 'actions/download-artifact': {
          // With `pattern` and several artifacts, each goes into a directory of its name under `path`.
          const pattern = new RegExp(
            `^${input('pattern')
              .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
              .replaceAll('*', '.*')}$`,
          );
          const names = existsSync(runner.artifacts) ? readdirSync(runner.artifacts).filter((artifact) => pattern.test(artifact)) : [];
          for (const artifact of names) cpSync(join(runner.artifacts, artifact), join(checkout, input('path'), artifact), { recursive: true });
          break;
        }
        default:
          assert.fail(`the test has no stand-in for ${step.uses}: add one`);
      }
      continue;
    }
    assert.ok(step.run, `step ${index} of ${name} has uses or run`);
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([key, value]) => [key, interpolate(String(value), event)]));
    const result = spawnSync('bash', ['-e', '-c', interpolate(step.run, event)], {
      cwd: checkout,
      env: cleanEnv({ ...env, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: outputs, TURBO_TELEMETRY_DISABLED: '1' }),
      encoding: 'utf8',
      timeout: 180_000,
    });
    const log = `${result.stdout}${result.stderr}`;
    logs.set(title, log);
    if (result.status !== 0 && failed === undefined) failed = `${name}: ${title} failed (exit ${result.status}):\n${log}`;
  }
  return { logs, summary: readFileSync(summary, 'utf8'), outputs: readFileSync(outputs, 'utf8'), checkout, ...(failed === undefined ? {} : { failed }) };
}

/** runJob for a job that must pass. */
export function runPassingJob(runner: Runner, name: string, event: Event): JobRun {
  const run = runJob(runner, name, event);
  assert.equal(run.failed, undefined, run.failed);
  return run;
}
