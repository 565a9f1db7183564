import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fitsBudget } from '../schedule.js';
import { unmeasuredFigures } from '../stats.js';
import type { BenchTask } from '../task.js';
import type { JournalEntry, RunFigures } from '../types.js';
import { measureRun } from './measure.js';
import type { ThrashRule } from '../gc-trace.js';

export interface BenchJob {
  key: string;
  /** Jobs of one lane never run at once (the variants of one package); default: the key. */
  lane?: string;
  label: string;
  /** 1-based, among this package's runs; 0 is the unmeasured run that takes the compiler's counts. */
  run: number;
  task: BenchTask;
  /** A --find-min-heap probe: the task under one heap setting. */
  setting?: ProbeSetting;
}

/** What a probe adds to its task's run. */
export interface ProbeSetting {
  /** The setting searched and its value: the journal keeps it with the probe's figures. */
  heap: NonNullable<JournalEntry['heapProbe']>;
  /** Flags for node before the compiler: a JS compiler's `--max-old-space-size=N`. */
  nodeArgs: string[];
  /** Added to the task's environment: the native compiler's GOMEMLIMIT. */
  env: Record<string, string>;
  /** Instead of the bench's --timeout: a native probe slower than its bound has failed already, and is stopped there. */
  timeoutMs?: number;
  /** Instead of the measured runs' GC-thrash rule. */
  thrash?: ThrashRule;
}

export interface RunJobsOptions {
  jobs: BenchJob[];
  concurrency: number;
  budgetBytes: number;
  timeoutMs: number;
  /** Where each run of an incremental project writes its own build info, removed when the run ends. */
  scratch: string;
  /** Expected peak RSS per key before any run of it was measured. */
  estimate: (key: string) => number;
  signal: AbortSignal;
  onStart: (job: BenchJob, running: readonly BenchJob[]) => void;
  /** Called for each run that ended on its own (not one we stopped because the bench was interrupted). */
  onEnd: (job: BenchJob, figures: RunFigures) => void;
  /** Other processes run beside every run (a bench that is one of turbo's tasks): each run's timings are marked as taken in parallel. */
  besideOthers?: boolean;
  /** After `onEnd`: jobs that follow from this one (a search's next probe), queued before the rest. */
  next?: (job: BenchJob, figures: RunFigures) => BenchJob[];
}

interface Active {
  job: BenchJob;
  expected: number;
  parallel: boolean;
}

/**
 * Runs the jobs, several at once up to `concurrency`, but a job starts only while the expected peak
 * RSS of all running jobs fits the budget; once a key was measured, its measured peak is the
 * expectation. Two runs of one package (of one lane: any of its variants) never run side by side: one
 * would move the other's figures, and their spread is what the report shows. Each run of an incremental project gets a build
 * info file of its own, so every run is cold. Resolves when every started job ended; after an abort
 * nothing new starts.
 */
export function runJobs(options: RunJobsOptions): Promise<void> {
  const queue = [...options.jobs];
  const active = new Set<Active>();
  const measured = new Map<string, number>();
  const expected = (job: BenchJob) => measured.get(job.key) ?? options.estimate(job.key);
  let started = 0;

  return new Promise((resolve) => {
    const pump = () => {
      if (options.signal.aborted) queue.length = 0;
      for (;;) {
        const running = [...active].map((entry) => entry.expected);
        // The first job that fits, so one large package does not hold back the small ones behind it.
        const busy = new Set([...active].map((entry) => entry.job.lane ?? entry.job.key));
        const index = queue.findIndex((job) => !busy.has(job.lane ?? job.key) && fitsBudget(expected(job), running, options.budgetBytes, options.concurrency));
        if (index < 0) break;
        const [job] = queue.splice(index, 1) as [BenchJob];
        start(job);
      }
      if (active.size === 0 && queue.length === 0) resolve();
    };

    const start = (job: BenchJob) => {
      const entry: Active = { job, expected: expected(job), parallel: options.besideOthers === true || active.size > 0 };
      // Whatever was running now overlaps this run too: its timings are no longer clean either.
      for (const other of active) other.parallel = true;
      active.add(entry);
      options.onStart(
        job,
        [...active].map((other) => other.job),
      );
      const { task, setting } = job;
      const buildInfo = task.coldBuildInfo ? join(options.scratch, `${++started}.tsbuildinfo`) : undefined;
      const args = job.run === 0 && task.countArgs ? task.countArgs : task.args;
      measureRun({
        command: task.command,
        args: buildInfo === undefined ? args : [...args, '--tsBuildInfoFile', buildInfo],
        cwd: task.cwd,
        env: { ...process.env, ...task.env, ...setting?.env },
        timeoutMs: setting?.timeoutMs ?? options.timeoutMs,
        probe: task.probe,
        ...(setting ? { nodeArgs: setting.nodeArgs } : {}),
        ...(setting?.thrash ? { thrash: setting.thrash } : {}),
        signal: options.signal,
      })
        .then(
          (figures) => figures,
          (error: Error) => unmeasuredFigures('crashed', `${task.command} could not be started: ${error.message}`),
        )
        .then((figures) => {
          if (buildInfo !== undefined) rmSync(buildInfo, { force: true });
          active.delete(entry);
          if (!options.signal.aborted) {
            const result: RunFigures = { ...figures, parallel: entry.parallel };
            if (result.peakRssBytes !== null) measured.set(job.key, Math.max(measured.get(job.key) ?? 0, result.peakRssBytes));
            options.onEnd(job, result);
            queue.unshift(...(options.next?.(job, result) ?? []));
          }
          pump();
        });
    };

    pump();
  });
}
