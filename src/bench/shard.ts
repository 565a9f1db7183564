import { worstFigure } from './stats.js';
import type { BenchReport } from './types.js';
import { UsageError, quote } from '../shared/errors.js';

/** `--shard i/n`: this invocation measures shard `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** Reads `--shard i/n`: whole numbers, n at least 1, i from 1 to n. */
export function parseShard(text: string): Shard {
  const fail = (message: string, fix: string) => new UsageError({ where: `--shard ${quote(text)}`, message, fix });
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) throw fail('not i/n: two whole numbers, this shard and how many there are.', 'Write e.g. --shard 1/4 for the first of four CI jobs.');
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw fail('has 0 shards: n must be at least 1.', 'Write e.g. --shard 1/4 for the first of four CI jobs.');
  if (index < 1) throw fail('shard 0: shards count from 1.', `Write --shard 1/${count} for the first.`);
  if (index > count) throw fail(`shard ${index} of only ${count}: i must be from 1 to n.`, `Write --shard ${count}/${count} for the last, or raise n.`);
  return { index, count };
}

/**
 * Each package directory's last known cost in an earlier report: the sum over its projects (and tasks) of the median
 * wall time × the largest peak RSS over the runs. A directory with no such figure has none.
 */
export function baselineCosts(baseline: BenchReport): Map<string, number> {
  const costs = new Map<string, number>();
  for (const pkg of baseline.packages) {
    const peak = worstFigure(pkg, 'peakRssBytes');
    if (peak !== null && pkg.wallMs > 0) costs.set(pkg.dir, (costs.get(pkg.dir) ?? 0) + pkg.wallMs * peak);
  }
  return costs;
}

/**
 * What is split: one package directory, with every project and variant measured in it. Split before any tsconfig is
 * read, so that a shard reads only its own packages' configs.
 */
export interface ShardUnit {
  dir: string;
  name: string;
  /** Its cost in the baseline (null: unknown), and the size of its sources. */
  cost: number | null;
  sourceBytes: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The packages of each shard, first shard first. Greedy longest-processing-time: packages by cost descending (ties by
 * dir), each to the shard with the smallest total so far (ties: the lowest). A package of unknown cost costs its source
 * bytes × the median cost per byte of the known ones (plain bytes when none is known). Only the units and the baseline
 * decide: the same on every machine.
 */
export function assignShards(units: ShardUnit[], count: number): ShardUnit[][] {
  const ratios = units.flatMap((unit) => (unit.cost !== null && unit.sourceBytes > 0 ? [unit.cost / unit.sourceBytes] : []));
  const perByte = ratios.length === 0 ? 1 : median(ratios);
  const costed = units.map((unit) => ({ unit, cost: unit.cost ?? unit.sourceBytes * perByte }));
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  costed.sort((a, b) => b.cost - a.cost || order(a.unit.dir, b.unit.dir) || order(a.unit.name, b.unit.name));
  const shards = Array.from({ length: count }, () => ({ total: 0, units: [] as ShardUnit[] }));
  for (const { unit, cost } of costed) {
    const smallest = shards.reduce((best, shard) => (shard.total < best.total ? shard : best));
    smallest.total += cost;
    smallest.units.push(unit);
  }
  return shards.map((shard) => shard.units);
}
