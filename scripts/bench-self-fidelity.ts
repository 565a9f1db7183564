/**
 * The fidelity part of `npm run bench:self`: memtune bench's figures held against the user's bare
 * command, each in its own process, on real sources (scripts/real-sources.ts). The scenarios are data in
 * scripts/bench-self-scenarios.ts, with the paired ones. The bare command runs under GNU `time -f %M`
 * (peak RSS) with node's `--trace-gc` (peak used heap: the largest size before a GC; GC count),
 * interleaved with whole `memtune bench` invocations, the order alternating per round after one
 * discarded warm-up round. Both distributions are printed (min, median, max) with the ratios of their
 * medians and of their maxima. Targets: maxima within 2 %; memtune's median inside the bare command's
 * own min–max.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchReport } from '../src/bench/types.js';
import { parseTraceGcLine } from '../src/bench/gc-trace.js';
import { median } from '../src/shared/median.js';
import { type FidelityScenario, fidelityScenarios } from './bench-self-scenarios.js';
import { prepareRealSources } from './real-sources.js';
import { textTable } from './text-table.js';

const GNU_TIME = '/usr/bin/time';
const MiB = 1024 * 1024;
const MEMTUNE = join(import.meta.dirname, '..', 'bin', 'memtune.js');

/** One reading of a run: what a team sizes by. */
export interface Reading {
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  gcCount: number;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key === 'NODE_OPTIONS' || key === 'GODEBUG' || key.startsWith('MEMTUNE_') || key === 'NODE_TEST_CONTEXT') delete env[key];
  return env;
}

/** The bare command once: GNU time for its peak RSS, its own --trace-gc lines for the heap. */
function bareReading(scenario: FidelityScenario, args: string[], timeFile: string): Reading {
  const node = scenario.bare.traceGc === false ? [process.execPath] : [process.execPath, '--trace-gc'];
  const env = { ...cleanEnv(), ...scenario.env };
  const result = spawnSync(GNU_TIME, ['-f', '%M', '-o', timeFile, ...node, ...args], { cwd: scenario.bare.cwd, env, encoding: 'utf8', maxBuffer: 256 * MiB });
  if (result.status !== 0) throw new Error(`bare ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`);
  let peak = 0;
  let gcs = 0;
  for (const line of result.stdout.split('\n')) {
    const event = parseTraceGcLine(line);
    if (!event) continue;
    gcs++;
    peak = Math.max(peak, event.beforeBytes);
  }
  return { peakRssBytes: Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) * 1024, peakHeapUsedBytes: peak, gcCount: gcs };
}

/** One whole `memtune bench` invocation: its runs of the measured package, as the report has them. */
function memtuneReadings(scenario: FidelityScenario, out: string): Reading[] {
  const result = spawnSync(process.execPath, [MEMTUNE, ...scenario.memtune.args, '--out', out, '--json'], {
    cwd: scenario.memtune.cwd,
    env: { ...cleanEnv(), ...scenario.env },
    encoding: 'utf8',
    maxBuffer: 256 * MiB,
  });
  if (result.status !== 0) throw new Error(`memtune ${scenario.memtune.args.join(' ')} exited ${result.status}:\n${result.stderr.slice(-3000)}`);
  const runs = scenario.memtune.pick(JSON.parse(result.stdout) as BenchReport);
  if (!runs || runs.length !== scenario.runsPerRound) throw new Error(`memtune ${scenario.memtune.args.join(' ')}: expected ${scenario.runsPerRound} runs in the report`);
  return runs.map((run) => {
    if (run.status !== 'ok' || run.peakRssBytes === null || run.peakHeapUsedBytes === null || run.gcCount === null) {
      throw new Error(`memtune measured a run as ${run.status} without its figures:\n${run.messages ?? ''}`);
    }
    return {
      peakRssBytes: run.peakRssBytes,
      peakHeapUsedBytes: run.peakHeapUsedBytes,
      gcCount: run.gcCount,
    };
  });
}

export interface FidelityResult {
  scenario: FidelityScenario;
  bare: Reading[];
  memtune: Reading[];
}

export async function measureFidelity(scenarios: FidelityScenario[], log: (text: string) => void): Promise<FidelityResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'memtune-fidelity-'));
  let fresh = 0;
  const freshPath = (suffix: string) => join(work, `${++fresh}${suffix}`);
  const results: FidelityResult[] = [];
  try {
    for (const scenario of scenarios) {
      const result: FidelityResult = { scenario, bare: [], memtune: [] };
      for (let round = -1; round < scenario.rounds; round++) {
        const bare = () => {
          const readings: Reading[] = [];
          for (let run = 0; run < scenario.runsPerRound; run++) {
            readings.push(
              bareReading(
                scenario,
                scenario.bare.args(() => freshPath('.tsbuildinfo')),
                freshPath('.time'),
              ),
            );
          }
          return readings;
        };
        const memtune = () => memtuneReadings(scenario, freshPath('-out'));
        // Alternate which goes first, so neither always runs right after the other (page cache, CPU clocks).
        const [first, second] = round % 2 === 0 ? [bare, memtune] : [memtune, bare];
        const a = first();
        const b = second();
        if (round >= 0) {
          result.bare.push(...(first === bare ? a : b));
          result.memtune.push(...(first === bare ? b : a));
        }
        log(`${scenario.id}: ${round < 0 ? 'warm-up' : `round ${round + 1}/${scenario.rounds}`}`);
      }
      results.push(result);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

interface Distribution {
  min: number;
  median: number;
  max: number;
}

const distribution = (values: number[]): Distribution => ({ min: Math.min(...values), median: median(values), max: Math.max(...values) });

const FIELDS = [
  { key: 'peakRssBytes', label: 'peak RSS', unit: 'MiB' },
  { key: 'peakHeapUsedBytes', label: 'peak heap', unit: 'MiB' },
  { key: 'gcCount', label: 'GCs', unit: '' },
] as const;

const shown = (value: number, unit: string) => (unit === 'MiB' ? (value / MiB).toFixed(1) : value.toFixed(0));

/** The printed table: both distributions, the ratios of medians and maxima, and the verdicts. */
export function fidelityTable(results: FidelityResult[]): string[] {
  const rows: string[][] = [];
  for (const { scenario, bare, memtune } of results) {
    for (const field of FIELDS) {
      const b = distribution(bare.map((reading) => reading[field.key]));
      const m = distribution(memtune.map((reading) => reading[field.key]));
      const maxRatio = m.max / b.max;
      const medianRatio = m.median / b.median;
      const judged = field.key !== 'gcCount';
      rows.push([
        scenario.id,
        field.label + (field.unit ? ` (${field.unit})` : ''),
        `${bare.length}/${memtune.length}`,
        `${shown(b.min, field.unit)} / ${shown(b.median, field.unit)} / ${shown(b.max, field.unit)}`,
        `${shown(m.min, field.unit)} / ${shown(m.median, field.unit)} / ${shown(m.max, field.unit)}`,
        medianRatio.toFixed(3),
        maxRatio.toFixed(3),
        judged ? (Math.abs(maxRatio - 1) <= 0.02 ? 'ok' : 'OVER') : 'n/a',
        judged ? (m.median >= b.min && m.median <= b.max ? 'ok' : 'OUT') : 'n/a',
      ]);
    }
  }
  const header = [
    'scenario',
    'figure',
    'n bare/memtune',
    'bare min / median / max',
    'memtune min / median / max',
    'median ratio',
    'max ratio',
    'max within 2 %',
    'median in bare spread',
  ];
  const subjects = results.map(({ scenario }) => `- ${scenario.id}: ${scenario.subject}`);
  return [...textTable(header, rows), '', ...subjects];
}

export async function fidelity(runs: number, log: (text: string) => void, only: ReadonlySet<string>): Promise<string[]> {
  log('preparing real sources (scripts/real-sources.ts) ...');
  const sources = await prepareRealSources();
  // react-query is checked against query-core's declarations: build them once, outside any measurement.
  const built = spawnSync(process.execPath, [join(sources.root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', join(sources.queryCore, 'tsconfig.json')], {
    cwd: sources.root,
    env: cleanEnv(),
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`building query-core failed:\n${built.stdout}${built.stderr}`);
  const scenarios = fidelityScenarios(sources, runs).filter((scenario) => only.has(scenario.id));
  return fidelityTable(await measureFidelity(scenarios, log));
}
