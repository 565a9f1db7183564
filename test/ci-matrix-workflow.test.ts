import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchReport } from '../src/bench/types.js';
import { condition, readWorkflow, runJob, runPassingJob, userRepo, type JobRun, type Runner } from './ci-harness.js';
import { cleanEnv, tempDir } from './helpers.js';

const WORKFLOW = 'memtune-matrix.yml';
const PACKAGES = ['a', 'b', 'c'];

/** The matrix's shard numbers, as the workflow lists them. */
function shards(): number[] {
  const matrix = readWorkflow(WORKFLOW).jobs.bench?.strategy?.matrix;
  assert.ok(matrix?.shard, 'the bench job has a matrix of shards');
  return matrix.shard.map(Number);
}

/** One run of the workflow: every shard job of the matrix, then the merge job, sharing this run's artifacts. */
function runWorkflow(base: Omit<Runner, 'artifacts'>, label: string, defaultBranch: boolean): { runner: Runner; shardJobs: JobRun[]; merge: JobRun } {
  const runner: Runner = { ...base, artifacts: join(base.work, `artifacts-${label}`) };
  const list = shards();
  const shardJobs = list.map((shard) => runPassingJob(runner, 'bench', { defaultBranch, matrix: { shard }, jobTotal: list.length }));
  return { runner, shardJobs, merge: runPassingJob(runner, 'merge', { defaultBranch }) };
}

function readReport(file: string): BenchReport {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
}

test('the matrix workflow is valid YAML: shard jobs that all run to the end, a merge job that runs after a failed shard, each step a run or a known action', () => {
  const workflow = readWorkflow(WORKFLOW);
  assert.deepEqual(Object.keys(workflow.jobs), ['bench', 'merge']);
  assert.equal(workflow.jobs.bench?.strategy?.['fail-fast'], false);
  assert.ok(shards().length > 1);
  assert.equal(workflow.jobs.merge?.needs, 'bench');
  assert.equal(condition(workflow.jobs.merge?.if, { defaultBranch: false }, true), true, 'the merge job runs when a shard job failed');
  for (const [name, job] of Object.entries(workflow.jobs)) {
    assert.equal(job['runs-on'], 'ubuntu-latest', name);
    for (const step of job.steps) assert.ok((step.uses === undefined) !== (step.run === undefined), `${name}: ${JSON.stringify(step)}`);
  }
});

test('the matrix workflow on an npm + turbo monorepo: the shards measure every package once, the merge gates, writes the summary and keeps the baseline; a missing shard fails it', async (t) => {
  const work = tempDir(t, 'memtune-matrix-');
  const source = join(work, 'repo');
  mkdirSync(source);
  userRepo(source, PACKAGES);
  const base = { workflow: WORKFLOW, source, work, cache: join(work, 'cache') };
  const baseline = join(base.cache, 'memtune-report.json');

  const main = runWorkflow(base, 'main', true);
  await t.test('the default branch: the merged report holds every package once, as one bench does, and is saved as the baseline', () => {
    const merged = readReport(join(main.merge.checkout, '.memtune', 'memtune-report.json'));
    const names = merged.packages.map((pkg) => pkg.name);
    assert.deepEqual(names, PACKAGES);
    assert.deepEqual(readdirSync(main.runner.artifacts).sort(), ['memtune-report', ...shards().map((shard) => `memtune-shard-${shard}`)].sort());
    const single = spawnSync('npx', ['memtune', 'bench', '--out', '.memtune/single', '--json'], { cwd: main.merge.checkout, env: cleanEnv(), encoding: 'utf8' });
    assert.equal(single.status, 0, single.stderr);
    assert.deepEqual(names, (JSON.parse(single.stdout) as BenchReport).packages.map((pkg) => pkg.name).sort());
    assert.deepEqual(
      readReport(baseline).packages.map((pkg) => pkg.name),
      PACKAGES,
      'the merged report is the next baseline',
    );
    assert.match(main.merge.summary, /^# memtune bench/m);
    for (const job of main.shardJobs) assert.equal(job.summary, '', 'a shard leaves the summary to the merge job');
  });

  const saved = readFileSync(baseline, 'utf8');
  const pr = runWorkflow(base, 'pr', false);
  await t.test('a pull request: the shards split by the baseline, the merge gated against it; the baseline kept', () => {
    const log = [...pr.shardJobs.flatMap((job) => [...job.logs.values()])].join('\n');
    assert.match(log, /shard 1\/\d+: /);
    const merged = readReport(join(pr.merge.checkout, '.memtune', 'memtune-report.json'));
    assert.deepEqual(
      merged.packages.map((pkg) => pkg.name),
      PACKAGES,
    );
    assert.equal(merged.baseline?.packages.length, PACKAGES.length, 'every package compared with the baseline');
    assert.match(pr.merge.summary, /baseline/i);
    assert.match(pr.merge.outputs, /^regressed=false$/m);
    assert.equal(readFileSync(baseline, 'utf8'), saved, 'a pull request does not save a baseline');
  });

  await t.test('a shard job that made no report fails the merge job, which names it', () => {
    const runner: Runner = { ...pr.runner, artifacts: join(work, 'artifacts-missing') };
    cpSync(pr.runner.artifacts, runner.artifacts, { recursive: true, filter: (path) => !/memtune-shard-2$|memtune-report$/.test(path) });
    const merge = runJob(runner, 'merge', { defaultBranch: true });
    assert.match(merge.failed ?? '', /shard 2 of \d+ is missing/);
    assert.equal(readFileSync(baseline, 'utf8'), saved, 'the failed merge saved no baseline');
    assert.equal(existsSync(join(runner.artifacts, 'memtune-report')), false, 'no merged report was made');
  });

  await t.test('a shard whose package cannot be checked passes its report on, and the merge job fails on that package', () => {
    const broken = join(work, 'broken-repo');
    mkdirSync(broken);
    userRepo(broken, ['broken']);
    writeFileSync(join(broken, 'packages', 'broken', 'tsconfig.json'), JSON.stringify({ extends: './missing.json' }));
    // The jobs' checkouts where the other runs' are: the lock file's file: paths are relative to them.
    const runner: Runner = { workflow: WORKFLOW, source: broken, work, cache: join(work, 'broken-cache'), artifacts: join(work, 'broken-artifacts') };
    const shard = runPassingJob(runner, 'bench', { defaultBranch: false, matrix: { shard: 1 }, jobTotal: 1 });
    assert.match([...shard.logs.values()].join('\n'), /broken/);
    assert.ok(existsSync(join(runner.artifacts, 'memtune-shard-1', 'memtune-report.json')), 'the shard uploaded its report');
    const merge = runJob(runner, 'merge', { defaultBranch: false });
    assert.match(merge.failed ?? '', /Merge the shards.*\(exit 1\)/);
    assert.match(merge.failed ?? '', /^::error file=packages\/broken\/tsconfig.json/m);
  });
});
