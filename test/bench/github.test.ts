import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { errorCommand, escapeData, escapeProperty, githubAnnotations, githubOutputs, outputLine, tsconfigPath } from '../../src/bench/report/github.js';
import type { BenchReport, PackageResult, RunStatus } from '../../src/bench/types.js';
import { cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';
import { fakeCompiler } from './fake-compiler.js';
import { reportOf } from './report-fixture.js';

const MiB = 1024 * 1024;

// ---- The pure formatting (src/bench/report/github.ts) ----

test('annotation data and properties are escaped as GitHub reads them back', () => {
  const cases: Array<[string, string, string]> = [
    // [input, as data, as a property]
    ['plain text', 'plain text', 'plain text'],
    ['100%', '100%25', '100%25'],
    ['%0A stays literal', '%250A stays literal', '%250A stays literal'],
    ['two\nlines', 'two%0Alines', 'two%0Alines'],
    ['crlf\r\n', 'crlf%0D%0A', 'crlf%0D%0A'],
    ['a:b,c', 'a:b,c', 'a%3Ab%2Cc'],
    ['packages/x:y,z/tsconfig.json', 'packages/x:y,z/tsconfig.json', 'packages/x%3Ay%2Cz/tsconfig.json'],
  ];
  for (const [input, data, property] of cases) {
    assert.equal(escapeData(input), data, `data ${JSON.stringify(input)}`);
    assert.equal(escapeProperty(input), property, `property ${JSON.stringify(input)}`);
  }
  assert.equal(
    errorCommand({ file: 'packages/a,b/tsconfig.json', message: 'a: 50% more\nsee ::x' }),
    '::error file=packages/a%2Cb/tsconfig.json,title=memtune::a: 50%25 more%0Asee ::x',
  );
});

test('the annotated file is the tsconfig the task read, relative to the workspace root', () => {
  const cases: Array<[string, string, string]> = [
    ['packages/a', 'tsc -p tsconfig.json --noEmit', 'packages/a/tsconfig.json'],
    ['packages/a', 'tsc -p tsconfig.app.json --noEmit (warm)', 'packages/a/tsconfig.app.json'],
    ['.', 'tsc -p tsconfig.json --noEmit', 'tsconfig.json'],
    ['.', 'tsc -b --force', 'tsconfig.json'],
    ['packages/b', 'npm run build', 'packages/b/tsconfig.json'],
    ['packages\\win', 'tsc -p tsconfig.json --noEmit', 'packages/win/tsconfig.json'],
  ];
  for (const [dir, task, file] of cases) assert.equal(tsconfigPath(dir, task), file, `${dir} ${task}`);
});

test('an output value with a line break takes the name<<DELIMITER form, with a delimiter it does not contain', () => {
  const cases: Array<[string, string, string]> = [
    ['regressed', 'true', 'regressed=true'],
    ['concurrency', '', 'concurrency='],
    ['report', '/a b/memtune-report.json', 'report=/a b/memtune-report.json'],
    ['report', '/a\nb', 'report<<MEMTUNE_EOF\n/a\nb\nMEMTUNE_EOF'],
    ['report', '/MEMTUNE_EOF\n', 'report<<MEMTUNE_EOF_\n/MEMTUNE_EOF\n\nMEMTUNE_EOF_'],
  ];
  for (const [name, value, line] of cases) assert.equal(outputLine(name, value), line);
});

function pkg(name: string, status: RunStatus = 'ok', overrides: Partial<PackageResult> = {}, messages?: string): PackageResult {
  const figures = { peakRssBytes: 300 * MiB, peakHeapUsedBytes: 200 * MiB, retainedHeapBytes: null, heapLimitBytes: null, goHeapPeakBytes: null, goHeapLiveBytes: null };
  const run = { status, exitCode: status === 'ok' ? 0 : null, signal: null, wallMs: 1000, cpuMs: 1000, gcCount: 1, gcMs: 1, diagnostics: {}, parallel: false, ...figures };
  return {
    name,
    dir: `packages/${name}`,
    task: 'tsc -p tsconfig.json --noEmit',
    compiler: { name: 'typescript', version: '5.9.3', native: false, path: '/x/tsc' },
    profile: 'typecheck',
    ...run,
    spread: {},
    runs: [{ ...run, ...(messages === undefined ? {} : { messages }) }],
    ...overrides,
  };
}

test('each package that did not finish, and each regression, is one annotation on its tsconfig; type errors and no-check are not', () => {
  const dead = pkg('dead', 'oom', {}, 'FATAL ERROR: Reached heap limit\n(100%)');
  const statuses: RunStatus[] = ['ok', 'failed', 'no-check', 'timeout', 'killed', 'crashed', 'config-error'];
  const report = reportOf([dead, ...statuses.map((status) => pkg(`p-${status}`, status))], {
    solution: pkg('solution', 'crashed', { dir: '.', task: 'tsc -b --force' }),
    baseline: {
      file: 'base.json',
      generatedAt: '2026-11-01T00:00:00.000Z',
      gitCommit: null,
      maxGrowth: 0.1,
      noiseFloorBytes: 8 * MiB,
      regressions: 1,
      warnings: [],
      packages: [
        {
          name: 'grown',
          dir: 'packages/g,1',
          task: 'tsc -p tsconfig.json --noEmit',
          state: 'compared',
          compilerChange: null,
          deltas: [
            { field: 'peakRssBytes', before: 100 * MiB, after: 200 * MiB, growth: 1, over: true, allowedBytes: 10 * MiB, allowedBy: 'max-growth' },
            { field: 'peakHeapUsedBytes', before: 100 * MiB, after: 101 * MiB, growth: 0.01, over: false, allowedBytes: 10 * MiB, allowedBy: 'max-growth' },
          ],
        },
        { name: 'same', dir: 'packages/same', task: 'tsc -p tsconfig.json --noEmit', state: 'compared', compilerChange: null, deltas: [] },
      ],
    },
  });
  assert.deepEqual(
    githubAnnotations(report).map((annotation) => [annotation.file, annotation.message]),
    [
      ['packages/dead/tsconfig.json', 'dead (packages/dead): tsc -p tsconfig.json --noEmit ended oom:\nFATAL ERROR: Reached heap limit\n(100%)'],
      ['packages/p-timeout/tsconfig.json', 'p-timeout (packages/p-timeout): tsc -p tsconfig.json --noEmit ended timeout'],
      ['packages/p-killed/tsconfig.json', 'p-killed (packages/p-killed): tsc -p tsconfig.json --noEmit ended killed'],
      ['packages/p-crashed/tsconfig.json', 'p-crashed (packages/p-crashed): tsc -p tsconfig.json --noEmit ended crashed'],
      ['packages/p-config-error/tsconfig.json', 'p-config-error (packages/p-config-error): tsc -p tsconfig.json --noEmit ended config-error'],
      ['tsconfig.json', 'solution (.): tsc -b --force ended crashed'],
      ['packages/g,1/tsconfig.json', 'grown (packages/g,1) regressed against base.json: peak RSS 100 → 200 MiB (+100 %), allowed +10 MiB: max-growth ⚠.'],
    ],
  );
  assert.deepEqual(githubOutputs(report, '/repo/.memtune/memtune-report.json').slice(1), ['regressed=true', 'report=/repo/.memtune/memtune-report.json']);
});

test('the outputs: the recommended concurrency or empty, whether anything regressed, the report', () => {
  const report = reportOf([pkg('a')]);
  assert.ok(report.recommendations.concurrency, 'a finished package gives a concurrency');
  assert.deepEqual(githubOutputs(report, '/r/memtune-report.json'), [
    `concurrency=${report.recommendations.concurrency.value}`,
    'regressed=false',
    'report=/r/memtune-report.json',
  ]);
  assert.deepEqual(githubOutputs(reportOf([pkg('x', 'oom')]), '/r/memtune-report.json'), ['concurrency=', 'regressed=false', 'report=/r/memtune-report.json']);
});

// ---- The real bin, with a fake compiler ----

const OOM_STDERR = 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\\n(at 100% of the limit)\\n';

/**
 * A workspace of packages/ok, packages/g:r,ow (a directory name GitHub must see escaped) and, with `dies`,
 * packages/dies, whose check ends at the V8 heap limit; all checked by one fake compiler.
 */
function workspace(t: TestContext, dies: boolean): { root: string; run: (args: string[], env?: Record<string, string | undefined>) => ReturnType<typeof runMemtune> } {
  const root = tempDir(t);
  writeTree(root, { 'package.json': { name: 'mono', private: true, workspaces: ['packages/*'] } });
  for (const [dir, name] of [['ok', 'ok'], ['g:r,ow', 'grow'], ...(dies ? [['dies', 'dies']] : [])]) {
    writeTree(root, { [`packages/${dir}/package.json`]: { name }, [`packages/${dir}/tsconfig.json`]: { files: [] } });
  }
  const compiler = fakeCompiler(
    root,
    `if (require('node:path').basename(process.cwd()) === 'dies') { process.stderr.write(${JSON.stringify(OOM_STDERR).replaceAll('\\\\n', '\\n')}); process.kill(process.pid, 'SIGABRT'); }\n`,
  );
  return {
    root,
    run: (args, env = {}) => runMemtune(['bench', '--compiler', compiler, '--concurrency', '1', ...args], { cwd: root, env: cleanEnv(env) }),
  };
}

test('with GITHUB_STEP_SUMMARY and GITHUB_OUTPUT a bench appends its Markdown report and the three outputs', (t) => {
  const bench = workspace(t, false);
  const summary = join(bench.root, 'summary.md');
  const output = join(bench.root, 'output.txt');
  writeFileSync(summary, '# an earlier step\n');
  writeFileSync(output, 'earlier=1\n');
  const result = bench.run([], { GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output });
  assert.equal(result.status, 0, result.stderr);
  const text = readFileSync(summary, 'utf8');
  assert.ok(text.startsWith('# an earlier step\n# memtune bench\n'), text.slice(0, 200));
  assert.match(text, /\| Package \| Compiler \| Status \|/);
  assert.match(text, /^\| ok \|/m);
  assert.match(text, /^\| grow \|/m);
  assert.equal(text, `# an earlier step\n${readFileSync(join(bench.root, '.memtune', 'memtune-report.md'), 'utf8')}`, 'the same report as the .md file');
  const report = JSON.parse(readFileSync(join(bench.root, '.memtune', 'memtune-report.json'), 'utf8')) as BenchReport;
  const concurrency = report.recommendations.concurrency?.value;
  assert.equal(readFileSync(output, 'utf8'), `earlier=1\nconcurrency=${concurrency ?? ''}\nregressed=false\nreport=${join(bench.root, '.memtune', 'memtune-report.json')}\n`);
  assert.doesNotMatch(result.stderr, /::/, 'nothing failed: no annotation');
});

test('an oom package and a regression become ::error lines on stderr with the file and an escaped message; --json stdout stays JSON; without the variables no :: line', (t) => {
  const bench = workspace(t, true);
  const first = bench.run(['--out', 'first']);
  assert.equal(first.status, 1, first.stderr);
  assert.doesNotMatch(first.stderr, /::/, 'outside GitHub: no workflow command');
  assert.doesNotMatch(first.stdout, /::/);
  const baseline = JSON.parse(readFileSync(join(bench.root, 'first', 'memtune-report.json'), 'utf8')) as BenchReport;
  const grow = baseline.packages.find((pkg) => pkg.name === 'grow');
  assert.ok(grow?.peakRssBytes, 'the fake compiler has a peak RSS');
  // As if grow had needed 1 MiB before; the other packages are left out of the baseline, so that noise in their
  // figures (a loaded CI machine) cannot add a regression.
  baseline.packages = [grow];
  grow.peakRssBytes = MiB;
  grow.spread = {};
  for (const run of grow.runs) run.peakRssBytes = MiB;
  writeFileSync(join(bench.root, 'baseline.json'), JSON.stringify(baseline));

  const summary = join(bench.root, 'summary.md');
  const output = join(bench.root, 'output.txt');
  const result = bench.run(['--json', '--baseline', 'baseline.json'], { GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output });
  assert.equal(result.status, 1, result.stderr);
  const report = JSON.parse(result.stdout) as BenchReport;
  assert.equal(report.baseline?.regressions, 1);
  const commands = result.stderr.split('\n').filter((line) => line.startsWith('::'));
  assert.equal(commands.length, 2, result.stderr);
  assert.match(
    commands[0]!,
    /^::error file=packages\/dies\/tsconfig\.json,title=memtune::dies \(packages\/dies\): tsc -p tsconfig\.json --noEmit ended oom:%0A.*FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory%0A\(at 100%25 of the limit\)$/,
  );
  assert.match(
    commands[1]!,
    /^::error file=packages\/g%3Ar%2Cow\/tsconfig\.json,title=memtune::grow \(packages\/g:r,ow\) regressed against baseline\.json: peak RSS 1 → \d+ MiB \(\+\d+ %25\), allowed \+\d+ MiB: noise floor ⚠\.$/,
  );
  assert.match(readFileSync(summary, 'utf8'), /## Compared with the baseline/);
  assert.match(readFileSync(output, 'utf8'), /^regressed=true$/m);
});

test('a GITHUB_OUTPUT that cannot be written is a warning naming it; the exit code stays the bench’s and the report is written', (t) => {
  const bench = workspace(t, false);
  const output = join(bench.root, 'package.json', 'output.txt');
  const summary = join(bench.root, 'summary.md');
  const result = bench.run([], { GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary });
  assert.equal(result.status, 0, result.stderr);
  const warning = `memtune: warning: GITHUB_OUTPUT ${JSON.stringify(output)}: cannot be written (ENOTDIR); the report is in .memtune/memtune-report.json.\n`;
  assert.ok(result.stderr.includes(warning), result.stderr);
  assert.match(readFileSync(summary, 'utf8'), /# memtune bench/, 'the summary is still written');
  assert.ok(readFileSync(join(bench.root, '.memtune', 'memtune-report.json'), 'utf8').length > 0);

  const unwritableSummary = bench.run([], { GITHUB_STEP_SUMMARY: join(bench.root, 'package.json', 'summary.md') });
  assert.equal(unwritableSummary.status, 0, unwritableSummary.stderr);
  assert.match(unwritableSummary.stderr, /^memtune: warning: GITHUB_STEP_SUMMARY ".*\/package\.json\/summary\.md": cannot be written \(ENOTDIR\)/m);
});
