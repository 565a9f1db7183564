/**
 * Node's own `--trace-gc` lines: one per GC, printed by V8 even while a synchronous compiler blocks its
 * event loop, with no hook inside the measured process. They carry the used heap before and after every
 * GC (the peak heap, without a profiler that would move it) and each pause, from which this also tells
 * when GC has taken most of the recent time: a V8 heap that is just too small does not fail fast (a 16 s
 * type-check ran 62 s in back-to-back full GCs before V8 gave up), so such a run is stopped as out of memory.
 */

/** `[pid:0xisolate]  1234 ms: Mark-Compact 47.4 (66.7) -> 31.0 (66.9) MB, [pooled: 0.0 MB, ]25.72 / 0.00 ms … reason` */
const TRACE_LINE =
  /^\[(\d+):0x[0-9a-f]+\]\s+(\d+) ms: ([A-Za-z -]+?)(?: \([a-z ]+\))? ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms in \d+ steps)?/;

const MiB = 1024 * 1024;

export interface GcEvent {
  pid: number;
  /** Milliseconds since the isolate started. */
  atMs: number;
  pauseMs: number;
  /** A Mark-Compact's incremental marking before its pause (`+ 98.9 ms in 27 steps`): most of a near-limit GC's work. */
  incrementalMs: number;
  /** Used heap before and after this GC (V8 prints MiB with one decimal). */
  beforeBytes: number;
  afterBytes: number;
  /** A full GC (Mark-Compact): what is left after it is what was live. */
  full: boolean;
}

export function parseTraceGcLine(line: string): GcEvent | undefined {
  const match = TRACE_LINE.exec(line);
  if (!match) return undefined;
  return {
    pid: Number(match[1]),
    atMs: Number(match[2]),
    pauseMs: Number(match[6]),
    incrementalMs: Number(match[7] ?? 0),
    beforeBytes: Math.round(Number(match[4]) * MiB),
    afterBytes: Math.round(Number(match[5]) * MiB),
    full: (match[3] ?? '').startsWith('Mark-Compact'),
  };
}

/** `--trace-gc` lines are ours, not the compiler's: keep them out of what the user sees. */
export function withoutTraceGc(output: string): string {
  return output.replace(/^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: .*\n?/gm, '');
}

/** One process's heap as its GC lines show it. */
export interface TracedHeap {
  /** The largest used heap before any GC. */
  peakUsedBytes: number;
  /** The program's own GCs and their total pause. */
  gcCount: number;
  gcMs: number;
  /** The largest heap left after a full GC: what was live then, so a heap limit below it cannot work. Null without a full GC. */
  retainedBytes: number | null;
}

/** Folds GC events, line by line, into each process's heap figures. */
export class TraceGcHeaps {
  readonly byPid = new Map<number, TracedHeap>();

  observe(event: GcEvent): void {
    const heap = this.byPid.get(event.pid) ?? { peakUsedBytes: 0, gcCount: 0, gcMs: 0, retainedBytes: null };
    heap.peakUsedBytes = Math.max(heap.peakUsedBytes, event.beforeBytes);
    heap.gcCount++;
    heap.gcMs += event.pauseMs;
    if (event.full) heap.retainedBytes = Math.max(heap.retainedBytes ?? 0, event.afterBytes);
    this.byPid.set(event.pid, heap);
  }
}

/** When a run counts as thrashing: GC took `share` of the last `windowMs`, its incremental marking counted or not. */
export interface ThrashRule {
  windowMs: number;
  share: number;
  incremental: boolean;
}

/** A measured run: only GC pauses, 70 % of 4 s: V8 near its limit, never a healthy check. */
export const RUN_THRASH: ThrashRule = { windowMs: 4000, share: 0.7, incremental: false };

/**
 * A --find-min-heap probe: GC pauses and incremental marking, half of the last 2 s. Near its limit a check's GC
 * work is mostly incremental marking (zod: pauses peaked at 13-18 % of a window, with marking at 52-69 %), so the
 * run guard never fired and a failing probe crawled on for 1.5 × a run. On zod (npm run bench:min-heap's sources),
 * this rule stopped the checks at 330 and 360 MiB (GC 50 % of 2 s at 8.8 and 8.5 s of 10.8 and 9.8 s) and let
 * those at 377 and 400 MiB run (at most 49 % and 32 %): the smallest heap found is one the check runs with without
 * spending half its time in GC.
 */
export const PROBE_THRASH: ThrashRule = { windowMs: 2000, share: 0.5, incremental: true };

export interface Thrash {
  windowMs: number;
  gcMs: number;
}

/** Feeds one process's GC events in order; reports thrash once GC filled the rule's share of its window. */
export class GcThrashDetector {
  private readonly events: Array<{ atMs: number; ms: number }> = [];
  private sum = 0;

  constructor(private readonly rule: ThrashRule = RUN_THRASH) {}

  observe(event: Pick<GcEvent, 'atMs' | 'pauseMs'> & Partial<Pick<GcEvent, 'incrementalMs'>>): Thrash | undefined {
    const { windowMs, share, incremental } = this.rule;
    const ms = event.pauseMs + (incremental ? (event.incrementalMs ?? 0) : 0);
    this.events.push({ atMs: event.atMs, ms });
    this.sum += ms;
    while (this.events.length > 0 && this.events[0]!.atMs < event.atMs - windowMs) this.sum -= this.events.shift()!.ms;
    if (event.atMs < windowMs) return undefined;
    return this.sum >= share * windowMs ? { windowMs, gcMs: Math.round(this.sum) } : undefined;
  }
}
