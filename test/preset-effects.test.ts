import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BELIEFS,
  EFFECTS_END,
  EFFECTS_JSON_FILE,
  EFFECTS_START,
  type MeasuredEffects,
  PRESETS_README_FILE,
  effectsSectionOf,
  errorCodesOf,
  packageResults,
  renderEffects,
  replaceEffectsSection,
  verdictOf,
} from '../scripts/preset-effects.js';
import type { PackageResult, RunStatus, Spread, VariantComparison } from '../src/bench/types.js';
import { summarizeRuns, unmeasuredFigures } from '../src/bench/stats.js';
import { reportOf } from './bench/report-fixture.js';
import { REPO } from './helpers.js';

const MiB = 1024 * 1024;

test('the measured-effect section of presets/tsconfig/README.md is exactly the render of the committed JSON', () => {
  const jsonPath = join(REPO, EFFECTS_JSON_FILE);
  assert.ok(existsSync(jsonPath), `${EFFECTS_JSON_FILE} is missing: run npm run bench:presets`);
  const effects = JSON.parse(readFileSync(jsonPath, 'utf8')) as MeasuredEffects;
  const section = effectsSectionOf(readFileSync(join(REPO, PRESETS_README_FILE), 'utf8'));
  assert.notEqual(section, null, `${PRESETS_README_FILE} has no ${EFFECTS_START} … ${EFFECTS_END} markers`);
  assert.equal(section, renderEffects(effects), `${PRESETS_README_FILE} differs from ${EFFECTS_JSON_FILE}: run npm run bench:presets -- --render`);
});

test('the committed JSON measured every belief on zod and a TanStack package, on one commit with at least 5 runs', () => {
  const effects = JSON.parse(readFileSync(join(REPO, EFFECTS_JSON_FILE), 'utf8')) as MeasuredEffects;
  assert.deepEqual(
    effects.beliefs.map((belief) => belief.id),
    BELIEFS.map((belief) => belief.id),
  );
  assert.match(effects.commit, /^[0-9a-f]{7,40}$/);
  assert.ok(effects.runs >= 5, `${effects.runs} runs`);
  for (const belief of effects.beliefs) {
    const measured = belief.packages.filter((row) => row.ratios.peakRssBytes).map((row) => row.package);
    assert.ok(measured.includes('@real/zod'), `${belief.id} has a peak RSS ratio for zod`);
    assert.ok(
      measured.some((name) => name.startsWith('@real/query-core') || name.startsWith('@real/react-query')),
      `${belief.id} has a peak RSS ratio for a TanStack package`,
    );
    for (const row of belief.packages) assert.equal(row.reference.runs.length, effects.runs, `${belief.id} ${row.package}: every run is kept`);
  }
});

const ratio = (median: number, min: number, max: number): Spread => ({ median, min, max, unsteady: false });

test('verdict: saves or costs only when every pair is on one side of 1 and the median is more than 2 % from it', () => {
  const cases: Array<[Spread, string]> = [
    [ratio(0.9, 0.85, 0.95), 'saves'],
    [ratio(0.97, 0.95, 0.99), 'saves'],
    [ratio(0.985, 0.96, 0.99), 'no measurable effect'],
    [ratio(0.9, 0.85, 1.01), 'no measurable effect'],
    [ratio(0.95, 0.9, 1), 'no measurable effect'],
    [ratio(1, 0.99, 1.01), 'no measurable effect'],
    [ratio(1.015, 1.01, 1.03), 'no measurable effect'],
    [ratio(1.03, 1.01, 1.05), 'costs'],
    [ratio(1.5, 0.99, 1.6), 'no measurable effect'],
    [ratio(2.4, 2.2, 2.6), 'costs'],
  ];
  for (const [spread, verdict] of cases) assert.equal(verdictOf(spread), verdict, JSON.stringify(spread));
});

test('error codes: the distinct TS codes of error lines, in order, none from other text', () => {
  assert.deepEqual(errorCodesOf(['src/a.ts(1,1): error TS9007: Function must have…\nsrc/b.ts(2,2): error TS9008: x\nsrc/c.ts: error TS9007: y', 'TS1234 mentioned']), [
    'TS9007',
    'TS9008',
  ]);
  assert.deepEqual(errorCodesOf(['']), []);
});

function packageResult(name: string, variant: string, status: RunStatus, rssMiB: number[], options: { native?: boolean; messages?: string } = {}): PackageResult {
  const native = options.native ?? false;
  const runs = rssMiB.map((rss) => ({
    ...unmeasuredFigures(status, options.messages ?? ''),
    exitCode: status === 'failed' ? 2 : 0,
    wallMs: native ? 1000 : 4000,
    peakRssBytes: rss * MiB,
    peakHeapUsedBytes: native ? null : rss * 0.7 * MiB,
    parallel: false,
  }));
  const compiler = { name: 'typescript' as const, version: native ? '7.0.2' : '6.0.3', native, path: '/x/bin/tsc' };
  return { name, dir: `packages/${name}`, task: 'tsc -p tsconfig.json --noEmit', compiler, profile: 'typecheck', ...summarizeRuns(runs), runs, variant };
}

const comparison = (pkg: string, variant: string, field: VariantComparison['field'], spread: Spread): VariantComparison => ({
  package: pkg,
  dir: `packages/${pkg}`,
  variant,
  field,
  value: 0,
  reference: 0,
  ratio: spread,
});

/**
 * Reports as `memtune bench --variant` writes them: under `opt` zod saves, query-core fails with isolated-declaration
 * errors, react-query was not compared; `alt` ran zod alone, its peaks in two modes; then TS 6 against the native TS 7.
 */
function effectsFixture(): MeasuredEffects {
  const belief = {
    ...BELIEFS[0]!,
    reference: { name: 'ref', overlay: { skipLibCheck: false } },
    variants: [
      { name: 'opt', overlay: { skipLibCheck: true } },
      { name: 'alt', option: '`alt: true`', overlay: { alt: true } },
    ],
  };
  const packages = [
    packageResult('zod', 'ref', 'ok', [500, 510, 520, 505, 515]),
    packageResult('zod', 'opt', 'ok', [450, 460, 470, 455, 465]),
    packageResult('query-core', 'ref', 'ok', [200, 201, 202, 199, 200]),
    packageResult('query-core', 'opt', 'failed', [201, 200, 203, 200, 199], { messages: 'src/q.ts(3,1): error TS9007: Function must have an explicit return type' }),
    packageResult('react-query', 'ref', 'oom', [300]),
    packageResult('react-query', 'opt', 'ok', [300]),
    packageResult('zod', 'alt', 'ok', [450, 500, 455, 505, 452]),
  ];
  const comparisons = [
    comparison('zod', 'opt', 'peakRssBytes', ratio(0.9, 0.89, 0.91)),
    comparison('zod', 'opt', 'peakHeapUsedBytes', ratio(0.88, 0.85, 0.92)),
    comparison('zod', 'opt', 'wallMs', ratio(1.05, 0.98, 1.1)),
    comparison('query-core', 'opt', 'peakRssBytes', ratio(1.001, 0.99, 1.01)),
    comparison('query-core', 'opt', 'wallMs', ratio(1, 0.97, 1.02)),
    comparison('zod', 'ref', 'peakRssBytes', ratio(1, 1, 1)),
    comparison('zod', 'alt', 'peakRssBytes', ratio(0.91, 0.89, 0.99)),
  ];
  const native = {
    ...BELIEFS[4]!,
    variantArgs: [],
    skipped: ['@real/other: no tsconfig.json'],
    packages: packageResults(
      [packageResult('zod', 'typescript-6', 'ok', [500]), packageResult('zod', 'typescript-7', 'ok', [700], { native: true })],
      [comparison('zod', 'typescript-7', 'peakRssBytes', ratio(1.4, 1.3, 1.5)), comparison('zod', 'typescript-7', 'wallMs', ratio(0.2, 0.18, 0.25))],
      BELIEFS[4]!,
    ),
  };
  const { gitCommit: _commit, compilers: _compilers, ...environment } = reportOf([]).environment;
  return {
    generatedBy: 'scripts/measure-preset-effects.ts',
    command: 'npm run bench:presets',
    commit: 'abcdef123456',
    dirty: false,
    date: '2026-12-04T12:00:00.000Z',
    runs: 5,
    concurrency: 1,
    sources: 'fixture sources',
    environment,
    beliefs: [{ ...belief, variantArgs: [], skipped: [], packages: packageResults(packages, comparisons, belief) }, native],
  };
}

const rowOf = (section: string, pkg: string, nth = 0) => section.split('\n').filter((line) => line.includes(`| \`${pkg}\` |`))[nth]!;

test('packageResults pairs each package with the report comparisons of the variant against the reference', () => {
  const [belief] = effectsFixture().beliefs;
  assert.deepEqual(
    belief!.packages.map((row) => `${row.variant.variant} ${row.package}`),
    ['opt zod', 'opt query-core', 'opt react-query', 'alt zod'],
    'per variant in the order given, only packages measured under both sides',
  );
  assert.deepEqual(
    belief!.packages.map((row) => row.option),
    ['`skipLibCheck: true`', '`skipLibCheck: true`', '`skipLibCheck: true`', '`alt: true`'],
  );
  assert.deepEqual(belief!.packages[3]!.ratios.peakRssBytes, ratio(0.91, 0.89, 0.99));
  const zod = belief!.packages[0]!;
  assert.deepEqual(zod.ratios.peakRssBytes, ratio(0.9, 0.89, 0.91), 'the variant comparison, not the reference against itself');
  assert.equal(zod.reference.runs.length, 5);
  assert.equal(zod.variant.peakRssBytes, 460 * MiB, 'the median of the runs');
  assert.deepEqual(belief!.packages[1]!.variant.errorCodes, ['TS9007']);
  assert.deepEqual(belief!.packages[2]!.ratios, {});
});

test('the rendered table gives each package its ratios, a verdict by the rule, and says when a check failed or nothing was compared', () => {
  const section = renderEffects(effectsFixture());
  assert.match(
    rowOf(section, 'zod'),
    /\| `skipLibCheck: true` \| .+ \| `zod` \| TypeScript 6\.0\.3 \| 510 → 460 \| 0\.900 \(0\.890–0\.910\) \| 0\.880 \(0\.850–0\.920\) \| 1\.050 \(0\.980–1\.100\) \| \*\*saves\*\* 10 % \| — \|/,
  );
  assert.match(
    rowOf(section, 'query-core'),
    /\| `query-core` \| .* \| 1\.001 \(0\.990–1\.010\) \| — \| .* \| no measurable effect \| the variant \(`opt`\) check reports type errors \(TS9007\) \|$/,
  );
  assert.match(rowOf(section, 'react-query'), /not measured \(oom \/ ok\) \| the reference \(`ref`\) check ended `oom` \|$/);
  assert.ok(!rowOf(section, 'query-core').includes('skipLibCheck'), 'the option is named once per group');
  assert.match(
    rowOf(section, 'zod', 1),
    /^\| `alt: true` \| {2}\| `zod` \| .* \| \*\*saves\*\* 9 % \| `alt` peak RSS spread 450–505 MiB over its runs \(beyond ±3 % of the median\) \|$/,
    'a variant of its own names its option again, and a multimodal side says so',
  );
  const native = rowOf(section, 'zod', 2);
  assert.match(
    native,
    /TypeScript 6\.0\.3 → TypeScript 7\.0\.2 | 500 → 700 | 1\.400 \(1\.300–1\.500\) \| n\/a \(native compiler: no V8 heap\) \| 0\.200 \(0\.180–0\.250\) \| \*\*costs\*\* 40 % \|/,
  );
  assert.match(section, /on memtune commit `abcdef123456`, 2026-12-04:\nNode 20\.20\.2, linux x64, 4 × Test CPU, memory limit 24\.0 GiB \(cgroup\)\./);
  assert.match(section, /5 runs of each, interleaved \(reference, variant, reference, …\), 1 check at a time/);
  assert.match(section, /\*\*saves\*\* when every pair is below 1 and the median is more than 2 % below it/);
  assert.match(section, /- `skipLibCheck: true`: `skipLibCheck: false` against `skipLibCheck: true`/);
  assert.match(section, /- `alt: true`: `skipLibCheck: false` against `alt: true`/);
  assert.match(section, /- TypeScript 7 \(native\) instead of 6: the compiler TypeScript 6\.0\.3 against the compiler TypeScript 7\.0\.2/);
  assert.match(section, /Not measured:\n\n- TypeScript 7 \(native\) instead of 6: @real\/other: no tsconfig\.json/);
});

test('replaceEffectsSection swaps only what is between the markers, keeps the rest, and refuses a README without them', () => {
  const readme = `# x\n\nbefore\n${EFFECTS_START}\nold table\n${EFFECTS_END}\nafter\n`;
  const replaced = replaceEffectsSection(readme, 'new table', 'README.md');
  assert.equal(replaced, `# x\n\nbefore\n${EFFECTS_START}\nnew table\n${EFFECTS_END}\nafter\n`);
  assert.equal(effectsSectionOf(replaced), 'new table');
  assert.equal(replaceEffectsSection(replaced, 'new table', 'README.md'), replaced);
  assert.throws(() => replaceEffectsSection('# no markers\n', 'x', 'README.md'), /README\.md has no measured-effect markers/);
  assert.equal(effectsSectionOf('# no markers\n'), null);
});

test('a hand edit inside the section is a difference from the render', () => {
  const effects = effectsFixture();
  const readme = replaceEffectsSection(`${EFFECTS_START}\n${EFFECTS_END}\n`, renderEffects(effects), 'README.md');
  assert.equal(effectsSectionOf(readme), renderEffects(effects));
  assert.notEqual(effectsSectionOf(readme.replace('**saves** 10 %', '**saves** 30 %')), renderEffects(effects));
});
