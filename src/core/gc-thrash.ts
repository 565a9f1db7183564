/**
 * A V8 heap that is just too small does not fail fast: the program crawls on in back-to-back full GCs
 * (a 16 s type-check ran 62 s before V8 gave up). `--trace-gc` prints each GC as it happens, even
 * while a synchronous compiler blocks its event loop; from those lines this tells when GC has taken
 * most of the recent time, so the run can be stopped and reported as out of memory.
 */

/** `[pid:0xisolate]  1234 ms: Mark-Compact 47.4 (66.7) -> 31.0 (66.9) MB, [pooled: 0.0 MB, ]25.72 / 0.00 ms …` */
const TRACE_LINE = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: [A-Za-z -]+?(?: \([a-z ]+\))? [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

export interface GcEvent {
  /** Milliseconds since the isolate started. */
  atMs: number;
  pauseMs: number;
}

export function parseTraceGcLine(line: string): GcEvent | undefined {
  const match = TRACE_LINE.exec(line);
  return match ? { atMs: Number(match[1]), pauseMs: Number(match[2]) } : undefined;
}

/** `--trace-gc` lines are ours, not the compiler's: keep them out of what the user sees. */
export function withoutTraceGc(output: string): string {
  return output.replace(/^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: .*\n?/gm, '');
}

export const THRASH_WINDOW_MS = 4000;
export const THRASH_SHARE = 0.7;

export interface Thrash {
  windowMs: number;
  gcMs: number;
}

/** Feeds GC events in order; reports thrash once GC pauses filled THRASH_SHARE of the last THRASH_WINDOW_MS. */
export class GcThrashDetector {
  private readonly events: GcEvent[] = [];
  private sum = 0;

  observe(event: GcEvent): Thrash | undefined {
    this.events.push(event);
    this.sum += event.pauseMs;
    while (this.events.length > 0 && this.events[0]!.atMs < event.atMs - THRASH_WINDOW_MS) this.sum -= this.events.shift()!.pauseMs;
    if (event.atMs < THRASH_WINDOW_MS) return undefined;
    return this.sum >= THRASH_SHARE * THRASH_WINDOW_MS ? { windowMs: THRASH_WINDOW_MS, gcMs: Math.round(this.sum) } : undefined;
  }
}
