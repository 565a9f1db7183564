/**
 * `npm run bench:min-heap`: does `memtune bench --find-min-heap` find the smallest heap, and at what cost?
 * On zod 4.6.7's sources (scripts/real-sources.ts, TypeScript 5.9.3) copied into a scratch workspace:
 * 1. the unconstrained check, a few runs: its median wall time is the unit of cost;
 * 2. the true minimum, once, by a sweep: --max-old-space-size in STEP MiB steps down from the peak heap until a run
 *    fails, then the settings at the edge repeated (the edge is noisy): the true minimum is the smallest setting on
 *    the grid that completed in every one of its runs, with none failing above it;
 * 3. the wall time at the minimum × 1, 1.1, 1.25 and 1.5 against unconstrained, interleaved in rounds (the evidence
 *    for the safety factor);
 * 4. `memtune bench --find-min-heap` (the real bin) several times: each search's cost (its probes' wall time over the
 *    median of that bench's own unconstrained runs, measured just before) and its result's distance above the true minimum;
 * 5. the native search: `--find-min-heap --compiler` TypeScript 7.0.2 (this repo's own `typescript`) on the same
 *    package, its GOMEMLIMIT and the peak RSS it saves.
 * Progress on stderr, results on stdout. The machine must be otherwise quiet for wall times to mean much.
 *
 * Usage: npm run build && node --import tsx scripts/bench-min-heap.ts [--runs 3] [--searches 3] [--step 8] [--repeats 3] [--native-searches 1] [--factor-rounds 3]
 * MEMTUNE_REAL_SOURCES_CACHE moves the real-sources cache (default node_modules/.cache).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTraceGcLine } from '../src/bench/gc-trace.js';
import type { BenchReport, PackageResult } from '../src/bench/types.js';
import { prepareRealSources } from './real-sources.js';

const ROOT = resolve(import.meta.dirname, '..');
const MiB = 1024 * 1024;
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    searches: { type: 'string', default: '3' },
    step: { type: 'string', default: '8' },
    repeats: { type: 'string', default: '3' },
    'native-searches': { type: 'string', default: '1' },
    'factor-rounds': { type: 'string', default: '3' },
  },
});
const RUNS = Number(values.runs);
const SEARCHES = Number(values.searches);
const STEP = Number(values.step);
const REPEATS = Number(values.repeats);
const NATIVE_SEARCHES = Number(values['native-searches']);
const FACTOR_ROUNDS = Number(values['factor-rounds']);
const log = (text: string) => process.stderr.write(`${text}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ratio = (x: number) => x.toFixed(2);

interface Check {
  ok: boolean;
  wallMs: number;
  peakHeapBytes: number;
  how: string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['NODE_OPTIONS', 'GITHUB_STEP_SUMMARY', 'GITHUB_OUTPUT', 'GOMEMLIMIT']) delete env[name];
  return env;
}

/** One bare check, `node --trace-gc [--max-old-space-size=N] tsc.js -p tsconfig.json --noEmit`: no GC-thrash guard, only a generous timeout. */
function check(dir: string, tsc: string, heapMiB: number | null, timeoutMs: number): Promise<Check> {
  return new Promise((done) => {
    const args = ['--trace-gc', ...(heapMiB === null ? [] : [`--max-old-space-size=${heapMiB}`]), tsc, '-p', 'tsconfig.json', '--noEmit'];
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
    let peak = 0;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) peak = Math.max(peak, parseTraceGcLine(line)?.beforeBytes ?? 0);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      done({ ok: code === 0, wallMs, peakHeapBytes: peak, how: code === 0 ? 'ok' : signal === 'SIGABRT' ? 'oom' : signal === 'SIGKILL' ? 'timeout' : `exit ${code ?? signal}` });
    });
  });
}

function bench(workspace: string, args: string[], out: string): { report: BenchReport; wallMs: number } {
  const started = performance.now();
  const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'memtune.js'), 'bench', '--find-min-heap', '--out', out, '--json', ...args], {
    cwd: workspace,
    env: cleanEnv(),
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.stdout.trim() === '') throw new Error(`memtune bench --find-min-heap ${args.join(' ')} printed no report (exit ${result.status})`);
  return { report: JSON.parse(result.stdout) as BenchReport, wallMs: performance.now() - started };
}

const probeText = (pkg: PackageResult) => pkg.minHeap!.probes.map((probe) => `${probe.heapMiB}:${probe.status}:${(probe.wallMs / 1000).toFixed(1)}s`).join(' ');

const sources = await prepareRealSources();
const scratch = mkdtempSync(join(tmpdir(), 'memtune-bench-min-heap-'));
try {
  const workspace = join(scratch, 'ws');
  const zod = join(workspace, 'packages', 'zod');
  cpSync(sources.zod, zod, { recursive: true });
  writeFileSync(join(workspace, 'package.json'), JSON.stringify({ name: 'bench-min-heap', private: true, workspaces: ['packages/*'] }));
  symlinkSync(join(sources.root, 'node_modules'), join(workspace, 'node_modules'));
  const tsc = sources.tsc59;

  log(`bench-min-heap: ${RUNS} unconstrained runs of zod (TS 5.9.3) ...`);
  const free: Check[] = [];
  for (let i = 0; i < RUNS; i++) free.push(await check(zod, tsc, null, 600_000));
  const unit = median(free.map((run) => run.wallMs));
  const peak = Math.max(...free.map((run) => run.peakHeapBytes));
  console.log(`unconstrained: median wall ${(unit / 1000).toFixed(1)} s over ${RUNS} runs, peak heap ${Math.round(peak / MiB)} MiB (largest)`);

  // The sweep: down from the peak in STEP MiB steps, one run each, until one fails.
  const seen = new Map<number, Check[]>();
  const run = async (mib: number) => {
    const result = await check(zod, tsc, mib, 10 * unit);
    seen.set(mib, [...(seen.get(mib) ?? []), result]);
    log(`bench-min-heap: sweep --max-old-space-size=${mib}: ${result.how}, ${(result.wallMs / 1000).toFixed(1)} s`);
    return result.ok;
  };
  let setting = Math.floor(peak / MiB / STEP) * STEP;
  while (setting > STEP && (await run(setting))) setting -= STEP;
  // The edge: each setting from the first failure up gets REPEATS runs; the true minimum is the smallest that
  // completed in all of them with no failure at any setting above it.
  let edge = setting;
  for (;;) {
    for (let mib = edge; mib <= edge + STEP; mib += STEP) while ((seen.get(mib)?.length ?? 0) < REPEATS) await run(mib);
    const failsAbove = [...seen].some(([mib, runs]) => mib > edge && runs.some((r) => !r.ok));
    if (!failsAbove && seen.get(edge + STEP)!.every((r) => r.ok)) break;
    edge += STEP;
  }
  const trueMin = [...seen].filter(([mib, runs]) => mib > edge - STEP && runs.every((r) => r.ok)).reduce((a, [mib]) => Math.min(a, mib), Number.POSITIVE_INFINITY);
  const sweepLine = [...seen]
    .sort(([a], [b]) => a - b)
    .map(([mib, runs]) => `${mib}:${runs.filter((r) => r.ok).length}/${runs.length}`)
    .join(' ');
  console.log(`sweep (MiB: completed/runs): ${sweepLine}`);
  console.log(`true minimum: ${trueMin} MiB (the smallest setting on a ${STEP} MiB grid that completed in all its runs, none failing above it)`);

  // The safety factor's evidence: wall time at the minimum × f against unconstrained, interleaved in rounds (the
  // order reversed every other round) so that load on the machine moves both sides of each ratio alike: per round
  // the run at a factor over that round's unconstrained run, then median (min–max) over the rounds.
  const FACTORS = [1, 1.1, 1.25, 1.5];
  const ratios = new Map<number, number[]>(FACTORS.map((factor) => [factor, []]));
  const completed = new Map<number, number>(FACTORS.map((factor) => [factor, 0]));
  for (let round = 0; round < FACTOR_ROUNDS; round++) {
    const order: Array<number | null> = [null, ...FACTORS];
    if (round % 2 === 1) order.reverse();
    const walls = new Map<number | null, Check>();
    for (const factor of order) walls.set(factor, await check(zod, tsc, factor === null ? null : Math.ceil(trueMin * factor), 10 * unit));
    const free = walls.get(null)!;
    for (const factor of FACTORS) {
      const at = walls.get(factor)!;
      if (at.ok) completed.set(factor, completed.get(factor)! + 1);
      ratios.get(factor)!.push(at.wallMs / free.wallMs);
    }
    log(`bench-min-heap: factors, round ${round + 1}/${FACTOR_ROUNDS}: ${[...walls].map(([f, r]) => `${f ?? 'free'} ${r.how} ${(r.wallMs / 1000).toFixed(1)} s`).join(', ')}`);
  }
  const factorLines = FACTORS.map((factor) => {
    const all = ratios.get(factor)!;
    return `minimum × ${factor} (${Math.ceil(trueMin * factor)} MiB): wall ${ratio(median(all))} (${ratio(Math.min(...all))}–${ratio(Math.max(...all))}) × unconstrained over ${all.length} interleaved rounds, ${completed.get(factor)}/${all.length} completed`;
  });
  console.log(factorLines.join('\n'));

  const costs: number[] = [];
  const distances: number[] = [];
  for (let i = 1; i <= SEARCHES; i++) {
    log(`bench-min-heap: memtune bench --find-min-heap ${i}/${SEARCHES} ...`);
    const { report } = bench(workspace, ['--filter', '@real/zod', '--runs', '2'], join(scratch, `out-${i}`));
    const pkg = report.packages[0]!;
    const search = pkg.minHeap!;
    // In units of the same bench's own unconstrained runs, measured just before its probes: load on the machine
    // between the start of this script and this search moves both alike.
    const cost = search.probes.reduce((sum, probe) => sum + probe.wallMs, 0) / pkg.wallMs;
    const found = search.bytes === null ? null : search.bytes / MiB;
    costs.push(cost);
    if (found !== null) distances.push(found / trueMin - 1);
    console.log(
      `search ${i}: ${found === null ? 'nothing found' : `${found} MiB (+${((found / trueMin - 1) * 100).toFixed(1)} % over the true minimum)`}, ${search.probes.length} probes costing ${ratio(cost)} of its own unconstrained runs (${(pkg.wallMs / 1000).toFixed(1)} s) [${probeText(pkg)}]; bounds ${Math.round(search.lowerBytes / MiB)}–${Math.round(search.upperBytes / MiB)} MiB`,
    );
  }
  console.log(`\nsearch cost: median ${ratio(median(costs))}, max ${ratio(Math.max(...costs))} unconstrained runs (target ≤ 6)`);
  if (distances.length > 0)
    console.log(
      `distance above the true minimum: median ${(median(distances) * 100).toFixed(1)} %, max ${(Math.max(...distances) * 100).toFixed(1)} % (target ≤ 15 %); ${distances.length}/${SEARCHES} searches found one`,
    );

  const native = join(ROOT, 'node_modules', 'typescript');
  for (let i = 1; i <= NATIVE_SEARCHES; i++) {
    log(`bench-min-heap: native search ${i}/${NATIVE_SEARCHES} (TypeScript 7, --runs 3) ...`);
    const { report } = bench(workspace, ['--filter', '@real/zod', '--compiler', native, '--runs', '3'], join(scratch, `out-native-${i}`));
    const pkg = report.packages[0]!;
    const search = pkg.minHeap!;
    const cost = search.probes.reduce((sum, probe) => sum + probe.wallMs, 0) / pkg.wallMs;
    console.log(
      `native search ${i} (TS ${pkg.compiler.version}): unconstrained median wall ${(pkg.wallMs / 1000).toFixed(1)} s, peak RSS ${Math.round((pkg.spread.peakRssBytes?.max ?? 0) / MiB)} MiB; ` +
        `GOMEMLIMIT ${search.bytes === null ? 'none passed' : `${search.bytes / MiB} MiB`}, peak RSS saved ${search.savedRssBytes === null ? '—' : `${Math.round(search.savedRssBytes / MiB)} MiB`}, ` +
        `${search.probes.length} probes costing ${ratio(cost)} unconstrained runs [${probeText(pkg)}]`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
