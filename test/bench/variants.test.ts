import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeVariantConfigs, resolveVariants, variantConfigPath, writeVariantConfigs } from '../../src/bench/effects/variants.js';
import { DEFAULT_OPTIONS, formatJournalHeader, parseJournal, resumeOptions } from '../../src/bench/journal.js';
import { heapWrites } from '../../src/bench/node-options-edit.js';
import { benchmarkActionEntries } from '../../src/bench/report/benchmark-action.js';
import { renderMarkdownReport } from '../../src/bench/report/markdown.js';
import { endedText } from '../../src/bench/report/report.js';
import { renderSvgReport } from '../../src/bench/report/svg.js';
import type { BenchReport, PackageResult, RunFigures, VariantSpec } from '../../src/bench/types.js';
import { compareVariants, interleaved, parseVariants } from '../../src/bench/variants.js';
import { UsageError, formatError } from '../../src/shared/errors.js';
import { COMPILERS, REPO, linkMemtune, runMemtune, tempDir, writeTree } from '../helpers.js';
import { fakeCompiler } from './fake-compiler.js';
import { LIB, WORKSPACE_ROOT, linkTypeScript } from './workspace-fixture.js';

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof UsageError) return formatError(error);
    throw error;
  }
  assert.fail('expected a UsageError');
}

test('--variant NAME=SPEC parses an empty spec and comma-separated parts, paths and compilers as written', () => {
  assert.deepEqual(parseVariants(['base=', 'ts7=compiler:typescript@7.0.2, tsconfig:o/skip.json', 'p=profile:build']), [
    { name: 'base', spec: '', tsconfig: null, compiler: null, profile: null },
    { name: 'ts7', spec: 'compiler:typescript@7.0.2, tsconfig:o/skip.json', tsconfig: 'o/skip.json', compiler: 'typescript@7.0.2', profile: null },
    { name: 'p', spec: 'profile:build', tsconfig: null, compiler: null, profile: 'build' },
  ]);
});

test('a --variant that does not parse is refused, naming it, with the syntax to write', () => {
  const cases: Array<[string[], RegExp]> = [
    [['base=', 'nolib'], /^memtune: --variant "nolib": has no "=": it is NAME=SPEC\.\nWrite --variant NAME=SPEC/],
    [['base=', '-x=tsconfig:a.json'], /^memtune: --variant "-x=tsconfig:a.json": "-x" is not a variant name/],
    [['base=', 'a b='], /"a b" is not a variant name/],
    [['base=', 'x=flags:--strict'], /"flags:--strict" is not a part of a variant; the parts are tsconfig:, compiler:, profile:/],
    [['base=', 'x=tsconfig:'], /"tsconfig:" names no tsconfig/],
    [['base=', 'x=tsconfig:a.json,tsconfig:b.json'], /gives tsconfig: twice/],
    [['a=', 'a=tsconfig:b.json'], /^memtune: --variant "a": is given twice: each variant needs a name of its own/],
    [['only=tsconfig:a.json'], /is the only variant: a variant is compared with the first one given, so one alone compares nothing\.\nAdd the configuration to compare with first/],
  ];
  for (const [given, expected] of cases)
    assert.match(
      errorOf(() => parseVariants(given)),
      expected,
      given.join(' '),
    );
});

test("a package's runs take turns between the variants: run i of each before run i + 1 of any", () => {
  const jobs = (variant: string, runs: number[]) => runs.map((run) => ({ variant, run }));
  const order = interleaved([jobs('a', [0, 1, 2]), jobs('b', [0, 1, 2]), jobs('c', [2])]).map((job) => `${job.variant}${job.run}`);
  assert.deepEqual(order, ['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'c2']);
});

function run(figures: Partial<RunFigures>): RunFigures {
  return {
    status: 'ok',
    exitCode: 0,
    signal: null,
    wallMs: 1000,
    cpuMs: 900,
    peakRssBytes: 100,
    peakHeapUsedBytes: 50,
    retainedHeapBytes: 20,
    heapLimitBytes: 4000,
    gcCount: 3,
    gcMs: 10,
    goHeapPeakBytes: null,
    goHeapLiveBytes: null,
    diagnostics: {},
    parallel: false,
    ...figures,
  };
}

function result(variant: string, runs: RunFigures[], native = false): PackageResult {
  const medianOf = (field: 'peakRssBytes' | 'peakHeapUsedBytes' | 'wallMs') => runs[Math.floor(runs.length / 2)]![field];
  return {
    name: '@m/a',
    dir: 'packages/a',
    task: 'tsc -p tsconfig.json --noEmit',
    compiler: { name: 'typescript', version: native ? '7.0.2' : '6.0.3', native, path: '/x' },
    profile: 'typecheck',
    status: runs.some((r) => r.status === 'oom') ? 'oom' : 'ok',
    exitCode: 0,
    peakRssBytes: medianOf('peakRssBytes'),
    peakHeapUsedBytes: native ? null : medianOf('peakHeapUsedBytes'),
    retainedHeapBytes: null,
    heapLimitBytes: null,
    wallMs: medianOf('wallMs')!,
    cpuMs: null,
    gcCount: null,
    gcMs: null,
    goHeapPeakBytes: null,
    goHeapLiveBytes: null,
    diagnostics: { files: 10 },
    spread: {},
    parallel: false,
    runs,
    variant,
  };
}

const LIST: VariantSpec[] = parseVariants(['base=', 'nolib=tsconfig:skip.json', 'ts7=compiler:typescript@7.0.2']);

test('a variant is compared run by run with the first: ratios of paired runs, unrounded, a pair that did not finish left out', () => {
  const base = result('base', [run({ peakRssBytes: 100, wallMs: 1000 }), run({ peakRssBytes: 200, wallMs: 1000 }), run({ peakRssBytes: 100, wallMs: 1000 })]);
  const nolib = result('nolib', [run({ peakRssBytes: 90, wallMs: 1100 }), run({ peakRssBytes: 190, wallMs: 900 }), run({ status: 'oom', peakRssBytes: 10, wallMs: 10 })]);
  const native = {
    ...result('ts7', [run({ peakRssBytes: 70, peakHeapUsedBytes: null }), run({ peakRssBytes: 140, peakHeapUsedBytes: null })], true),
    task: 'memtune run typecheck -- tsc -p tsconfig.json --noEmit',
  };
  const comparisons = compareVariants([base, nolib, native], LIST);
  const rss = comparisons.find((c) => c.variant === 'nolib' && c.field === 'peakRssBytes')!;
  assert.deepEqual([rss.ratio.min, rss.ratio.max], [0.9, 0.95], 'run i over run i: 90/100 and 190/200, not a ratio of medians; the oom run is left out');
  assert.equal(rss.ratio.median, 0.925, 'the median of two ratios is their mean, not rounded to a whole number');
  assert.equal(rss.reference, 200);
  assert.ok(!comparisons.some((c) => c.variant === 'ts7' && c.field === 'peakHeapUsedBytes'), 'the native compiler has no V8 heap to compare');
  const nativeRss = comparisons.find((c) => c.variant === 'ts7' && c.field === 'peakRssBytes')!;
  assert.deepEqual(
    [nativeRss.ratio.min, nativeRss.ratio.max, nativeRss.ratio.unsteady],
    [0.7, 0.7, false],
    'two runs paired with the first two of base; its task names its profile, it is the same package',
  );
  assert.ok(!comparisons.some((c) => c.variant === 'base'), 'the first variant is the reference, not compared with itself');
});

function variantReport(): BenchReport {
  const base = result('base', [run({ peakRssBytes: 100 * 2 ** 20 }), run({ peakRssBytes: 110 * 2 ** 20 })]);
  const nolib = result('nolib', [run({ peakRssBytes: 80 * 2 ** 20 }), run({ peakRssBytes: 99 * 2 ** 20 })]);
  const list = LIST.slice(0, 2);
  return {
    schemaVersion: 2,
    generatedAt: '2026-12-04T00:00:00.000Z',
    root: '/w',
    environment: {
      node: 'v20.20.2',
      platform: 'linux',
      arch: 'x64',
      cpu: { model: 'cpu', count: 2 },
      memoryLimit: { bytes: 2 ** 34, source: 'total', detail: '' },
      gitCommit: null,
      compilers: [],
    },
    options: { runs: 2, concurrency: 1, budgetBytes: 2 ** 33, warm: false, script: null, timeoutMs: 600_000 },
    packages: [base, nolib],
    skipped: [],
    solution: null,
    variants: { list, comparisons: compareVariants([base, nolib], list) },
    recommendations: { heap: [], concurrency: null, notes: [] },
  };
}

test('the Markdown has a Variants table with each figure per variant and its ratio to the first with the spread', () => {
  const markdown = renderMarkdownReport(variantReport());
  assert.match(markdown, /## Variants\n/);
  assert.match(markdown, /- `nolib`: tsconfig:skip\.json\n/);
  assert.match(markdown, /\| Package \| Figure \| base \| nolib \|\n/);
  assert.match(markdown, /\| @m\/a \| peak RSS \| 110 MiB \| 99 MiB ×0\.85 \(0\.80–0\.90\) ‡ \|/);
  assert.match(markdown, /\| @m\/a \[nolib\] \| TS 6\.0\.3 \|/, 'the main table names each row with its variant');
});

test('the SVG groups one peak RSS bar per variant under each package, with a legend of the variants', () => {
  const svg = renderSvgReport(variantReport());
  assert.match(svg, /peak RSS per package and variant/);
  assert.equal((svg.match(/<rect class="legend"/g) ?? []).length, 2);
  assert.equal((svg.match(/<rect class="bar variant"/g) ?? []).length, 2, 'one bar per variant of the one package');
  assert.match(svg, /data-variant="nolib"[^>]*\/>\n<text[^>]*>99 MiB ×0\.85<\/text>/);
});

test('a bench of variants names each result with its variant: the benchmark series, the stopped-run message, and --write takes the first variant only', () => {
  const report = variantReport();
  const names = benchmarkActionEntries(report).map((entry) => entry.name);
  assert.equal(new Set(names).size, names.length, 'one series per package and variant');
  assert.ok(names.includes('@m/a [nolib] (tsc -p tsconfig.json --noEmit) peak RSS'));
  const [, nolib] = report.packages;
  const stopped = { ...nolib!, status: 'oom' as const, runs: nolib!.runs.map((figures) => ({ ...figures, status: 'oom' as const })) };
  assert.match(endedText(stopped), /^@m\/a \[nolib\] \(packages\/a\): tsc -p tsconfig\.json --noEmit ended oom/);
  const heap = {
    package: '@m/a',
    dir: 'packages/a',
    maxOldSpaceSizeMiB: 128,
    figure: 'peakHeapUsedBytes' as const,
    figureBytes: 50,
    factor: 1.25,
    section: 'typecheck',
    basis: 'b',
  };
  const writes = heapWrites({ ...report, packages: [report.packages[0]!, stopped], recommendations: { ...report.recommendations, heap: [heap] } });
  assert.deepEqual(
    writes.writes.map((write) => write.heapMiB),
    [128],
    "another variant's oom does not hold back the first variant's heap",
  );
});

test('--resume keeps the variants its journal records, refuses other ones, and reads a journal written before --variant', () => {
  const variants = parseVariants(['a=', 'b=tsconfig:/o.json']);
  const recorded = { ...DEFAULT_OPTIONS, variants };
  assert.deepEqual(resumeOptions(recorded, {}, 'j').variants, variants);
  assert.match(
    errorOf(() => resumeOptions(recorded, { variants: parseVariants(['a=', 'c=tsconfig:/o.json']) }, 'j')),
    /^memtune: --variant a= --variant c=tsconfig:\/o\.json: this bench was started with --variant a= --variant b=tsconfig:\/o\.json \(j\)\.\nLeave --variant out/,
  );
  const { variants: _variants, ...older } = recorded;
  const header = formatJournalHeader(older as typeof recorded);
  assert.deepEqual(parseJournal(header, 'j').options?.variants, []);
});

/** A workspace root with a compiler under an npm alias, as `npm i -D typescript-6@npm:typescript@6.0.3` installs it. */
function aliasedCompilers(root: string): void {
  writeTree(root, { ...WORKSPACE_ROOT, 'o/ok.json': '{ // comment\n "compilerOptions": { "strict": false, },\n}\n', 'o/bad.json': '{ "compilerOptions": ' });
  linkTypeScript(root, 'typescript-5');
  symlinkSync(join(REPO, 'node_modules', 'typescript-6'), join(root, 'node_modules', 'typescript-6'), 'dir');
}

test('variants are looked up before anything runs: a missing or broken overlay, a compiler not installed, an unknown profile', (t) => {
  const root = tempDir(t);
  aliasedCompilers(root);
  const lookUp = (spec: string) => () => resolveVariants(parseVariants(['base=', `x=${spec}`]), root, root);
  const [, found] = lookUp('compiler:typescript@6.0.3,tsconfig:o/ok.json')();
  assert.equal(found?.compiler, join(root, 'node_modules', 'typescript-6'), 'found under its npm alias by the name and version in its package.json');
  assert.equal(found?.tsconfig, join(root, 'o/ok.json'), 'JSON with comments and trailing commas, as tsc reads a tsconfig');
  assert.match(errorOf(lookUp('tsconfig:o/none.json')), /^memtune: --variant "x=tsconfig:o\/none\.json": tsconfig \/.*\/o\/none\.json cannot be read \(ENOENT\)\./);
  assert.match(errorOf(lookUp('tsconfig:o/bad.json')), /tsconfig \/.*\/o\/bad\.json is not JSON \(/);
  assert.match(
    errorOf(lookUp('compiler:typescript@6.0.2')),
    /typescript@6\.0\.2 is not installed in the workspace's node_modules; installed: typescript@5\.9\.3 \(node_modules\/typescript\), typescript@6\.0\.3 \(node_modules\/typescript-6\)\.\nInstall it beside the others under an alias at the workspace root: npm i -D typescript-6\.0@npm:typescript@6\.0\.2$/,
  );
  assert.match(errorOf(lookUp('compiler:nowhere/tsc')), /"nowhere\/tsc" is not a TypeScript compiler/);
  assert.match(errorOf(lookUp('profile:huge')), /"huge" is not a profile; the profiles are .*typecheck.*\.\nWrite e\.g\. profile:typecheck$/);
});

test("an overlay is laid over the package tsconfig by a real tsc: its option wins, ${configDir} and references stay the package's", (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    'overlay.json': { compilerOptions: { strict: false, skipLibCheck: true } },
    'lib/tsconfig.json': { compilerOptions: { composite: true }, files: [] },
    'pkg/package.json': { name: 'pkg', type: 'module' },
    'pkg/tsconfig.json': { extends: 'memtune/tsconfig/library.json', references: [{ path: '../lib' }] },
    'pkg/src/index.ts': LIB,
  });
  const tsconfig = join(root, 'pkg/tsconfig.json');
  const config = { variant: 'loose', tsconfig, overlay: join(root, 'overlay.json'), references: [join(root, 'lib/tsconfig.json')] };
  const written = writeVariantConfigs([config]);
  t.after(() => removeVariantConfigs(written));
  assert.deepEqual(written, [variantConfigPath(config)]);
  assert.equal(written[0], join(root, 'pkg/tsconfig.memtune-variant.loose.json'), 'beside the package tsconfig');
  const show = (file: string) => JSON.parse(spawnSync(process.execPath, [COMPILERS[1].tsc, '--showConfig', '-p', file], { encoding: 'utf8' }).stdout);
  const own = show(tsconfig);
  const laid = show(written[0]!);
  assert.equal(own.compilerOptions.strict, true);
  assert.equal(laid.compilerOptions.strict, false, 'the overlay wins');
  assert.equal(laid.compilerOptions.skipLibCheck, true);
  assert.deepEqual(laid.include, [join(root, 'pkg/src')], '${configDir}/src of the preset still means the package src');
  assert.equal(laid.compilerOptions.outDir, own.compilerOptions.outDir);
  assert.equal(own.references.length, 1);
  assert.deepEqual(laid.references, [{ path: '../lib/tsconfig.json' }], 'references are not inherited through extends: they are repeated');

  writeFileSync(join(root, 'pkg/tsconfig.memtune-variant.mine.json'), '{}');
  assert.match(
    errorOf(() => writeVariantConfigs([{ ...config, variant: 'mine' }])),
    /is in the way: a variant writes its generated tsconfig there, and this one was not written by memtune/,
  );
  assert.deepEqual(writeVariantConfigs([config]), written, 'one a bench left behind (killed) is written over');
});

/** Two packages checked by a fake compiler that logs each run: which config, whether it counts, when it started and ended. */
/** `needMiB`: the check also prints a GC line (peak 300, retained 60 MiB) and aborts as out of memory under a smaller --max-old-space-size. */
function loggedWorkspace(root: string, needMiB?: number): { log: string; compiler: string } {
  const log = join(root, 'runs.jsonl');
  writeTree(root, {
    ...WORKSPACE_ROOT,
    'overlay.json': '{ "compilerOptions": { "skipLibCheck": true } }',
    'packages/a/package.json': { name: 'a' },
    'packages/a/tsconfig.json': {},
    'packages/b/package.json': { name: 'b' },
    'packages/b/tsconfig.json': {},
  });
  const body = [
    "const fs = require('node:fs');",
    "const config = process.argv[process.argv.indexOf('-p') + 1];",
    'const start = Date.now();',
    'const until = start + 150; while (Date.now() < until);',
    `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ config, text: fs.readFileSync(config, 'utf8'), nodeOptions: process.env.NODE_OPTIONS ?? '', counts: process.argv.includes('--extendedDiagnostics'), start, end: Date.now() }) + '\\n');`,
    ...(needMiB === undefined
      ? []
      : [
          "const flag = process.execArgv.find((arg) => arg.startsWith('--max-old-space-size='));",
          `if (flag !== undefined && Number(flag.split('=')[1]) < ${needMiB}) process.abort();`,
          'console.log(`[${process.pid}:0x1a2b]      5 ms: Mark-Compact 300.0 (310.0) -> 60.0 (310.0) MB, 1.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;`);',
        ]),
  ].join('\n');
  return { log, compiler: fakeCompiler(root, body) };
}

test('bench --variant runs each package under every variant in turns, never two of its runs at once, and removes the generated tsconfigs', (t) => {
  const root = tempDir(t);
  const { log, compiler } = loggedWorkspace(root);
  const result = runMemtune(['bench', '--runs', '2', '--concurrency', '2', '--compiler', compiler, '--variant', 'base=', '--variant', 'skip=tsconfig:overlay.json'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const runs = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { config: string; text: string; counts: boolean; start: number; end: number });
  for (const pkg of ['a', 'b']) {
    const own = runs.filter((entry) => entry.config.includes(`/packages/${pkg}/`));
    assert.deepEqual(
      own.map((entry) => `${entry.config.endsWith('memtune-variant.skip.json') ? 'skip' : 'base'}${entry.counts ? ' counts' : ''}`),
      ['base counts', 'skip counts', 'base', 'skip', 'base', 'skip'],
      `${pkg}: each variant its own counting run, then A B A B`,
    );
    for (let index = 1; index < own.length; index++) assert.ok(own[index]!.start >= own[index - 1]!.end, `${pkg}: its runs never overlap`);
    const generated = own.find((entry) => entry.config.endsWith('.json') && entry.text.includes('extends'))!;
    assert.deepEqual(JSON.parse(generated.text.replace(/^\/\/.*\n/, '')).extends, ['./tsconfig.json', '../../overlay.json']);
    assert.deepEqual(readdirSync(join(root, 'packages', pkg)).sort(), ['package.json', 'tsconfig.json'], 'the generated tsconfig is gone');
  }
  const report = JSON.parse(readFileSync(join(root, '.memtune/memtune-report.json'), 'utf8')) as BenchReport;
  assert.deepEqual(
    report.packages.map((pkg) => `${pkg.name} ${pkg.variant} ${pkg.runs.length}`),
    ['a base 2', 'a skip 2', 'b base 2', 'b skip 2'],
  );
  assert.deepEqual(
    report.variants?.list.map((variant) => [variant.name, variant.tsconfig]),
    [
      ['base', null],
      ['skip', join(root, 'overlay.json')],
    ],
  );
  assert.ok(report.variants?.comparisons.some((c) => c.package === 'a' && c.variant === 'skip' && c.field === 'peakRssBytes'));
  assert.match(report.recommendations.notes[0] ?? '', /come from the first variant \(base\) only/);

  const resumed = runMemtune(['bench', '--resume', '--variant', 'base=', '--variant', 'skip=tsconfig:overlay.json'], { cwd: root });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, runs.length, 'a --resume with every run measured measures nothing');
});

test('--find-min-heap with variants searches each variant, and never runs two runs or probes of one package at once', (t) => {
  const root = tempDir(t);
  const { log, compiler } = loggedWorkspace(root, 150);
  const result = runMemtune(['bench', '--find-min-heap', '--concurrency', '2', '--compiler', compiler, '--variant', 'base=', '--variant', 'skip=tsconfig:overlay.json'], {
    cwd: root,
  });
  assert.equal(result.status, 0, result.stderr);
  const runs = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { config: string; start: number; end: number });
  for (const pkg of ['a', 'b']) {
    const own = runs.filter((entry) => entry.config.includes(`/packages/${pkg}/`)).sort((x, y) => x.start - y.start);
    assert.ok(own.length > 6, `${pkg}: probes after the runs (${own.length})`);
    for (let index = 1; index < own.length; index++) assert.ok(own[index]!.start >= own[index - 1]!.end, `${pkg}: its runs and probes never overlap`);
  }
  const report = JSON.parse(readFileSync(join(root, '.memtune/memtune-report.json'), 'utf8')) as BenchReport;
  for (const pkg of report.packages) {
    const found = pkg.minHeap?.bytes;
    assert.ok(found != null && found >= 150 * 1024 * 1024 && found <= 166 * 1024 * 1024, `${pkg.name} [${pkg.variant}]: ${found}`);
  }
});

test('a profile:NAME variant runs its checks under what memtune run NAME gives them, the other variant under the default heap', (t) => {
  const root = tempDir(t);
  const { log, compiler } = loggedWorkspace(root);
  writeFileSync(join(root, 'packages/a/.node-options'), '[typecheck]\n--max-old-space-size=77\n');
  // memtune run starts the compiler's bin itself, as an executable.
  chmodSync(join(compiler, 'bin/tsc'), 0o755);
  const result = runMemtune(['bench', '--filter', 'a', '--compiler', compiler, '--variant', 'plain=', '--variant', 'tc=profile:typecheck'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const heaps = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => /--max-old-space-size=(\d+)/.exec((JSON.parse(line) as { nodeOptions: string }).nodeOptions)?.[1] ?? 'default');
  assert.deepEqual(heaps, ['default', '77', 'default', '77'], 'counting runs, then the measured runs, in turns');
  const report = JSON.parse(readFileSync(join(root, '.memtune/memtune-report.json'), 'utf8')) as BenchReport;
  assert.deepEqual(
    report.packages.map((pkg) => [pkg.variant, pkg.applied?.heapMiB ?? null]),
    [
      ['plain', null],
      ['tc', 77],
    ],
  );
});

test('a bad --variant exits 2 before anything runs: no journal, no report, no generated tsconfig', (t) => {
  const root = tempDir(t);
  const { log, compiler } = loggedWorkspace(root);
  const cases: Array<[string[], RegExp]> = [
    [['--variant', 'only='], /is the only variant/],
    [['--variant', 'a=', '--variant', 'b=tsconfig:missing.json'], /^memtune: --variant "b=tsconfig:missing\.json": tsconfig .*missing\.json cannot be read \(ENOENT\)/],
    [['--variant', 'a=', '--variant', 'b=compiler:typescript@4.9.5'], /typescript@4\.9\.5 is not installed in the workspace's node_modules; installed: no TypeScript compiler/],
    [
      ['--variant', 'a=', '--variant', 'b=', '--solution'],
      /^memtune: --variant and --solution cannot be combined: the root build is one process measured as it is, not per variant\.\nRun --solution in a bench of its own/,
    ],
    [['--variant', 'a=', '--variant', 'b=', '--script', 'build'], /--variant and --script cannot be combined: a script runs its own commands/],
    [['--variant', 'a=', '--variant', 'b=', '--baseline', 'x.json'], /--variant and --baseline cannot be combined: a baseline has one result per package/],
    [['--variant', 'a=', '--variant', 'b=', '--warm'], /--variant and --warm cannot be combined/],
  ];
  for (const [args, expected] of cases) {
    const result = runMemtune(['bench', '--compiler', compiler, ...args], { cwd: root });
    assert.equal(result.status, 2, `${args.join(' ')}\n${result.stderr}`);
    assert.match(result.stderr, expected, args.join(' '));
  }
  assert.ok(!existsSync(join(root, '.memtune')) && !existsSync(log), 'nothing written, nothing run');
});

test('a real strict:false overlay makes a type error go away in its variant only', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    'package.json': { name: 'loose', type: 'module' },
    'tsconfig.json': { extends: 'memtune/tsconfig/library.json' },
    'src/index.ts': `${LIB}export function id(x) { return x; }\n`,
    'loose.json': { compilerOptions: { strict: false } },
  });
  linkTypeScript(root, 'typescript-6');
  const result = runMemtune(['bench', '--variant', 'strict=', '--variant', 'loose=tsconfig:loose.json'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(readFileSync(join(root, '.memtune/memtune-report.json'), 'utf8')) as BenchReport;
  const byVariant = Object.fromEntries(report.packages.map((pkg) => [pkg.variant, pkg]));
  assert.equal(byVariant.strict?.status, 'failed');
  assert.match(byVariant.strict?.runs[0]?.messages ?? '', /TS7006: Parameter 'x' implicitly has an 'any' type/);
  assert.equal(byVariant.loose?.status, 'ok', byVariant.loose?.runs[0]?.messages);
  assert.ok(!existsSync(join(root, 'tsconfig.memtune-variant.loose.json')));
});
