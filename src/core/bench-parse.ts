import type { CompilerDiagnostics, RunStatus } from './bench-types.js';

const MiB = 1024 * 1024;

/** `--extendedDiagnostics` lines we keep, per name printed by TS 5.x/6.x (JS) and 7.x (native). */
const COUNTS: Record<string, keyof CompilerDiagnostics> = {
  Files: 'files',
  'Lines of TypeScript': 'lines',
  Lines: 'lines',
  Identifiers: 'identifiers',
  Symbols: 'symbols',
  Types: 'types',
  Instantiations: 'instantiations',
};

/**
 * Reads the compiler's own figures from `--extendedDiagnostics` output. Under `tsc -b` (several
 * projects) each repeated figure is summed, as TS 7's "Aggregate" does; times and memory take the last.
 */
export function parseExtendedDiagnostics(output: string): CompilerDiagnostics {
  const result: CompilerDiagnostics = {};
  for (const line of output.split('\n')) {
    const match = /^([A-Za-z][A-Za-z /]*?):\s+([\d.]+)([KMGs]?)\s*$/.exec(line.trim());
    if (!match) continue;
    const [, name = '', number = '', unit = ''] = match;
    const value = Number(number);
    const key = COUNTS[name];
    if (key) {
      result[key] = (result[key] ?? 0) + value;
    } else if (name === 'Memory used') {
      const factor = unit === 'K' ? 1024 : unit === 'M' ? MiB : unit === 'G' ? 1024 * MiB : 1;
      result.memoryUsedBytes = value * factor;
    } else if (name === 'Check time' && unit === 's') {
      result.checkTimeMs = (result.checkTimeMs ?? 0) + Math.round(value * 1000);
    } else if (name === 'Total time' && unit === 's') {
      result.totalTimeMs = (result.totalTimeMs ?? 0) + Math.round(value * 1000);
    }
  }
  return result;
}

export interface GoHeapFigures {
  /** The largest heap at the start of a GC (`X` in `X->Y->Z MB`). */
  peakBytes: number;
  /** The largest live heap after a GC (`Z`). */
  liveBytes: number;
  gcCount: number;
}

/** Reads `GODEBUG=gctrace=1` lines (`gc 3 @0.059s 11%: … 8->9->8 MB, …`) of the native compiler. */
export function parseGoGcTrace(output: string): GoHeapFigures | undefined {
  let peak = 0;
  let live = 0;
  let count = 0;
  for (const match of output.matchAll(/^gc \d+ @[\d.]+s [\d.]+%: .*?, (\d+)->(\d+)->(\d+) MB/gm)) {
    count++;
    peak = Math.max(peak, Number(match[1]), Number(match[2]));
    live = Math.max(live, Number(match[3]));
  }
  return count === 0 ? undefined : { peakBytes: peak * MiB, liveBytes: live * MiB, gcCount: count };
}

/** gctrace lines are ours, not the compiler's: keep them out of what the user sees. */
export function withoutGcTrace(output: string): string {
  return output.replace(/^gc \d+ @.*\n?/gm, '');
}

/** The compiler's own messages without the --extendedDiagnostics block we asked for: what a failure shows. */
export function withoutDiagnostics(output: string): string {
  return output.replace(/^[ \t]*[A-Za-z][\w /()-]*:[ \t]+[\d.]+[KMGs]?[ \t]*\n?/gm, '');
}

export interface ExitFacts {
  exitCode: number | null;
  signal: string | null;
  /** We killed it because it ran past its time limit. */
  timedOut: boolean;
  /** We killed it because the user interrupted the bench. */
  interrupted: boolean;
  output: string;
}

/**
 * How a measured run ended. V8 at its heap limit aborts (SIGABRT, "Reached heap limit"), the Go
 * runtime prints "out of memory"; the kernel's or a container's OOM killer sends SIGKILL. Those are
 * different findings: the first is a heap setting, the second the machine's memory.
 */
export function classifyExit(facts: ExitFacts): RunStatus {
  if (facts.timedOut) return 'timeout';
  if (/Reached heap limit|JavaScript heap out of memory|runtime: out of memory|fatal error: out of memory/.test(facts.output)) return 'oom';
  if (facts.signal === 'SIGABRT') return 'oom';
  if (facts.signal === 'SIGKILL' && !facts.interrupted) return 'killed';
  if (facts.signal !== null) return 'crashed';
  return facts.exitCode === 0 ? 'ok' : 'failed';
}

/** The last `lines` non-empty lines of a process's output, for a failure message. */
export function outputTail(output: string, lines = 12): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}
