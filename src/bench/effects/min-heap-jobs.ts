import { nextProbeBytes, minHeapSearch, searchBounds, type SearchBounds } from '../min-heap.js';
import { heapProbes, measuredRuns } from '../report/report.js';
import type { BenchTask } from '../task.js';
import type { JournalEntry, MinHeapSearch, RunFigures } from '../types.js';
import { MiB } from '../../shared/size.js';
import type { BenchJob } from './run-jobs.js';
import { PROBE_THRASH } from '../gc-trace.js';

export interface SearchTarget {
  key: string;
  /** The package's lane: probes of its variants' searches never run beside each other either. */
  lane: string;
  name: string;
  native: boolean;
  spec: BenchTask;
}

/**
 * `--find-min-heap`'s probes as bench jobs: each package's search replays its journaled probes (so a --resume
 * continues it) and asks for one probe at a time, the next only once the last ended: never two probes of a package at once.
 */
export class MinHeapJobs {
  private readonly byKey: Map<string, SearchTarget>;

  constructor(
    targets: readonly SearchTarget[],
    /** The journal's entries so far (the measured runs, then each probe as it ends). */
    private readonly entries: () => readonly JournalEntry[],
    private readonly options: { runs: number; timeoutMs: number },
    /** A search that ended, as the report will show it, or why a package has none. */
    private readonly onDone: (target: SearchTarget, search: MinHeapSearch | string) => void,
  ) {
    this.byKey = new Map(targets.map((target) => [target.key, target]));
  }

  /** The first (or, resumed, the next) probe of every search on this kind of compiler that still has one to run. */
  start(native: boolean): BenchJob[] {
    return [...this.byKey.values()].filter((target) => target.native === native).flatMap((target) => this.probeAfter(target));
  }

  /** For runJobs' `next`: after a probe, the same package's next one. */
  readonly next = (job: BenchJob, _figures: RunFigures): BenchJob[] => {
    const target = this.byKey.get(job.key);
    return job.setting === undefined || target === undefined ? [] : this.probeAfter(target);
  };

  /** The package's search has probes left to run (a --resume must prepare the package for them). */
  searching(key: string): boolean {
    const target = this.byKey.get(key);
    const bounds = target && this.bounds(target);
    return typeof bounds === 'object' && nextProbeBytes(bounds, heapProbes(key, this.entries())) !== null;
  }

  /** Expected peak RSS of a package's probes: at most that of its unconstrained runs. */
  expectedRss(key: string): number | undefined {
    const target = this.byKey.get(key);
    const bounds = target && this.bounds(target);
    return typeof bounds === 'object' ? (bounds.referencePeakRssBytes ?? undefined) : undefined;
  }

  private bounds(target: SearchTarget): SearchBounds | string {
    return searchBounds(target.native, measuredRuns(target.key, this.entries(), { runs: this.options.runs, warm: false }).figures);
  }

  private probeAfter(target: SearchTarget): BenchJob[] {
    const bounds = this.bounds(target);
    if (typeof bounds === 'string') {
      this.onDone(target, bounds);
      return [];
    }
    const probes = heapProbes(target.key, this.entries());
    const bytes = nextProbeBytes(bounds, probes);
    if (bytes === null) {
      this.onDone(target, minHeapSearch(bounds, probes));
      return [];
    }
    const mib = Math.round(bytes / MiB);
    const native = bounds.setting === 'GOMEMLIMIT';
    const shown = native ? `GOMEMLIMIT=${mib}MiB` : `--max-old-space-size=${mib}`;
    return [
      {
        key: target.key,
        lane: target.lane,
        label: `${target.name} (min heap, probe ${probes.length + 1}: ${shown})`,
        run: -(probes.length + 1),
        task: target.spec,
        setting: {
          heap: { setting: bounds.setting, bytes },
          nodeArgs: native ? [] : [`--max-old-space-size=${mib}`],
          env: native ? { GOMEMLIMIT: `${mib}MiB` } : {},
          timeoutMs: Math.min(this.options.timeoutMs, bounds.probeTimeoutMs),
          ...(native ? {} : { thrash: PROBE_THRASH }),
        },
      },
    ];
  }
}
