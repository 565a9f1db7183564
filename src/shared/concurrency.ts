import { MiB } from './size.js';

/**
 * How much of the memory limit tasks may fill together by default: the bench's `--budget`, a runner's budget and
 * `memtune run … -- turbo run` all use it, so their concurrencies agree.
 */
export const DEFAULT_BUDGET_PERCENT = 80;

/** One task's expected peak RSS: measured by a bench (the largest over its runs) or estimated. */
export interface TaskPeak {
  /** The package (or package#task) the peak belongs to. */
  name: string;
  bytes: number;
  /** Where the figure came from when it was not measured, e.g. `estimated from 1.2 MiB of source`. */
  estimate?: string;
}

export interface ConcurrencyFit {
  /** How many tasks may run at once: at least 1. */
  value: number;
  budgetBytes: number;
  cores: number;
  /** The largest peaks, largest first, whose sum decided `value` (the first `value` of them fit). */
  largest: TaskPeak[];
  /** The sum of the first `value` peaks. */
  sumBytes: number;
  /** The next peak, which would not have fitted (or the core count or the task count stopped first). */
  stoppedBy: 'budget' | 'cores' | 'tasks';
  /** Tasks whose peak alone is larger than the budget: they cannot fit at all. */
  tooLarge: TaskPeak[];
}

/**
 * The largest N for which the N largest peaks fit the budget together, capped by the cores and the task
 * count: any N tasks running at once then fit, whichever they are. Never below 1 (one task at a time is
 * the least a runner can do; `tooLarge` says when even that does not fit).
 */
export function fitConcurrency(peaks: TaskPeak[], budgetBytes: number, cores: number): ConcurrencyFit {
  const sorted = [...peaks].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  const cap = Math.max(1, Math.min(Math.max(1, Math.floor(cores)), sorted.length || 1));
  let value = 0;
  let sumBytes = 0;
  while (value < cap && value < sorted.length && sumBytes + sorted[value]!.bytes <= budgetBytes) {
    sumBytes += sorted[value]!.bytes;
    value++;
  }
  let stoppedBy: ConcurrencyFit['stoppedBy'] = 'budget';
  if (value === cap) stoppedBy = cap === sorted.length && cap < cores ? 'tasks' : 'cores';
  if (value === 0) {
    value = 1;
    sumBytes = sorted[0]?.bytes ?? 0;
    stoppedBy = 'budget';
  }
  return {
    value,
    budgetBytes,
    cores,
    largest: sorted.slice(0, Math.min(sorted.length, value + 1)),
    sumBytes,
    stoppedBy,
    tooLarge: sorted.filter((peak) => peak.bytes > budgetBytes),
  };
}

function mib(bytes: number): string {
  return `${Math.round(bytes / MiB)} MiB`;
}

/** The sum that decided the concurrency, as `--explain`, the Markdown report and the job summary show it. */
export function concurrencyBasis(fit: ConcurrencyFit): string {
  const shown = fit.largest.slice(0, fit.value);
  const terms = shown.map((peak) => `${mib(peak.bytes)} (${peak.name}${peak.estimate ? `, ${peak.estimate}` : ''})`);
  // The same unit on both sides of the comparison.
  const budget = mib(fit.budgetBytes);
  let text =
    shown.length <= 1
      ? `${terms[0] ?? 'no task'} ${fit.sumBytes <= fit.budgetBytes ? '≤' : '>'} ${budget} budget`
      : `${terms.join(' + ')} = ${mib(fit.sumBytes)} ≤ ${budget} budget`;
  const next = fit.largest[fit.value];
  if (fit.tooLarge.length > 0) {
    text += `; ${fit.tooLarge.map((peak) => peak.name).join(', ')} alone exceed${fit.tooLarge.length === 1 ? 's' : ''} the budget, so tasks run one at a time`;
  } else if (fit.stoppedBy === 'budget' && next) {
    text += `; one more (${mib(next.bytes)}, ${next.name}) would make ${mib(fit.sumBytes + next.bytes)}`;
  } else if (fit.stoppedBy === 'cores') {
    text += `, capped at ${fit.cores} CPU${fit.cores === 1 ? '' : 's'}`;
  } else if (fit.stoppedBy === 'tasks') {
    text += `: every task at once`;
  }
  return text;
}
