/**
 * `npm run bench:self`: how far memtune bench's figures are from the user's bare command, and what
 * measuring costs. The fidelity scenarios (scripts/bench-self-fidelity.ts) hold whole `memtune bench`
 * runs against the bare compiler on real sources and print both distributions. The others, on
 * examples/monorepo, are data: steps run interleaved (their order alternates per pair) after one
 * discarded warm-up pair, and each comparison prints as ratios (min, mean±stdev, median) against its
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
import type { BenchTarget } from '../src/bench/effects/plan.js';
import type { BenchTask } from '../src/bench/task.js';
import type { MeasureSpec } from '../src/bench/effects/measure.js';
import { median } from '../src/shared/median.js';
import { fidelity } from './bench-self-fidelity.js';
import { textTable } from './text-table.js';

const ROOT = resolve(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'monorepo');
const GNU_TIME = '/usr/bin/time';
const MB = 1024 * 1024;

const FIDELITY_IDS = ['fidelity-check', 'fidelity-composite', 'fidelity-build'] as const;
const SCENARIO_IDS = [...FIDELITY_IDS, 'rss', 'wall', 'concurrency', 'concurrency-js'] as const;
type ScenarioId = (typeof SCENARIO_IDS)[number];

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
      'N runs of each side per comparison (default 10; wall time takes at least 10, the concurrency bench at least 3).',
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

interface Subject {
  pkg: string;
  target: BenchTarget;
}

function subject(pkg: string): Subject {
  const dir = join(EXAMPLE, 'packages', pkg);
  const compiler = resolveCompiler(dir);
  if (!compiler) fail(`${dir} resolves no typescript.\nRun npm run example.`);
  return { pkg, target: { name: pkg, dir, relDir: `packages/${pkg}`, tsconfig: join(dir, 'tsconfig.json'), compiler } };
}

const JS = subject('report');
const NATIVE = subject('api');
const describe = (s: Subject) => `${s.pkg} (TypeScript ${s.target.compiler.version}, ${s.target.compiler.native ? 'native' : 'JS'})`;
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

type Target = { kind: 'within'; fraction: number } | { kind: 'at-most'; ratio: number } | { kind: 'none'; why: string };

interface Step {
  name: string;
  run: () => Promise<Record<string, number>>;
}

interface Comparison {
  label: string;
  /** Sample keys: the ratio is `of / to`. */
  of: string;
  to: string;
  unit: 'MB' | 'ms';
  target: Target;
}

interface Scenario {
  id: ScenarioId;
  subject: string;
  pairs: number;
  steps: Step[];
  comparisons: Comparison[];
  notes?: () => string[];
}

const launcherExecs = typeof (process as { execve?: unknown }).execve === 'function';

const memtuneBin = join(ROOT, 'bin', 'memtune.js');
const JS_COMPILER = join(ROOT, 'node_modules', 'typescript-6');
/** A whole `memtune bench` of the example, timed from outside, with the package wall times it reports. */
function bench(concurrency: number, compiler?: string): { elapsedMs: number; packageWallMs: number[] } {
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

/** The example's four packages checked by the JS compiler with nothing of memtune around them, in `lanes` parallel lanes. */
async function bareCompilersMs(lanes: number): Promise<number> {
  const packages = ['util', 'schema', 'api', 'report'];
  const check = (pkg: string) =>
    new Promise<void>((resolve, reject) => {
      const args = [join(JS_COMPILER, 'bin', 'tsc'), '-p', join(EXAMPLE, 'packages', pkg, 'tsconfig.json'), '--noEmit', '--tsBuildInfoFile', freshPath('.tsbuildinfo')];
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

/**
 * The best 2 workers could do with the sequential run's own figures: its fixed cost (start-up, discovery)
 * plus the longer of the longest package and half of all packages' time.
 */
function twoWorkerFloorMs(sequential: { elapsedMs: number; packageWallMs: number[] }): number {
  const sum = sequential.packageWallMs.reduce((a, b) => a + b, 0);
  return sequential.elapsedMs - sum + Math.max(Math.max(...sequential.packageWallMs), sum / 2);
}

const rss = (bytes: number | null | undefined) => {
  if (!bytes) throw new Error('no peak RSS figure');
  return bytes;
};

/** A measured run of the package against the bare compiler, interleaved. */
function wallScenario(subject: Subject): Scenario {
  return {
    id: 'wall',
    subject: describe(subject),
    pairs: Math.max(20, 2 * RUNS),
    steps: [
      {
        name: 'measured',
        run: async () => {
          const { figures, elapsedMs } = await measured(subject);
          return { elapsed: elapsedMs, reported: figures.wallMs };
        },
      },
      { name: 'bare', run: async () => ({ bare: bareMs(subject) }) },
    ],
    comparisons: [
      { label: 'wall: measured run (elapsed) / bare compiler', of: 'elapsed', to: 'bare', unit: 'ms', target: { kind: 'at-most', ratio: 1.05 } },
      { label: 'wall: reported wallMs / bare compiler', of: 'reported', to: 'bare', unit: 'ms', target: { kind: 'within', fraction: 0.05 } },
    ],
  };
}

/** The whole example benched at --concurrency 2 against 1 (with --compiler when given), plus any extra steps. */
function concurrencyScenario(id: ScenarioId, subject: string, compiler: string | undefined, steps: Step[], comparisons: Comparison[], notes: string[]): Scenario {
  return {
    id,
    subject,
    pairs: Math.max(3, Math.ceil(RUNS / 3)),
    steps: [
      { name: '--concurrency 2', run: async () => ({ parallel: bench(2, compiler).elapsedMs }) },
      {
        name: '--concurrency 1',
        run: async () => {
          const sequential = bench(1, compiler);
          return { sequential: sequential.elapsedMs, floor: twoWorkerFloorMs(sequential) };
        },
      },
      ...steps,
    ],
    comparisons: [
      { label: 'wall: memtune bench --concurrency 2 / 1', of: 'parallel', to: 'sequential', unit: 'ms', target: { kind: 'at-most', ratio: 0.65 } },
      { label: 'wall: 2-worker floor / --concurrency 1', of: 'floor', to: 'sequential', unit: 'ms', target: { kind: 'none', why: 'the best any scheduler can do' } },
      ...comparisons,
    ],
    notes: () => notes,
  };
}

const SCENARIOS: Scenario[] = [
  {
    id: 'rss',
    subject: describe(NATIVE),
    pairs: RUNS,
    steps: [
      { name: 'memtune tsc', run: async () => ({ tree: rss((await measured(NATIVE)).figures.peakRssBytes) }) },
      {
        name: 'GNU time tsc',
        run: async () => {
          const t = task(NATIVE);
          return { time: gnuTimeRssBytes(t.command, t.args, t) };
        },
      },
      // The Go binary started directly, without the launcher: its arguments are the launcher's minus bin/tsc.
      { name: 'memtune Go', run: async () => ({ goTree: rss((await measured(NATIVE, (t) => ({ command: GO_EXE, args: t.args.slice(1) }))).figures.peakRssBytes) }) },
      {
        name: 'GNU time Go',
        run: async () => {
          const t = task(NATIVE);
          return { goTime: gnuTimeRssBytes(GO_EXE, t.args.slice(1), t) };
        },
      },
    ],
    comparisons: [
      {
        label: 'peak RSS: measureRun tree / GNU time, via the node launcher',
        of: 'tree',
        to: 'time',
        unit: 'MB',
        target: launcherExecs ? { kind: 'within', fraction: 0.03 } : { kind: 'none', why: 'launcher + Go vs the larger one (see note)' },
      },
      { label: 'peak RSS: /proc sampler / GNU time, Go binary alone', of: 'goTree', to: 'goTime', unit: 'MB', target: { kind: 'within', fraction: 0.03 } },
    ],
    notes: () => [
      `The native tsc is a node launcher (bin/tsc) that starts the Go binary ${GO_EXE.slice(EXAMPLE.length + 1)}.`,
      launcherExecs
        ? `On Node ${process.versions.node} the launcher execve()s into the Go binary: one process, so memtune's tree figure and GNU time's %M measure the same thing.`
        : `On Node ${process.versions.node} (< 22.15, no process.execve) the launcher stays alive in execFileSync beside the Go binary: memtune's tree figure is launcher + Go, ` +
          "the memory the tree holds at once, while GNU time %M reports only the largest single process (the launcher or Go), so the launcher row is expected above 1 by about the launcher's RSS. " +
          'The Go-binary-alone row is the like-for-like check of the /proc sampler.',
      'The Go binary has no probe: its peak RSS comes from /proc VmHWM polled every 20 ms, so only growth in the last interval before exit can be missed.',
    ],
  },
  wallScenario(JS),
  wallScenario(NATIVE),
  concurrencyScenario(
    'concurrency',
    `examples/monorepo, 4 packages, ${cpus().length} cores`,
    undefined,
    [],
    [],
    [
      "The 2-worker floor is the sequential run minus its packages' wall times plus max(longest package, half their sum): " +
        'when one package takes most of the time, no concurrency gets below it.',
    ],
  ),
  concurrencyScenario(
    'concurrency-js',
    `examples/monorepo, 4 packages all on TypeScript 6.0.3 (JS), ${cpus().length} cores`,
    JS_COMPILER,
    [
      { name: 'bare compilers, 2 lanes', run: async () => ({ bareParallel: await bareCompilersMs(2) }) },
      { name: 'bare compilers, 1 lane', run: async () => ({ bareSequential: await bareCompilersMs(1) }) },
    ],
    [
      {
        label: 'wall: bare compilers 2 at once / one after another',
        of: 'bareParallel',
        to: 'bareSequential',
        unit: 'ms',
        target: { kind: 'none', why: 'what this machine gives, without memtune' },
      },
    ],
    [
      'With --compiler every package is checked by the same JavaScript compiler, so the four take similar time: ' +
        'the case where running two at once pays most. Each still uses more than one core (V8 GC and JIT threads).',
    ],
  ),
];

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
  for (const note of scenario.notes?.() ?? []) notes.push(`[${scenario.id}, ${scenario.subject}] ${note}`);
}

const header = ['scenario', 'subject', 'comparison', 'n', 'mean figures', 'min', 'mean±sd', 'median', 'max', 'target (median)', 'verdict'];
console.log(
  `memtune bench:self · node ${process.version} (${launcherExecs ? 'launcher execs' : 'launcher stays'}) · ${cpus().length} cores · ${RUNS} runs · ${((performance.now() - started) / 1000).toFixed(0)} s · load ${loadAtStart.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
);
const loadAtEnd = loadavg()[0]!;
// Timing ratios mean little while something else competes for the cores: say so beside the figures.
if (Math.max(loadAtStart, loadAtEnd) > cpus().length / 2 && rows.some((row) => row[0] === 'wall' || row[0] === 'concurrency')) {
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
