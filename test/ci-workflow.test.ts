import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readWorkflow, runPassingJob, userRepo, type Runner } from './ci-harness.js';
import { tempDir } from './helpers.js';

const WORKFLOW = 'memtune.yml';

test('the workflow to copy is valid YAML whose every step is a run or a known action', () => {
  const workflow = readWorkflow(WORKFLOW);
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
  const runner: Runner = { workflow: WORKFLOW, source, work, cache: join(work, 'cache'), artifacts: join(work, 'artifacts') };

  // The default branch's first run: nothing to restore, nothing to gate; the bench's report is saved as the baseline.
  const main = runPassingJob(runner, 'bench', { defaultBranch: true });
  assert.ok(existsSync(join(runner.cache, 'memtune-report.json')), 'the default branch saved its report as the baseline');
  assert.match(main.summary, /^# memtune bench/m);

  // A pull request: the default branch's report restored, the bench gated against it.
  const pr = runPassingJob(runner, 'bench', { defaultBranch: false });
  assert.match(pr.summary, /baseline/i, 'the job summary holds the comparison with the baseline');
  assert.match(pr.outputs, /^regressed=false$/m);

  // The typecheck job sizes turbo from the restored report and runs it.
  const typecheck = runPassingJob(runner, 'typecheck', { defaultBranch: false });
  const explained = [...typecheck.logs.entries()].find(([title]) => /why/.test(title))?.[1] ?? '';
  assert.match(explained, /TURBO_CONCURRENCY=\d+/, explained);
  assert.match(explained, /memtune-report\.json/, 'it says which report the peaks came from');
  const ran = [...typecheck.logs.entries()].find(([title]) => title === 'Type-check')?.[1] ?? '';
  assert.match(ran, /2 successful, 2 total/, ran);
});
