/**
 * Measures the tsconfig options people believe save compiler memory (scripts/preset-effects.ts: BELIEFS) on real
 * sources (scripts/real-sources.ts), each with one `memtune bench --variant reference=… --variant option=…` run
 * through the built bin, writes the figures to presets/tsconfig/effects/measured-effect.json and renders the
 * "Measured effect" section of presets/tsconfig/README.md from that JSON. No figure is typed by hand.
 *
 * Usage: npm run bench:presets [-- --runs 5] [--concurrency 1]   (npm run build first: it runs bin/memtune.js)
 *        npm run bench:presets -- --render                      (re-renders the README from the JSON, measures nothing)
 * MEMTUNE_REAL_SOURCES_CACHE moves the real-sources workspace (default node_modules/.cache).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchReport } from '../src/bench/types.js';
import { writeFileAtomic } from '../src/shared/effects/write-file-atomic.js';
import {
  BELIEFS,
  type Belief,
  EFFECTS_JSON_FILE,
  type EffectSide,
  MEASURED_PACKAGES,
  type MeasuredBelief,
  type MeasuredEffects,
  PRESETS_README_FILE,
  packageResults,
  renderEffects,
  replaceEffectsSection,
  verdictOf,
} from './preset-effects.js';
import { REAL_SOURCES_TEXT, type RealSources, prepareRealSources } from './real-sources.js';
import { textTable } from './text-table.js';

const ROOT = resolve(import.meta.dirname, '..');
const MEMTUNE = join(ROOT, 'bin', 'memtune.js');
const EFFECTS_JSON = join(ROOT, EFFECTS_JSON_FILE);
const PRESETS_README = join(ROOT, PRESETS_README_FILE);
const DEFAULT_RUNS = 5;
const DEFAULT_CONCURRENCY = 1;
const log = (text: string) => process.stderr.write(`${text}\n`);

/** The README with its section rendered from the JSON; written only when it changed. */
function renderReadme(effects: MeasuredEffects): void {
  const before = readFileSync(PRESETS_README, 'utf8');
  const after = replaceEffectsSection(before, renderEffects(effects), PRESETS_README);
  if (after !== before) writeFileAtomic(PRESETS_README, after, true);
}

/** `NAME=SPEC` for one side, its overlay written into the workspace; paths relative to the workspace root, where the bench runs. */
function variantArg(sources: RealSources, belief: Belief, side: EffectSide): string {
  if (side.compiler) return `${side.name}=compiler:${relative(sources.root, sources[side.compiler])}`;
  const dir = join(sources.root, '.preset-effects');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${belief.id}.${side.name}.json`);
  writeFileSync(file, `${JSON.stringify({ compilerOptions: side.overlay ?? {} }, null, 2)}\n`);
  return `${side.name}=tsconfig:${relative(sources.root, file)}`;
}

function bench(cwd: string, args: string[]): BenchReport {
  const env = { ...process.env };
  for (const key of ['NODE_OPTIONS', 'GITHUB_STEP_SUMMARY', 'GITHUB_OUTPUT', 'GITHUB_ACTIONS']) delete env[key];
  // Progress (stderr) goes to the terminal; the report JSON comes on stdout.
  const result = spawnSync(process.execPath, [MEMTUNE, 'bench', '--json', ...args], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status === 2 || result.stdout.trim() === '') throw new Error(`memtune bench ${args.join(' ')} failed (exit ${result.status ?? result.signal}), see above`);
  return JSON.parse(result.stdout) as BenchReport;
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

function measure(runs: number, concurrency: number, command: string, sources: RealSources): MeasuredEffects {
  const beliefs: MeasuredBelief[] = [];
  let environment: MeasuredEffects['environment'] | null = null;
  const commit = git(['rev-parse', '--short=12', 'HEAD']);
  const dirty = git(['status', '--porcelain']) !== '';
  for (const [index, belief] of BELIEFS.entries()) {
    const variantArgs = [belief.reference, ...belief.variants].flatMap((side) => ['--variant', variantArg(sources, belief, side)]);
    const out = mkdtempSync(join(tmpdir(), `memtune-preset-effects-${belief.id}-`));
    log(
      `[${index + 1}/${BELIEFS.length}] ${belief.id}: memtune bench --runs ${runs} --concurrency ${concurrency} ${MEASURED_PACKAGES.map((name) => `--filter ${name}`).join(' ')} ${variantArgs.join(' ')}`,
    );
    const started = Date.now();
    let report: BenchReport;
    try {
      report = bench(sources.root, [
        '--runs',
        String(runs),
        '--concurrency',
        String(concurrency),
        '--out',
        out,
        ...MEASURED_PACKAGES.flatMap((name) => ['--filter', name]),
        ...variantArgs,
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    log(`[${index + 1}/${BELIEFS.length}] ${belief.id}: ${Math.round((Date.now() - started) / 1000)} s`);
    if (!report.variants) throw new Error('memtune bench --variant wrote no `variants` into its report: is the build up to date (npm run build)?');
    const { gitCommit: _git, compilers: _compilers, ...rest } = report.environment;
    environment ??= rest;
    beliefs.push({
      ...belief,
      variantArgs,
      packages: packageResults(report.packages, report.variants.comparisons, belief),
      skipped: report.skipped.map((skip) => `${skip.name}: ${skip.reason}`),
    });
  }
  if (!environment) throw new Error('no belief was measured');
  return {
    generatedBy: 'scripts/measure-preset-effects.ts',
    command,
    commit,
    dirty,
    date: new Date().toISOString(),
    runs,
    concurrency,
    sources: REAL_SOURCES_TEXT,
    environment,
    beliefs,
  };
}

function summary(effects: MeasuredEffects): string[] {
  const rows = effects.beliefs.flatMap((belief) =>
    belief.packages.map((row) => {
      const rss = row.ratios.peakRssBytes;
      return [
        belief.id,
        row.variant.variant,
        row.package,
        rss ? rss.median.toFixed(3) : '—',
        rss ? `${rss.min.toFixed(3)}–${rss.max.toFixed(3)}` : '—',
        rss ? verdictOf(rss) : 'not measured',
      ];
    }),
  );
  return textTable(['option', 'variant', 'package', 'peak RSS ratio', 'pairs', 'verdict'], rows);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: String(DEFAULT_RUNS) },
      concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
      render: { type: 'boolean', default: false },
    },
  });
  if (values.render) {
    renderReadme(JSON.parse(readFileSync(EFFECTS_JSON, 'utf8')) as MeasuredEffects);
    log(`rendered ${relative(ROOT, PRESETS_README)} from ${relative(ROOT, EFFECTS_JSON)}`);
    return 0;
  }
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(runs) || runs < 5) throw new Error(`--runs "${values.runs}": at least 5, so a verdict does not rest on one or two pairs`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency "${values.concurrency}": a whole number, 1 or more`);
  const given = [runs !== DEFAULT_RUNS ? `--runs ${runs}` : '', concurrency !== DEFAULT_CONCURRENCY ? `--concurrency ${concurrency}` : ''].filter(Boolean).join(' ');
  const command = `npm run bench:presets${given ? ` -- ${given}` : ''}`;
  log('preparing real sources (scripts/real-sources.ts) ...');
  const effects = measure(runs, concurrency, command, await prepareRealSources());
  mkdirSync(dirname(EFFECTS_JSON), { recursive: true });
  writeFileAtomic(EFFECTS_JSON, `${JSON.stringify(effects, null, 2)}\n`, true);
  renderReadme(effects);
  for (const line of summary(effects)) console.log(line);
  log(`wrote ${relative(ROOT, EFFECTS_JSON)} and the measured-effect section of ${relative(ROOT, PRESETS_README)}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = await main();
  } catch (error) {
    process.stderr.write(`measure-preset-effects: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
