/**
 * `npm run bench:self`: how far memtune bench's figures are from the user's bare command, and what
 * measuring costs. The scenarios are data in scripts/bench-self-scenarios.ts; this harness parses the
 * arguments, runs them and prints. The fidelity scenarios (run by scripts/bench-self-fidelity.ts) hold
 * whole `memtune bench` runs against the bare compiler on real sources and print both distributions.
 * The others, on examples/monorepo, run their steps interleaved (the order alternates per pair) after
 * one discarded warm-up pair, and each comparison prints as ratios (min, mean±stdev, median) against its
 * target. No absolute figure is judged, only ratios. Progress goes to stderr, the results to stdout.
 *
 * Usage: npx tsc -b && node --import tsx scripts/bench-self.ts [--runs N] [--scenario ID]...
 * Needs examples/monorepo installed and built (`npm run example`); fetches the real sources from npm.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchTask } from '../src/bench/task.js';
import type { MeasureSpec } from '../src/bench/effects/measure.js';
import { median } from '../src/shared/median.js';
import { fidelity } from './bench-self-fidelity.js';
import {
  type BenchRun,
  describe,
  FIDELITY_IDS,
  type Harness,
  type PairedId,
  pairedScenarios,
  SCENARIO_IDS,
  type Scenario,
  type Subject,
  type Target,
} from './bench-self-scenarios.js';
import { textTable } from './text-table.js';

const ROOT = resolve(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'monorepo');
const GNU_TIME = '/usr/bin/time';
const MB = 1024 * 1024;

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    scenario: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  },
});
if (options.help) {
  console.log(
    `Usage: node --import tsx scripts/bench-self.ts [--runs N] [--scenario ${SCENARIO_IDS.join('|')}]...\n` +
      'N sets the pairs of each comparison (default 10): wall time takes max(20, 2N) pairs, the concurrency benches max(3, N/3), the others N.',
  );
  process.exit(0);
}
const RUNS = Number(options.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) fail(`--runs ${JSON.stringify(options.runs)} is not a whole number >= 1.\nPass e.g. --runs 5`);
const selected = new Set<string>(options.scenario ?? SCENARIO_IDS);
for (const id of selected) if (!(SCENARIO_IDS as readonly string[]).includes(id)) fail(`--scenario ${JSON.stringify(id)} is unknown.\nPick from ${SCENARIO_IDS.join(', ')}.`);

function fail(message: string): never {
  process.stderr.write(`bench-self: ${message}\n`);
  process.exit(1);
}

const log = (message: string) => process.stderr.write(`${message}\n`);

// measureRun preloads dist/bench/effects/probe.cjs beside itself, so it must come from the compiled dist/.
const MEASURE_JS = join(ROOT, 'dist', 'bench', 'effects', 'measure.js');
if (!existsSync(MEASURE_JS) || !existsSync(join(ROOT, 'dist', 'bench', 'effects', 'probe.cjs'))) fail(`${MEASURE_JS} is missing.\nRun npx tsc -b first.`);
const { measureRun } = (await import(pathToFileURL(MEASURE_JS).href)) as typeof import('../src/bench/effects/measure.js');

if (!existsSync(join(EXAMPLE, 'node_modules'))) fail(`${EXAMPLE} is not installed.\nRun npm run example first.`);
if (!existsSync(GNU_TIME)) fail(`${GNU_TIME} (GNU time) is missing: the RSS reference needs it.\nInstall it, e.g. apt-get install time`);

// A referencing package cannot be checked until what it references is built; do that outside any measurement.
if (!['util', 'schema'].every((pkg) => existsSync(join(EXAMPLE, 'packages', pkg, 'dist', 'tsconfig.tsbuildinfo')))) {
  log('building examples/monorepo (project references) ...');
  const built = spawnSync('npm', ['run', 'build', '--prefix', EXAMPLE], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) fail('npm run build --prefix examples/monorepo failed (see above).');
}

const env: NodeJS.ProcessEnv = { ...process.env };
for (const key of Object.keys(env)) if (key === 'NODE_OPTIONS' || key.startsWith('MEMTUNE_') || key === 'GODEBUG') delete env[key];

const work = mkdtempSync(join(tmpdir(), 'memtune-bench-self-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
let fresh = 0;
/** A path nothing has written yet: every run is cold, and nothing lands in the package. */
const freshPath = (suffix: string) => join(work, `${++fresh}${suffix}`);

const { checkTask } = (await import(pathToFileURL(join(ROOT, 'dist', 'bench', 'task.js')).href)) as typeof import('../src/bench/task.js');
const { resolveCompiler } = (await import(
  pathToFileURL(join(ROOT, 'dist', 'shared', 'effects', 'typescript-compiler.js')).href
)) as typeof import('../src/shared/effects/typescript-compiler.js');

function subject(pkg: string): Subject {
  const dir = join(EXAMPLE, 'packages', pkg);
  const compiler = resolveCompiler(dir);
  if (!compiler) fail(`${dir} resolves no typescript.\nRun npm run example.`);
  return { pkg, target: { name: pkg, dir, relDir: `packages/${pkg}`, tsconfig: join(dir, 'tsconfig.json'), compiler } };
}

const JS = subject('report');
const NATIVE = subject('api');
if (JS.target.compiler.native || !NATIVE.target.compiler.native)
  fail(`expected report on a JS TypeScript and api on the native one, found ${describe(JS)} and ${describe(NATIVE)}.\nRun npm run example.`);
/** The Go binary the native launcher starts, found the way the launcher finds it. */
const GO_EXE = ((await import(pathToFileURL(join(NATIVE.target.compiler.path, '..', '..', 'lib', 'getExePath.js')).href)) as { default: () => string }).default();

/**
 * What memtune bench runs for a cold check of the package (the same function builds it): node + the
 * package's tsc, no emit, build info to a file nothing has written yet (the example's packages are
 * composite), GODEBUG=gctrace=1 for native.
 */
const task = (s: Subject): BenchTask => {
  const t = checkTask(s.target, { node: process.execPath, warm: false, incremental: true, godebug: undefined });
  return { ...t, args: [...t.args, '--tsBuildInfoFile', freshPath('.tsbuildinfo')] };
};

async function measured(s: Subject, spec: (t: BenchTask) => Partial<MeasureSpec> = () => ({})) {
  const t = task(s);
  const started = performance.now();
  const figures = await measureRun({ command: t.command, args: t.args, cwd: t.cwd, env: { ...env, ...t.env }, timeoutMs: 120_000, probe: t.probe, ...spec(t) });
  if (figures.status !== 'ok') throw new Error(`measured ${s.pkg} was ${figures.status}:\n${figures.messages ?? ''}`);
  return { figures, elapsedMs: performance.now() - started };
}

function checked(what: string, result: ReturnType<typeof spawnSync>): void {
  if (result.status !== 0) throw new Error(`${what} exited ${result.status ?? result.signal}:\n${String(result.stdout).slice(-2000)}${String(result.stderr).slice(-2000)}`);
}

/** GNU time's %M: the largest RSS of the process or any one child it waited for, from the kernel. */
function gnuTimeRssBytes(command: string, args: string[], t: BenchTask): number {
  const out = freshPath('.time');
  checked(`time ${command}`, spawnSync(GNU_TIME, ['-f', '%M', '-o', out, command, ...args], { cwd: t.cwd, env: { ...env, ...t.env }, maxBuffer: 64 * MB }));
  return Number(readFileSync(out, 'utf8').trim().split('\n').at(-1)) * 1024;
}

/** The same compiler command with nothing of memtune around it: no probe, no sampler, no GODEBUG. */
function bareMs(s: Subject): number {
  const t = task(s);
  const started = performance.now();
  checked(`tsc ${s.pkg}`, spawnSync(t.command, t.args, { cwd: t.cwd, env, maxBuffer: 64 * MB }));
  return performance.now() - started;
}

const launcherExecs = typeof (process as { execve?: unknown }).execve === 'function';

const memtuneBin = join(ROOT, 'bin', 'memtune.js');
function bench(concurrency: number, compiler?: string): BenchRun {
  const started = performance.now();
  const args = [memtuneBin, 'bench', '--concurrency', String(concurrency), '--out', freshPath('-out'), '--json', ...(compiler ? ['--compiler', compiler] : [])];
  const result = spawnSync(process.execPath, args, {
    cwd: EXAMPLE,
    env,
    maxBuffer: 64 * MB,
    encoding: 'utf8',
  });
  const elapsedMs = performance.now() - started;
  checked(`memtune bench --concurrency ${concurrency}`, result);
  const report = JSON.parse(result.stdout) as { packages: Array<{ wallMs: number | null }> };
  return { elapsedMs, packageWallMs: report.packages.map((pkg) => pkg.wallMs ?? 0) };
}

async function bareCompilersMs(compiler: string, lanes: number): Promise<number> {
  const packages = ['util', 'schema', 'api', 'report'];
  const check = (pkg: string) =>
    new Promise<void>((resolve, reject) => {
      const args = [join(compiler, 'bin', 'tsc'), '-p', join(EXAMPLE, 'packages', pkg, 'tsconfig.json'), '--noEmit', '--tsBuildInfoFile', freshPath('.tsbuildinfo')];
      const child = spawn(process.execPath, args, { cwd: join(EXAMPLE, 'packages', pkg), env, stdio: 'ignore' });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`bare tsc ${pkg} exited ${code}`))));
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (const pkg of packages.filter((_, index) => index % lanes === lane)) await check(pkg);
    }),
  );
  return performance.now() - started;
}

const SCENARIOS = pairedScenarios({
  runs: RUNS,
  cores: cpus().length,
  launcherExecs,
  js: JS,
  native: NATIVE,
  example: EXAMPLE,
  goExe: GO_EXE,
  task,
  measured,
  gnuTimeRssBytes,
  bareMs,
  bench,
  bareCompilersMs,
} satisfies Harness);

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const stdev = (values: number[]) => {
  const m = mean(values);
  return Math.sqrt(mean(values.map((value) => (value - m) ** 2)));
};

async function samplesOf(scenario: Scenario): Promise<Record<string, number>[]> {
  const samples: Record<string, number>[] = [];
  for (let pair = -1; pair < scenario.pairs; pair++) {
    // Alternate the order so no step always runs right after another (page cache, CPU clocks).
    const steps = pair % 2 === 0 ? scenario.steps : [...scenario.steps].reverse();
    const sample: Record<string, number> = {};
    for (const step of steps) Object.assign(sample, await step.run());
    if (pair >= 0) samples.push(sample);
    const progress = `${scenario.id} ${scenario.subject}: ${pair < 0 ? 'warm-up' : `${pair + 1}/${scenario.pairs}`}`;
    process.stderr.write(process.stderr.isTTY ? `\r${progress}   ` : `${progress}\n`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  return samples;
}

function verdict(target: Target, ratio: number): string {
  if (target.kind === 'none') return 'n/a';
  const ok = target.kind === 'within' ? Math.abs(ratio - 1) <= target.fraction : ratio <= target.ratio;
  return ok ? 'ok' : 'OVER';
}

const targetText = (target: Target) =>
  target.kind === 'within' ? `within ${(target.fraction * 100).toFixed(0)} %` : target.kind === 'at-most' ? `<= ${target.ratio.toFixed(2)}` : `none: ${target.why}`;

const figure = (value: number, unit: 'MB' | 'ms') => (unit === 'MB' ? `${(value / MB).toFixed(1)} MB` : `${value.toFixed(0)} ms`);

const rows: string[][] = [];
const notes: string[] = [];
const started = performance.now();
const loadAtStart = loadavg()[0]!;
const fidelityIds = new Set(FIDELITY_IDS.filter((id) => selected.has(id)));
const fidelityLines = fidelityIds.size === 0 ? [] : await fidelity(RUNS, log, fidelityIds);
for (const scenario of SCENARIOS) {
  if (!selected.has(scenario.id)) continue;
  const samples = await samplesOf(scenario);
  for (const c of scenario.comparisons) {
    const ratios = samples.map((sample) => sample[c.of]! / sample[c.to]!);
    const of = samples.map((sample) => sample[c.of]!);
    const to = samples.map((sample) => sample[c.to]!);
    rows.push([
      scenario.id,
      scenario.subject,
      c.label,
      String(samples.length),
      `${figure(mean(of), c.unit)} / ${figure(mean(to), c.unit)}`,
      Math.min(...ratios).toFixed(3),
      `${mean(ratios).toFixed(3)}±${stdev(ratios).toFixed(3)}`,
      median(ratios).toFixed(3),
      Math.max(...ratios).toFixed(3),
      targetText(c.target),
      verdict(c.target, median(ratios)),
    ]);
  }
  for (const note of scenario.notes ?? []) notes.push(`[${scenario.id}, ${scenario.subject}] ${note}`);
}

const header = ['scenario', 'subject', 'comparison', 'n', 'mean figures', 'min', 'mean±sd', 'median', 'max', 'target (median)', 'verdict'];
console.log(
  `memtune bench:self · node ${process.version} (${launcherExecs ? 'launcher execs' : 'launcher stays'}) · ${cpus().length} cores · ${RUNS} runs · ${((performance.now() - started) / 1000).toFixed(0)} s · load ${loadAtStart.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
);
const loadAtEnd = loadavg()[0]!;
// Timing ratios mean little while something else competes for the cores: say so beside the figures.
// Checked against the table's ids, so renaming a scenario cannot silently drop it here.
const timed: readonly string[] = ['wall', 'concurrency', 'concurrency-js'] satisfies PairedId[];
if (Math.max(loadAtStart, loadAtEnd) > cpus().length / 2 && rows.some((row) => timed.includes(row[0]!))) {
  notes.push(
    `Load average ${loadAtStart.toFixed(1)} at start, ${loadAtEnd.toFixed(1)} at end on ${cpus().length} cores: other work shared the CPUs, so the wall and concurrency ratios are noisy; rerun on an idle machine.`,
  );
}
if (fidelityLines.length > 0) {
  console.log('\nFidelity: memtune bench against the bare command (GNU time -f %M, node --trace-gc), each in its own processes, interleaved');
  for (const text of fidelityLines) console.log(text);
  console.log('');
}
if (rows.length > 0) {
  for (const text of textTable(header, rows)) console.log(text);
}
if (notes.length > 0) {
  console.log('\nNotes:');
  for (const note of notes) console.log(`- ${note}`);
}
