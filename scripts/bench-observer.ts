/**
 * `npm run bench:observer`: what each thing memtune adds around a type-check does to the figures of
 * the bare command. Variants of one cold check, each adding one thing to `node <tsc.js> ...`, run
 * interleaved (round r runs every variant once, starting at variant r mod V) N times each, every run
 * its own process under GNU `/usr/bin/time -f %M`. Targets (real npm sources, scripts/real-sources.ts):
 * zod `tsc -p tsconfig.json --noEmit` and TanStack query-core + react-query `tsc -b --force`, TS 5.9.3.
 * Tables (markdown) go to stdout, progress to stderr. Follow-up variants that take a preload apart
 * (empty-preload, exit-listener, require-v8, lazy-exit-hook, candidate-lazy) and old-probe (memtune 0.1's
 * measured command, with the GCProfiler probe given by --probe) run only when named. memtune bench now
 * measures a JavaScript compiler exactly as the `trace-gc` variant.
 *
 * Usage: npx tsc -b && node --import tsx scripts/bench-observer.ts [--runs N] [--target zod|multi]... [--variant NAME]... [--probe probe.cjs]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../src/shared/median.js';
import { prepareRealSources } from './real-sources.js';

const GNU_TIME = '/usr/bin/time';
const RUN_TIMEOUT_MS = 5 * 60_000;

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    target: { type: 'string', multiple: true },
    variant: { type: 'string', multiple: true },
    probe: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

function fail(message: string): never {
  process.stderr.write(`bench-observer: ${message}\n`);
  process.exit(1);
}
const log = (message: string) => process.stderr.write(`${message}\n`);

const HOOK_REQUIRES = "const fs = require('node:fs'), path = require('node:path'), v8 = require('node:v8'), vm = require('node:vm');";

/** Heap statistics, a forced full GC (retained heap), own peak RSS, one JSON file: the exit hook's work. */
const HOOK_WORK = `  const before = v8.getHeapStatistics();
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
  const after = v8.getHeapStatistics();
  const figures = { pid: process.pid, usedAtExitBytes: before.used_heap_size, retainedHeapBytes: after.used_heap_size, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  const dir = process.env.OBSERVER_HOOK_DIR;
  if (dir) fs.writeFileSync(path.join(dir, process.pid + '.json'), JSON.stringify(figures));`;

/** Exit hook without a GCProfiler, its modules required as the preload loads. */
const HOOK_SOURCE = `'use strict';\n${HOOK_REQUIRES}\nprocess.on('exit', () => {\n${HOOK_WORK}\n});\n`;

/** The same work with every module required inside the handler: nothing loads before the compile. */
const LAZY_HOOK_SOURCE = `'use strict';\nprocess.on('exit', () => {\n  ${HOOK_REQUIRES}\n${HOOK_WORK}\n});\n`;

const GCPROFILER_SOURCE = `'use strict';
// A v8.GCProfiler running for the whole process, stopped at exit; nothing else.
const profiler = new (require('node:v8').GCProfiler)();
profiler.start();
process.on('exit', () => { profiler.stop(); });
`;

interface Target {
  name: string;
  describe: string;
  cwd: string;
  tsc: string;
  /** The compiler's arguments for one cold run; `fresh` names a path nothing has written yet. */
  args: (fresh: (suffix: string) => string) => string[];
}

interface Variant {
  name: string;
  nodeFlags: string[];
  extraArgs: string[];
  env: Record<string, string>;
  stdio: 'pipe' | 'devnull';
  /** Per-run env a variant needs (a fresh output dir). */
  runEnv?: (fresh: (suffix: string) => string) => Record<string, string>;
  /** Runs only when named with --variant: follow-ups that take a preload apart. */
  extra?: true;
}

interface RunResult {
  rssKiB: number;
  /** From `--trace-gc` lines, when the variant has them. */
  peakHeapMiB?: number;
  gcCount?: number;
  /** `Files/Types/Instantiations` lines of `--extendedDiagnostics`, when printed. */
  counts?: string;
}

if (options.help) {
  console.log(
    'Usage: node --import tsx scripts/bench-observer.ts [--runs N] [--target zod|multi]... [--variant NAME]... [--probe probe.cjs]\n' +
      'N interleaved runs per variant and target (default 10). memtune bench measures a JS compiler as the trace-gc variant does.\n' +
      'old-probe (only when named) preloads --probe: the GCProfiler probe of memtune 0.1, compiled from git show dabc4bd:src/effects/probe.cts.',
  );
  process.exit(0);
}
const RUNS = Number(options.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) fail(`--runs ${JSON.stringify(options.runs)} is not a whole number >= 1.`);
if (!existsSync(GNU_TIME)) fail(`${GNU_TIME} (GNU time) is missing.\nInstall it, e.g. apt-get install time`);

const work = mkdtempSync(join(tmpdir(), 'memtune-bench-observer-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
let freshCount = 0;
const fresh = (suffix: string) => join(work, `${++freshCount}${suffix}`);
const hookPreload = join(work, 'exit-hook.cjs');
const gcProfilerPreload = join(work, 'gcprofiler.cjs');
writeFileSync(hookPreload, HOOK_SOURCE);
writeFileSync(gcProfilerPreload, GCPROFILER_SOURCE);
const preloadFile = (name: string, source: string) => {
  const file = join(work, name);
  writeFileSync(file, source);
  return file;
};
const emptyPreload = preloadFile('empty.cjs', "'use strict';\n");
const exitListenerPreload = preloadFile('exit-listener.cjs', "'use strict';\nprocess.on('exit', () => {});\n");
const requireV8Preload = preloadFile('require-v8.cjs', "'use strict';\nrequire('node:v8');\n");
const lazyHookPreload = preloadFile('lazy-exit-hook.cjs', LAZY_HOOK_SOURCE);
/** old-probe preloads a copy of --probe taken now (memtune 0.1's GCProfiler probe): nothing can change it during the bench. */
function oldProbe(): { file: string; sha: string } | undefined {
  if (!options.variant?.includes('old-probe')) return undefined;
  if (options.probe === undefined) fail('--variant old-probe needs --probe <memtune 0.1 probe compiled to .cjs> (git show dabc4bd:src/effects/probe.cts).');
  const file = join(work, 'probe.cjs');
  copyFileSync(resolve(options.probe), file);
  if (!/new \w+\.GCProfiler\(/.test(readFileSync(file, 'utf8'))) fail(`${options.probe} starts no v8.GCProfiler: old-probe is the command with the GCProfiler probe.`);
  return { file, sha: createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12) };
}
const probe = oldProbe();

const freshDir = (suffix: string) => {
  const dir = fresh(suffix);
  mkdirSync(dir);
  return dir;
};

const VARIANTS: Variant[] = [
  { name: 'bare', nodeFlags: [], extraArgs: [], env: {}, stdio: 'pipe' },
  { name: 'bare-devnull', nodeFlags: [], extraArgs: [], env: {}, stdio: 'devnull' },
  { name: 'trace-gc', nodeFlags: ['--trace-gc'], extraArgs: [], env: {}, stdio: 'pipe' },
  { name: 'ext-diag', nodeFlags: [], extraArgs: ['--extendedDiagnostics'], env: {}, stdio: 'pipe' },
  { name: 'exit-hook', nodeFlags: ['--require', hookPreload], extraArgs: [], env: {}, stdio: 'pipe', runEnv: () => ({ OBSERVER_HOOK_DIR: freshDir('-hook') }) },
  { name: 'gcprofiler', nodeFlags: ['--require', gcProfilerPreload], extraArgs: [], env: {}, stdio: 'pipe' },
  {
    name: 'old-probe',
    nodeFlags: ['--trace-gc', '--require', probe?.file ?? ''],
    extraArgs: ['--extendedDiagnostics'],
    env: {},
    stdio: 'pipe',
    extra: true,
    runEnv: () => ({ MEMTUNE_PROBE_DIR: freshDir('-probe') }),
  },
  { name: 'candidate', nodeFlags: ['--trace-gc', '--require', hookPreload], extraArgs: [], env: {}, stdio: 'pipe', runEnv: () => ({ OBSERVER_HOOK_DIR: freshDir('-hook') }) },
  { name: 'empty-preload', nodeFlags: ['--require', emptyPreload], extraArgs: [], env: {}, stdio: 'pipe', extra: true },
  { name: 'exit-listener', nodeFlags: ['--require', exitListenerPreload], extraArgs: [], env: {}, stdio: 'pipe', extra: true },
  { name: 'require-v8', nodeFlags: ['--require', requireV8Preload], extraArgs: [], env: {}, stdio: 'pipe', extra: true },
  {
    name: 'lazy-exit-hook',
    nodeFlags: ['--require', lazyHookPreload],
    extraArgs: [],
    env: {},
    stdio: 'pipe',
    extra: true,
    runEnv: () => ({ OBSERVER_HOOK_DIR: freshDir('-hook') }),
  },
  {
    name: 'candidate-lazy',
    nodeFlags: ['--trace-gc', '--require', lazyHookPreload],
    extraArgs: [],
    env: {},
    stdio: 'pipe',
    extra: true,
    runEnv: () => ({ OBSERVER_HOOK_DIR: freshDir('-hook') }),
  },
];

const selectedVariants = options.variant ? VARIANTS.filter((v) => options.variant?.includes(v.name)) : VARIANTS.filter((v) => !v.extra);
for (const name of options.variant ?? []) if (!VARIANTS.some((v) => v.name === name)) fail(`--variant ${name} is unknown.\nPick from ${VARIANTS.map((v) => v.name).join(', ')}.`);
if (!selectedVariants.some((v) => v.name === 'bare')) fail('--variant must include bare: every ratio is against it.');

log('preparing real sources ...');
const sources = await prepareRealSources();
const TARGETS: Target[] = [
  { name: 'zod', describe: 'zod 4.6.7 src, `tsc -p tsconfig.json --noEmit`, TS 5.9.3', cwd: sources.zod, tsc: sources.tsc59, args: () => ['-p', 'tsconfig.json', '--noEmit'] },
  { name: 'multi', describe: 'query-core + react-query 5.108.4, `tsc -b --force`, TS 5.9.3', cwd: sources.root, tsc: sources.tsc59, args: () => ['-b', '--force'] },
];
const selectedTargets = options.target ? TARGETS.filter((t) => options.target?.includes(t.name)) : TARGETS;
for (const name of options.target ?? []) if (!TARGETS.some((t) => t.name === name)) fail(`--target ${name} is unknown.\nPick from ${TARGETS.map((t) => t.name).join(', ')}.`);

const baseEnv: NodeJS.ProcessEnv = {};
for (const [key, value] of Object.entries(process.env)) if (key !== 'NODE_OPTIONS' && !key.startsWith('MEMTUNE_')) baseEnv[key] = value;

const TRACE_GC_LINE = /^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: [A-Za-z -]+?(?: \([a-z ]+\))? ([\d.]+) \([\d.]+\) -> [\d.]+ \([\d.]+\) MB.*$/gm;

/**
 * The peak used heap (the "before" figure of every `--trace-gc` line, MiB) and the number of lines, leaving
 * out a GC forced by gc() (reason `testing`: the exit hook's, after the compile): it samples the heap at a
 * moment the bare command never reports, so it would compare a different quantity.
 */
function traceGcFigures(output: string): { peakHeapMiB: number; gcCount: number } | undefined {
  let peak = 0;
  let count = 0;
  for (const match of output.matchAll(TRACE_GC_LINE)) {
    if (/\btesting;/.test(match[0])) continue;
    peak = Math.max(peak, Number(match[1]));
    count++;
  }
  return count > 0 ? { peakHeapMiB: peak, gcCount: count } : undefined;
}

/** The count lines of `--extendedDiagnostics` (every project's under -b), joined. */
function diagnosticsCounts(output: string): string | undefined {
  const lines = output.match(/^(Files|Types|Instantiations):\s+\d+$/gm);
  return lines ? lines.map((line) => line.replace(/\s+/g, ' ')).join('; ') : undefined;
}

/** One run of a variant under GNU time: its peak RSS, and what its output tells. */
function runOnce(target: Target, variant: Variant): Promise<RunResult> {
  const timeFile = fresh('.time');
  const args = ['-f', '%M', '-o', timeFile, process.execPath, ...variant.nodeFlags, target.tsc, ...target.args(fresh), ...variant.extraArgs];
  const env = { ...baseEnv, ...variant.env, ...(variant.runEnv?.(fresh) ?? {}) };
  const devnull = variant.stdio === 'devnull' ? openSync('/dev/null', 'w') : undefined;
  const keep = variant.nodeFlags.includes('--trace-gc') || variant.extraArgs.includes('--extendedDiagnostics');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(GNU_TIME, args, { cwd: target.cwd, env, stdio: devnull === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', devnull, devnull] });
    let output = '';
    let tail = '';
    // --trace-gc lines and tsc's diagnostics go to stdout: parse stdout alone, keep a tail of both for errors.
    const take = (fromStdout: boolean) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (keep && fromStdout) output += text;
      tail = (tail + text).slice(-4000);
    };
    child.stdout?.on('data', take(true));
    child.stderr?.on('data', take(false));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (devnull !== undefined) closeSync(devnull);
      if (code !== 0) return reject(new Error(`${target.name}/${variant.name} exited ${code ?? signal}: ${args.join(' ')}\n${tail}`));
      const timeLines = readFileSync(timeFile, 'utf8').trim().split('\n');
      const rssKiB = Number(timeLines.at(-1));
      if (!Number.isFinite(rssKiB) || rssKiB <= 0) return reject(new Error(`${target.name}/${variant.name}: GNU time wrote ${JSON.stringify(timeLines)}`));
      const gc = traceGcFigures(output);
      const counts = diagnosticsCounts(output);
      resolvePromise({ rssKiB, ...(gc ?? {}), ...(counts === undefined ? {} : { counts }) });
    });
  });
}

interface Spread {
  min: number;
  median: number;
  max: number;
}
function spreadOf(values: number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}
const fmt = (s: Spread | undefined, digits = 1) => (s ? `${s.min.toFixed(digits)} / ${s.median.toFixed(digits)} / ${s.max.toFixed(digits)}` : '–');
const ratio = (of: Spread | undefined, to: Spread | undefined) => (of && to ? `${(of.median / to.median).toFixed(3)} / ${(of.max / to.max).toFixed(3)}` : '–');

function table(target: Target, results: Map<string, RunResult[]>): string {
  const rows = [
    `### ${target.name}: ${target.describe} (${RUNS} runs per variant)`,
    '',
    "Peak used heap and GC count come from `--trace-gc` lines, without the exit hook's forced (`testing`) GC.",
    '',
    '| variant | peak RSS MiB min / med / max | vs bare med / max | peak used heap MiB (trace-gc) min / med / max | vs trace-gc med / max | GC count min / med / max | raw RSS[:heap] MiB (run order) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const rssOf = (name: string) => spreadOf((results.get(name) ?? []).map((r) => r.rssKiB / 1024));
  const heapOf = (name: string) => spreadOf((results.get(name) ?? []).flatMap((r) => (r.peakHeapMiB === undefined ? [] : [r.peakHeapMiB])));
  const bareRss = rssOf('bare');
  const traceHeap = heapOf('trace-gc');
  for (const variant of selectedVariants) {
    const runs = results.get(variant.name) ?? [];
    const heap = heapOf(variant.name);
    const gcs = spreadOf(runs.flatMap((r) => (r.gcCount === undefined ? [] : [r.gcCount])));
    const raw = runs.map((r) => (r.rssKiB / 1024).toFixed(0) + (r.peakHeapMiB === undefined ? '' : `:${r.peakHeapMiB.toFixed(0)}`)).join(' ');
    rows.push(
      `| ${variant.name} | ${fmt(rssOf(variant.name))} | ${ratio(rssOf(variant.name), bareRss)} | ${fmt(heap)} | ${variant.name === 'trace-gc' ? '1 / 1' : ratio(heap, traceHeap)} | ${fmt(gcs, 0)} | ${raw} |`,
    );
  }
  const countLines = selectedVariants.flatMap((variant) => {
    const distinct = new Set((results.get(variant.name) ?? []).flatMap((r) => (r.counts === undefined ? [] : [r.counts])));
    return distinct.size ? [`- ${variant.name}: ${distinct.size} distinct: ${[...distinct].join(' | ')}`] : [];
  });
  if (countLines.length) rows.push('', '`--extendedDiagnostics` counts seen:', ...countLines);
  return rows.join('\n');
}

const started = Date.now();
const totalRuns = selectedTargets.length * selectedVariants.length * RUNS;
let done = 0;
for (const target of selectedTargets) {
  const results = new Map<string, RunResult[]>(selectedVariants.map((v) => [v.name, []]));
  for (let round = 0; round < RUNS; round++) {
    for (let i = 0; i < selectedVariants.length; i++) {
      const variant = selectedVariants[(round + i) % selectedVariants.length]!;
      const result = await runOnce(target, variant);
      results.get(variant.name)!.push(result);
      done++;
      const eta = ((Date.now() - started) / done) * (totalRuns - done);
      log(
        `[${done}/${totalRuns}] ${target.name} round ${round + 1} ${variant.name}: ${(result.rssKiB / 1024).toFixed(0)} MiB RSS` +
          (result.peakHeapMiB === undefined ? '' : `, heap ${result.peakHeapMiB.toFixed(1)} MiB, ${result.gcCount} GCs`) +
          ` (load ${loadavg()[0]!.toFixed(2)}, eta ${(eta / 60_000).toFixed(1)} min)`,
      );
    }
  }
  console.log(`${table(target, results)}\n`);
}
console.log(
  `Node ${process.version}; ${probe ? `old-probe preloaded ${options.probe} (sha256 ${probe.sha}, with v8.GCProfiler); ` : ''}${RUNS} interleaved runs per variant; ${((Date.now() - started) / 60_000).toFixed(1)} min in all.`,
);
