import { finished } from './stats.js';
import type { MinHeapProbe, MinHeapSearch, RunFigures } from './types.js';
import { MiB } from '../shared/size.js';
import { HEAP_MIN_MiB } from '../shared/heap-need.js';

/**
 * `--find-min-heap`, the search itself, free of processes: where to probe next from the probes so far, and
 * what they found. A bench replays a package's journaled probes through it, so an interrupted search
 * continues where it stopped.
 */

export type MinHeapSetting = MinHeapSearch['setting'];

/** The search stops once the smallest setting that passed is this close above the largest that failed (or the lower bound)... */
export const RESOLUTION_MIN_BYTES = 16 * MiB;
/** ...or this share of it, whichever is larger. */
export const RESOLUTION_SHARE = 0.05;
/** Native compiler: a GOMEMLIMIT passes while the check's wall time stays within this factor of the unconstrained runs' median. */
export const NATIVE_WALL_FACTOR = 1.5;
/**
 * A JS probe still running after this factor of the unconstrained median wall time (at least PROBE_MIN_TIMEOUT_MS) is
 * stopped and counts as not completing: a heap that makes the check crawl that much slower is no setting to keep, and
 * it bounds what one probe costs.
 */
export const JS_PROBE_WALL_FACTOR = 3;
export const PROBE_MIN_TIMEOUT_MS = 10_000;

/**
 * The headroom a heap recommendation puts over a searched minimum, and why: `npm run bench:min-heap` on zod's sources
 * (TS 5.9.3), wall time against unconstrained runs interleaved with it, two runs of 3 rounds: 1.44–1.50 × at the
 * minimum, 1.09–1.10 × at 1.1 ×, 0.97–1.15 × at 1.25 × and 0.92–1.09 × at 1.5 ×. From 1.1 × on the check runs near its
 * unconstrained speed, and 1.25 × and 1.5 × did not differ beyond the runs' spread; the minimum a search finds is
 * itself 0–9 % above the smallest that completes (the probe guard stops crawling checks). 1.25, as the peak rule.
 */
export const MIN_HEAP_SAFETY = 1.25;
export const MIN_HEAP_SAFETY_WHY = 'at its minimum a check crawls in GC, from about 1.1 × on it runs at its usual speed (docs/bench.md)';

export function resolutionFor(bytes: number): number {
  return Math.max(RESOLUTION_MIN_BYTES, Math.ceil(RESOLUTION_SHARE * bytes));
}

export interface SearchBounds {
  setting: MinHeapSetting;
  /** Below this nothing can work (the retained heap; the Go live heap): never probed, only bisected from. */
  lowerBytes: number;
  /**
   * The measured peak (heap; RSS for the native compiler), rounded up to a whole MiB, for a JS compiler at least
   * the recommendation's floor: probed only when nothing below it passed.
   */
  upperBytes: number;
  /** What set `upperBytes`, as the basis names it. */
  upperFrom: string;
  /** Native: a probe slower than this did not pass (and is stopped there). Null for a JS compiler. */
  wallLimitMs: number | null;
  /** A probe is stopped after this long (and did not pass): the native wall-time bound, or JS_PROBE_WALL_FACTOR × the reference. */
  probeTimeoutMs: number;
  /** The median wall time of the unconstrained runs, and their largest peak RSS: what a setting is compared with. */
  referenceWallMs: number;
  referencePeakRssBytes: number | null;
}

/** A probe as the search reads it: the setting it ran under and how it ended. */
export type ProbeResult = MinHeapProbe;

/** A probe passed: the check completed (type errors or not) and, for the native compiler, within the wall-time bound. */
export function probePassed(bounds: Pick<SearchBounds, 'wallLimitMs'>, probe: Pick<ProbeResult, 'status' | 'wallMs'>): boolean {
  if (!finished(probe.status)) return false;
  return bounds.wallLimitMs === null || probe.wallMs <= bounds.wallLimitMs;
}

const roundUpMiB = (bytes: number) => Math.ceil(bytes / MiB) * MiB;

/**
 * A package's search bounds from its measured runs (only those that ran to their end), or why it has none.
 * A JS compiler is bounded by the retained heap (what was live after a full GC) and the peak used heap; the
 * native one by the Go live heap and the peak RSS of the process tree.
 */
export function searchBounds(native: boolean, runs: readonly RunFigures[]): SearchBounds | string {
  const done = runs.filter((run) => finished(run.status));
  if (done.length === 0) return 'no measured run completed: there is no figure to search from';
  const most = (field: 'peakHeapUsedBytes' | 'retainedHeapBytes' | 'peakRssBytes' | 'goHeapLiveBytes') =>
    done.reduce<number | null>((best, run) => (run[field] === null ? best : Math.max(best ?? 0, run[field])), null);
  const walls = done.map((run) => run.wallMs).sort((a, b) => a - b);
  const referenceWallMs = walls.length % 2 === 1 ? walls[(walls.length - 1) / 2]! : Math.round((walls[walls.length / 2 - 1]! + walls[walls.length / 2]!) / 2);
  const referencePeakRssBytes = most('peakRssBytes');
  const upper = native ? referencePeakRssBytes : most('peakHeapUsedBytes');
  if (upper === null) return native ? 'no peak RSS was measured (it is read from /proc: Linux only)' : 'no peak heap was measured (no GC line of the compiler was read)';
  const lower = (native ? most('goHeapLiveBytes') : most('retainedHeapBytes')) ?? 0;
  // A small check's peak used heap is no upper bound: V8 sizes its young generation from the limit, and a 22 MiB
  // check ran out of memory under --max-old-space-size=23. Below the floor the recommendation is the floor anyway.
  const floored = !native && roundUpMiB(upper) < HEAP_MIN_MiB * MiB;
  return {
    setting: native ? 'GOMEMLIMIT' : 'max-old-space-size',
    lowerBytes: Math.min(lower, upper),
    upperBytes: floored ? HEAP_MIN_MiB * MiB : roundUpMiB(upper),
    upperFrom: native ? 'the peak RSS, rounded up' : floored ? 'the peak used heap, raised to the floor of a heap recommendation' : 'the peak used heap, rounded up',
    wallLimitMs: native ? Math.round(NATIVE_WALL_FACTOR * referenceWallMs) : null,
    probeTimeoutMs: native ? Math.round(NATIVE_WALL_FACTOR * referenceWallMs) : Math.max(PROBE_MIN_TIMEOUT_MS, Math.round(JS_PROBE_WALL_FACTOR * referenceWallMs)),
    referenceWallMs,
    referencePeakRssBytes,
  };
}

interface SearchState {
  /** The smallest setting that passed; null while none did. */
  passed: number | null;
  /** The largest setting below `passed` known not to work (a failed probe, else the lower bound). */
  failed: number;
  /** The upper bound was probed and did not pass: nothing to search. */
  hopeless: boolean;
}

function stateOf(bounds: SearchBounds, probes: readonly ProbeResult[]): SearchState {
  const passes = probes.filter((probe) => probePassed(bounds, probe)).map((probe) => probe.heapMiB * MiB);
  const passed = passes.length === 0 ? null : Math.min(...passes);
  // A setting that failed above one that passed is the edge's noise: the passing one was seen to work.
  const failures = probes.filter((probe) => !probePassed(bounds, probe) && (passed === null || probe.heapMiB * MiB < passed)).map((probe) => probe.heapMiB * MiB);
  const failed = Math.max(bounds.lowerBytes, ...failures);
  return { passed, failed, hopeless: passed === null && failed >= bounds.upperBytes };
}

/**
 * The setting (bytes, a whole MiB) to probe next, or null when the search is over. Bisection between the
 * largest setting that failed (at first the lower bound, never probed: below it nothing can work) and the
 * smallest that passed (at first the upper bound, taken to pass until the probes below it all failed: then it
 * is probed, last, so a search that finds its minimum below it never pays for a run at the peak).
 */
export function nextProbeBytes(bounds: SearchBounds, probes: readonly ProbeResult[]): number | null {
  const state = stateOf(bounds, probes);
  if (state.hopeless) return null;
  const top = state.passed ?? bounds.upperBytes;
  const middle = Math.round((top + state.failed) / 2 / MiB) * MiB;
  // Whole MiB only: a gap that rounds onto its own ends is as close as the setting can say.
  if (top - state.failed > resolutionFor(top) && middle > state.failed && middle < top) return middle;
  return state.passed === null ? bounds.upperBytes : null;
}

const mib = (bytes: number) => `${Math.round(bytes / MiB)} MiB`;

/** The search as the report shows it: what the probes found, or why it did not finish. */
export function minHeapSearch(bounds: SearchBounds, probes: readonly ProbeResult[]): MinHeapSearch {
  const state = stateOf(bounds, probes);
  const complete = nextProbeBytes(bounds, probes) === null;
  const native = bounds.setting === 'GOMEMLIMIT';
  const what = native ? 'GOMEMLIMIT' : '--max-old-space-size';
  const count = `${probes.length} probe${probes.length === 1 ? '' : 's'}`;
  // The probe at the minimum found: its peak RSS against the unconstrained runs' is what the setting saves.
  const found = complete && state.passed !== null ? probes.find((probe) => probe.heapMiB * MiB === state.passed && probePassed(bounds, probe)) : undefined;
  const saved = found?.peakRssBytes != null && bounds.referencePeakRssBytes !== null ? bounds.referencePeakRssBytes - found.peakRssBytes : null;
  let basis: string;
  if (state.hopeless) {
    const top = probes.find((probe) => probe.heapMiB * MiB === bounds.upperBytes);
    basis = `${what}=${mib(bounds.upperBytes)} (${bounds.upperFrom}) did not pass (${top?.status ?? 'failed'}): not searched further; the check needs more than that`;
  } else if (!complete) {
    basis = `unfinished after ${count} (the bench was stopped); memtune bench --resume continues the search`;
  } else {
    const passes = native
      ? `the check completed within ${NATIVE_WALL_FACTOR} × the unconstrained median wall time (${(bounds.wallLimitMs! / 1000).toFixed(1)} s)`
      : 'the check completed';
    const range = `${native ? 'the Go live heap' : 'the retained heap'} (${mib(bounds.lowerBytes)}) and ${bounds.upperFrom.replace(/, rounded up$/, '')}`;
    basis =
      `the smallest ${what} with which ${passes}, bisected between ${range} (${mib(bounds.upperBytes)}) to within ${mib(resolutionFor(state.passed!))} in ${count}` +
      (saved === null ? '' : `; peak RSS there ${mib(found!.peakRssBytes!)}, ${mib(Math.abs(saved))} ${saved >= 0 ? 'less' : 'more'} than unconstrained`);
  }
  return {
    setting: bounds.setting,
    bytes: found ? state.passed : null,
    lowerBytes: bounds.lowerBytes,
    upperBytes: bounds.upperBytes,
    resolutionBytes: resolutionFor(state.passed ?? bounds.upperBytes),
    probes: [...probes],
    basis,
    complete,
    ...(bounds.wallLimitMs === null ? {} : { wallLimitMs: bounds.wallLimitMs }),
    savedRssBytes: saved,
  };
}

/** A search that ran to its end without finding a setting that passes, not even the upper bound: as an oom, the bench does not pass. */
export function searchFailed(search: MinHeapSearch | undefined): boolean {
  return search?.complete === true && search.bytes === null;
}

/** A journaled probe as the search reads it (a native probe stopped at its wall-time bound has status `timeout`). */
export function probeOf(heapBytes: number, figures: Pick<RunFigures, 'status' | 'wallMs' | 'peakRssBytes'>): ProbeResult {
  return { heapMiB: Math.round(heapBytes / MiB), status: figures.status, wallMs: figures.wallMs, peakRssBytes: figures.peakRssBytes };
}
