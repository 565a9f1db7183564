import type { CompilerDiagnostics, RunStatus } from './types.js';
import { TraceGcHeaps, parseTraceGcLine, type GcEvent } from './gc-trace.js';
import { MiB } from '../shared/size.js';

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

const GO_GC_LINE = /^gc \d+ @[\d.]+s [\d.]+%: .*?, (\d+)->(\d+)->(\d+) MB/;

/** Folds `GODEBUG=gctrace=1` lines (`gc 3 @0.059s 11%: … 8->9->8 MB, …`) of the native compiler; false for any other line. */
export function observeGoGcLine(line: string, figures: GoHeapFigures): boolean {
  const match = GO_GC_LINE.exec(line);
  if (!match) return /^gc \d+ @/.test(line);
  figures.gcCount++;
  figures.peakBytes = Math.max(figures.peakBytes, Number(match[1]) * MiB, Number(match[2]) * MiB);
  figures.liveBytes = Math.max(figures.liveBytes, Number(match[3]) * MiB);
  return true;
}

/** Reads the gctrace lines of a whole output. */
export function parseGoGcTrace(output: string): GoHeapFigures | undefined {
  const figures: GoHeapFigures = { peakBytes: 0, liveBytes: 0, gcCount: 0 };
  for (const line of output.split('\n')) observeGoGcLine(line, figures);
  return figures.gcCount === 0 ? undefined : figures;
}

/** gctrace lines are ours, not the compiler's: keep them out of what the user sees. */
export function withoutGcTrace(output: string): string {
  return output.replace(/^gc \d+ @.*\n?/gm, '');
}

const DIAGNOSTIC_LINE = /^[ \t]*[A-Za-z][\w /()-]*:[ \t]+[\d.]+[KMGs]?[ \t]*$/;

/** The compiler's own messages without the --extendedDiagnostics block we asked for: what a failure shows. */
export function withoutDiagnostics(output: string): string {
  return output.replace(/^[ \t]*[A-Za-z][\w /()-]*:[ \t]+[\d.]+[KMGs]?[ \t]*\n?/gm, '');
}

/** How many lines of the compiler's messages a failed run keeps. */
export const MESSAGE_LINES = 20;

/**
 * An error the compiler reports against a tsconfig (invalid JSON, an `extends` it cannot find, an option
 * it refuses): the project could not be read, so its messages are not type errors. Plain or `--pretty`.
 */
const CONFIG_ERROR = /\.json(?:\(\d+,\d+\): | ?:\d+:\d+ - )error TS\d+|^error TS(?:5\d{3}|6053):/;

const NATIVE_FRAME = /^\s*\d+: 0x[0-9a-f]+ /;

const OUT_OF_MEMORY = /Reached heap limit|JavaScript heap out of memory|runtime: out of memory|fatal error: out of memory/;

/**
 * One measured run's output, read line by line as it arrives, each stream on its own so that a line of
 * one never lands inside a message of the other: node's `--trace-gc` lines (stdout) and Go's gctrace
 * lines (stderr) become figures, `--extendedDiagnostics` lines the diagnostics, the rest the compiler's
 * messages, of which the first and the last lines are kept (a long run's output is not held whole).
 */
export class RunOutput {
  readonly heaps = new TraceGcHeaps();
  readonly go: GoHeapFigures = { peakBytes: 0, liveBytes: 0, gcCount: 0 };
  private readonly diagnosticLines: string[] = [];
  private readonly head: string[] = [];
  private tail: string[] = [];
  private readonly pending = { stdout: '', stderr: '' };
  /** A line said the process ran out of memory. */
  outOfMemory = false;
  /** A line was an error in the tsconfig itself. */
  configError = false;

  /** `onGc` sees each node GC as it happens (the thrash guard). */
  constructor(private readonly onGc: (event: GcEvent) => void = () => {}) {}

  write(stream: 'stdout' | 'stderr', text: string): void {
    const lines = (this.pending[stream] + text).split('\n');
    this.pending[stream] = lines.pop() ?? '';
    for (const line of lines) this.line(stream, line);
  }

  /** The end of both streams: a last line without a newline is still a line. */
  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream] !== '') this.line(stream, this.pending[stream]);
      this.pending[stream] = '';
    }
  }

  /** A line memtune itself adds to the messages (why it stopped a run). */
  note(text: string): void {
    this.message(text);
  }

  get diagnostics(): CompilerDiagnostics {
    return parseExtendedDiagnostics(this.diagnosticLines.join('\n'));
  }

  /** The first MESSAGE_LINES lines (type errors: the first errors are the ones to read), or the last (a run that ended early says why at its end). */
  messages(which: 'first' | 'last'): string {
    const lines = which === 'first' ? this.head : this.tail;
    const picked = which === 'first' ? lines.slice(0, MESSAGE_LINES) : lines.slice(-MESSAGE_LINES);
    return picked.join('\n').trimEnd();
  }

  private line(stream: 'stdout' | 'stderr', raw: string): void {
    const line = raw.replace(/\r$/, '');
    if (stream === 'stdout') {
      const event = parseTraceGcLine(line);
      if (event) {
        this.heaps.observe(event);
        this.onGc(event);
        return;
      }
    } else if (observeGoGcLine(line, this.go)) {
      return;
    }
    if (DIAGNOSTIC_LINE.test(line)) {
      this.diagnosticLines.push(line);
      return;
    }
    this.message(line);
  }

  private message(line: string): void {
    if (OUT_OF_MEMORY.test(line)) this.outOfMemory = true;
    // V8's native stack after a fatal error (` 7: 0x10ea385 v8::internal::…`) would push the error itself out of the tail.
    if (NATIVE_FRAME.test(line)) return;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the colours of --pretty output start with ESC
    if (CONFIG_ERROR.test(line.replace(/\x1b\[[\d;]*m/g, ''))) this.configError = true;
    if (line.trim() === '' && this.head.length === 0) return;
    if (this.head.length < MESSAGE_LINES) this.head.push(line);
    this.tail.push(line);
    if (this.tail.length > 4 * MESSAGE_LINES) this.tail = this.tail.slice(-MESSAGE_LINES);
  }
}

export interface ExitFacts {
  exitCode: number | null;
  signal: string | null;
  /** We killed it because it ran past its time limit. */
  timedOut: boolean;
  /** We killed it because the user interrupted the bench. */
  interrupted: boolean;
  /** The output said so: V8's "Reached heap limit", the Go runtime's "out of memory". */
  outOfMemory: boolean;
  /** The compiler reported errors in the tsconfig itself. */
  configError: boolean;
}

/**
 * How a measured run ended. V8 at its heap limit aborts (SIGABRT, "Reached heap limit"), the Go
 * runtime prints "out of memory"; the kernel's or a container's OOM killer sends SIGKILL. Those are
 * different findings: the first is a heap setting, the second the machine's memory.
 */
export function classifyExit(facts: ExitFacts): RunStatus {
  if (facts.timedOut) return 'timeout';
  if (facts.outOfMemory) return 'oom';
  if (facts.signal === 'SIGABRT') return 'oom';
  if (facts.signal === 'SIGKILL' && !facts.interrupted) return 'killed';
  if (facts.signal !== null) return 'crashed';
  if (facts.exitCode === 0) return 'ok';
  return facts.configError ? 'config-error' : 'failed';
}
