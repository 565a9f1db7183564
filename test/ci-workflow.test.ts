import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { REPO, cleanEnv, tempDir, writeTree } from './helpers.js';

const WORKFLOW = join(REPO, 'presets', 'github', 'memtune.yml');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

interface Workflow {
  on: unknown;
  jobs: Record<string, { 'runs-on': string; steps: Step[] }>;
}

function readWorkflow(): Workflow {
  return parse(readFileSync(WORKFLOW, 'utf8')) as Workflow;
}

/** One branch's view of GitHub: the expressions the workflow uses, as that event would evaluate them. */
interface Event {
  defaultBranch: boolean;
}

/** What `${{ … }}` in a step's `if:` or `env:` becomes for an event; an expression not listed here fails the test. */
function expression(text: string, event: Event): string {
  const inner = /^\$\{\{\s*(.*?)\s*\}\}$/.exec(text.trim())?.[1] ?? text.trim();
  switch (inner) {
    case 'github.ref_name == github.event.repository.default_branch':
      return String(event.defaultBranch);
    case 'always()':
      return 'true';
    default:
      throw new Error(`the test does not know the expression ${JSON.stringify(text)}: teach it how GitHub evaluates it`);
  }
}

const LIB = 'export const pair = <T,>(value: T): [T, T] => [value, value];\n';

/** The repository a user would have: npm workspaces, turbo, memtune, a JavaScript compiler, all installed from local files (no network). */
function userRepo(dir: string): void {
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
    ...workspacePackage('a'),
    ...workspacePackage('b'),
  });
  const lock = spawnSync('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], { cwd: dir, env: cleanEnv(), encoding: 'utf8' });
  assert.equal(lock.status, 0, lock.stderr);
}

interface JobRun {
  /** What each `run:` step printed, by step name. */
  logs: Map<string, string>;
  summary: string;
  outputs: string;
}

/**
 * Runs one job of the workflow in `checkout` as GitHub would run it for `event`: every `run:` step with
 * bash (`bash -e`, GitHub's default shell), its `env:` and the GitHub files; each `uses:` step by a stand-in
 * that does what the action does to the files (the cache is a directory shared between jobs). An action
 * the test has no stand-in for fails the test.
 */
function runJob(name: string, source: string, work: string, cache: string, event: Event): JobRun {
  const job = readWorkflow().jobs[name];
  assert.ok(job, `job ${name}`);
  const checkout = join(work, `${name}-${event.defaultBranch ? 'main' : 'pr'}`);
  const summary = join(work, `${name}-summary.md`);
  const outputs = join(work, `${name}-output.txt`);
  writeFileSync(summary, '');
  writeFileSync(outputs, '');
  const logs = new Map<string, string>();
  for (const [index, step] of job.steps.entries()) {
    const title = step.name ?? step.uses ?? step.run ?? `step ${index}`;
    if (step.if !== undefined && expression(step.if, event) !== 'true') continue;
    if (step.uses !== undefined) {
      const action = step.uses.replace(/@.*$/, '');
      switch (action) {
        case 'actions/checkout':
          cpSync(source, checkout, { recursive: true, filter: (path) => !path.includes('node_modules') });
          break;
        case 'actions/setup-node':
          assert.ok(existsSync(join(checkout, step.with?.['node-version-file'] ?? '.nvmrc')), 'setup-node reads the .nvmrc');
          break;
        case 'actions/cache/restore':
          if (existsSync(cache)) cpSync(cache, join(checkout, step.with?.path ?? ''), { recursive: true });
          break;
        case 'actions/cache/save': {
          const path = join(checkout, step.with?.path ?? '');
          assert.ok(existsSync(path), `the cache saves ${step.with?.path}, which the job made`);
          rmSync(cache, { recursive: true, force: true });
          cpSync(path, cache, { recursive: true });
          break;
        }
        case 'actions/upload-artifact':
          for (const path of (step.with?.path ?? '').split('\n').filter(Boolean)) assert.ok(existsSync(join(checkout, path.trim())), `the artifact holds ${path}`);
          break;
        default:
          assert.fail(`the test has no stand-in for ${step.uses}: add one`);
      }
      continue;
    }
    assert.ok(step.run, `step ${index} of ${name} has uses or run`);
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([key, value]) => [key, value.includes('${{') ? expression(value, event) : value]));
    const result = spawnSync('bash', ['-e', '-c', step.run], {
      cwd: checkout,
      env: cleanEnv({ ...env, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: outputs, TURBO_TELEMETRY_DISABLED: '1' }),
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(result.status, 0, `${name}: ${title} failed:\n${result.stdout}\n${result.stderr}`);
    logs.set(title, `${result.stdout}${result.stderr}`);
  }
  return { logs, summary: readFileSync(summary, 'utf8'), outputs: readFileSync(outputs, 'utf8') };
}

test('the workflow to copy is valid YAML whose every step is a run or a known action', () => {
  const workflow = readWorkflow();
  assert.deepEqual(Object.keys(workflow.jobs), ['typecheck', 'bench']);
  for (const [name, job] of Object.entries(workflow.jobs)) {
    assert.equal(job['runs-on'], 'ubuntu-latest', name);
    for (const step of job.steps) assert.ok((step.uses === undefined) !== (step.run === undefined), `${name}: ${JSON.stringify(step)}`);
  }
});

test('every run step of the workflow works on an npm + turbo monorepo: the default branch makes a baseline, a pull request is gated against it and sizes turbo from it', (t) => {
  const work = tempDir(t, 'memtune-workflow-');
  const source = join(work, 'repo');
  mkdirSync(source);
  userRepo(source);
  const cache = join(work, 'cache');

  // The default branch's first run: nothing to restore, nothing to gate; the bench's report is saved as the baseline.
  const main = runJob('bench', source, work, cache, { defaultBranch: true });
  assert.ok(existsSync(join(cache, 'memtune-report.json')), 'the default branch saved its report as the baseline');
  assert.match(main.summary, /^# memtune bench/m);

  // A pull request: the default branch's report restored, the bench gated against it.
  const pr = runJob('bench', source, work, cache, { defaultBranch: false });
  assert.match(pr.summary, /baseline/i, 'the job summary holds the comparison with the baseline');
  assert.match(pr.outputs, /^regressed=false$/m);

  // The typecheck job sizes turbo from the restored report and runs it.
  const typecheck = runJob('typecheck', source, work, cache, { defaultBranch: false });
  const explained = [...typecheck.logs.entries()].find(([title]) => /why/.test(title))?.[1] ?? '';
  assert.match(explained, /TURBO_CONCURRENCY=\d+/, explained);
  assert.match(explained, /memtune-report\.json/, 'it says which report the peaks came from');
  const ran = [...typecheck.logs.entries()].find(([title]) => title === 'Type-check')?.[1] ?? '';
  assert.match(ran, /2 successful, 2 total/, ran);
});
