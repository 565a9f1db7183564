/**
 * `npm run bench:run`: the start-up cost of `memtune run` against cross-env, the tool it replaces.
 * Times `memtune run build -- node -e 0` and `cross-env A=1 node -e 0`, interleaved, RUNS times each,
 * both through their bin files (the `#!/usr/bin/env node` shebang, so the node on PATH), and prints min, median
 * and max of each and the median ratio; on Linux also the CPU time of each process tree, which a loaded machine
 * moves less than the wall time. Progress goes to stderr, results to stdout.
 * Usage: node --import tsx scripts/bench-run-startup.ts [runs]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median } from '../src/shared/median.js';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Math.max(20, Number(process.argv[2] ?? 30) || 30);

// Left out: what makes every node process do more at start, the same for both tools, and so hides the difference
// measured. NODE_EXTRA_CA_CERTS, for one, has Node 20 read the whole CA file at start (about 50 ms of CPU here).
const DROPPED = ['NODE_OPTIONS', 'MEMTUNE_NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'];
const env: NodeJS.ProcessEnv = { ...process.env };
for (const key of DROPPED) delete env[key];

const CASES = [
  { name: 'memtune run build -- node -e 0', file: join(ROOT, 'bin', 'memtune.js'), args: ['run', 'build', '--', 'node', '-e', '0'] },
  { name: 'cross-env A=1 node -e 0', file: join(ROOT, 'node_modules', '.bin', 'cross-env'), args: ['A=1', 'node', '-e', '0'] },
];

/**
 * User + system CPU time (ms) of this process's children that have been waited for, with theirs: cutime and cstime
 * of /proc/self/stat, in clock ticks (100 per second on Linux). Undefined elsewhere.
 */
function childrenCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

function time(file: string, args: string[]): { wall: number; cpu: number | undefined } {
  const cpuBefore = childrenCpuMs();
  const started = process.hrtime.bigint();
  const result = spawnSync(file, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.status ?? result.signal}: ${String(result.stderr)}`);
  const cpuAfter = childrenCpuMs();
  return { wall, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

// One warm-up each so the first measured run does not pay for a cold file cache.
for (const c of CASES) time(c.file, c.args);
const samples = CASES.map(() => [] as number[]);
// Ticks of 10 ms cut each run's CPU time coarsely: only the sum over all runs is worth printing.
const cpuTotals: Array<number | undefined> = CASES.map(() => 0);
for (let run = 0; run < RUNS; run++) {
  // Alternate which goes first, so neither always runs right after the other.
  const order = run % 2 === 0 ? [0, 1] : [1, 0];
  for (const index of order) {
    const { wall, cpu } = time(CASES[index]!.file, CASES[index]!.args);
    samples[index]!.push(wall);
    cpuTotals[index] = cpu === undefined || cpuTotals[index] === undefined ? undefined : cpuTotals[index] + cpu;
  }
  process.stderr.write(`\rrun ${run + 1}/${RUNS}`);
}
process.stderr.write('\n');

const [memtune, crossEnv] = samples.map((values) => ({ min: Math.min(...values), median: median(values), max: Math.max(...values) }));
console.log(`node ${process.version}, ${RUNS} interleaved runs each, without ${DROPPED.join(', ')}; min / median / max`);
CASES.forEach((c, index) => {
  const stats = index === 0 ? memtune! : crossEnv!;
  console.log(`${c.name.padEnd(32)} ${stats.min.toFixed(1)} / ${stats.median.toFixed(1)} / ${stats.max.toFixed(1)} ms`);
});
console.log(`median ratio memtune/cross-env: ${(memtune!.median / crossEnv!.median).toFixed(3)} (target <= 0.90)`);
console.log(`min ratio memtune/cross-env:    ${(memtune!.min / crossEnv!.min).toFixed(3)}`);
const [memtuneCpu, crossEnvCpu] = cpuTotals;
if (memtuneCpu !== undefined && crossEnvCpu !== undefined) {
  console.log(
    `CPU time per run (mean):        memtune ${(memtuneCpu / RUNS).toFixed(1)} ms, cross-env ${(crossEnvCpu / RUNS).toFixed(1)} ms, ratio ${(memtuneCpu / crossEnvCpu).toFixed(3)}`,
  );
}
