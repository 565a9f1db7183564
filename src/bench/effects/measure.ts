import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunOutput, classifyExit } from '../parse.js';
import type { RunFigures } from '../types.js';
import { GcThrashDetector, type Thrash, type TracedHeap } from '../gc-trace.js';

export interface MeasureSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /**
   * `argv`: a JS compiler run by us: `--trace-gc` and the exit-time probe on node's argv. `node-options`:
   * an npm script: the probe in every node of the tree through NODE_OPTIONS (it turns on --trace-gc where
   * stdout is our pipe). `none`: the native compiler.
   */
  probe: 'argv' | 'node-options' | 'none';
  signal?: AbortSignal;
}

export const PROBE_PATH = join(import.meta.dirname, 'probe.cjs');

/** How often the process tree's memory is read: often enough to see a compiler's peak, cheap enough not to slow it. */
const SAMPLE_MS = 20;

interface ProbeFigures {
  pid: number;
  usedAtExitBytes: number;
  retainedHeapBytes: number;
  heapLimitBytes: number;
  cpuMs: number;
  maxRssBytes: number;
  exitHandlerMs: number;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants, through /proc/<pid>/task/<tid>/children. */
function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pids[i]}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      const children = readProc(`/proc/${pids[i]}/task/${task}/children`);
      if (children) for (const child of children.trim().split(/\s+/)) if (child) pids.push(Number(child));
    }
  }
  return pids;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Samples a process tree: each process's own peak RSS (VmHWM, kept by the kernel between samples) and
 * CPU time. The tree's peak is the sum of its processes' peaks: for a launcher beside the native
 * compiler (or npm → sh → node) that is the memory the tree holds at once, give or take the idle parents.
 */
class TreeSampler {
  private readonly peak = new Map<number, number>();
  private readonly cpu = new Map<number, number>();

  sample(root: number): void {
    for (const pid of processTree(root)) {
      const status = readProc(`/proc/${pid}/status`);
      const hwm = status && /^VmHWM:\s+(\d+) kB/m.exec(status);
      if (hwm) this.peak.set(pid, Math.max(this.peak.get(pid) ?? 0, Number(hwm[1]) * 1024));
      const stat = readProc(`/proc/${pid}/stat`);
      if (stat) {
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(fields[11]) + Number(fields[12]);
        if (Number.isFinite(ticks)) this.cpu.set(pid, (ticks * 1000) / CLOCK_TICKS_PER_SECOND);
      }
    }
  }

  get peakRssBytes(): number | null {
    return this.peak.size === 0 ? null : [...this.peak.values()].reduce((a, b) => a + b, 0);
  }

  get cpuMs(): number | null {
    return this.cpu.size === 0 ? null : [...this.cpu.values()].reduce((a, b) => a + b, 0);
  }
}

function readProbes(dir: string): ProbeFigures[] {
  const figures: ProbeFigures[] = [];
  for (const file of readdirSync(dir)) {
    try {
      figures.push(JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProbeFigures);
    } catch {
      // A process killed while writing leaves a partial file: it has no figures to give.
    }
  }
  return figures;
}

/** The node process that holds the largest heap is the compiler (under npm run, the others are npm and memtune). */
function compilerHeap(output: RunOutput, probes: readonly ProbeFigures[]): { probe: ProbeFigures | undefined; traced: TracedHeap | undefined } {
  let best: { probe: ProbeFigures | undefined; traced: TracedHeap | undefined; peak: number } | undefined;
  const pids = new Set([...output.heaps.byPid.keys(), ...probes.map((probe) => probe.pid)]);
  for (const pid of pids) {
    const probe = probes.find((p) => p.pid === pid);
    const traced = output.heaps.byPid.get(pid);
    const peak = Math.max(traced?.peakUsedBytes ?? 0, probe?.usedAtExitBytes ?? 0);
    if (best === undefined || peak > best.peak) best = { probe, traced, peak };
  }
  return { probe: best?.probe, traced: best?.traced };
}

/** The command as measured: the probe on node's argv (JS compiler) or in NODE_OPTIONS (an npm script). */
function measuredCommand(spec: MeasureSpec, probeDir: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...spec.env, MEMTUNE_PROBE_DIR: probeDir };
  delete env.MEMTUNE_PROBE_STDOUT;
  // On node's own argv --trace-gc is allowed (NODE_OPTIONS refuses it): the peak heap and the GC-thrash guard.
  if (spec.probe === 'argv') return { args: ['--trace-gc', '--require', PROBE_PATH, ...spec.args], env };
  if (spec.probe === 'node-options') {
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(PROBE_PATH)}`.trim();
    env.MEMTUNE_PROBE_TRACE_GC = 'stdout';
  }
  return { args: spec.args, env };
}

interface Ending {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  elapsedMs: number;
  timedOut: boolean;
  interrupted: boolean;
  thrash: Thrash | undefined;
}

/** A finished run's figures, from its output, the probes' files and the /proc samples. */
function runFigures(spec: MeasureSpec, ending: Ending, output: RunOutput, probes: ProbeFigures[], sampler: TreeSampler): Omit<RunFigures, 'parallel'> {
  const { probe, traced } = compilerHeap(output, probes);
  const { thrash } = ending;
  if (thrash) {
    output.note(`memtune stopped it: garbage collection took ${thrash.gcMs} ms of the last ${thrash.windowMs} ms (GC thrash near the heap limit; V8 would crawl on before giving up)`);
  }
  const status = thrash ? 'oom' : classifyExit({ ...ending, outOfMemory: output.outOfMemory, configError: output.configError });
  const polledPeak = sampler.peakRssBytes;
  const probePeak = probes.length > 0 ? Math.max(...probes.map((p) => p.maxRssBytes)) : null;
  // The kernel's own maxRSS at exit (from the probe) sees the last moments that polling can miss.
  const peakRssBytes = probes.length === 1 && spec.probe === 'argv' ? Math.max(probePeak ?? 0, polledPeak ?? 0) : (polledPeak ?? probePeak);
  const go = output.go.gcCount > 0 ? output.go : undefined;
  // Without its GC lines a process's heap peak is unknown: the heap at exit is not a peak.
  const peakHeapUsedBytes = traced ? Math.max(traced.peakUsedBytes, probe?.usedAtExitBytes ?? 0) : null;
  return {
    status,
    exitCode: ending.exitCode,
    signal: ending.signal,
    // Our full GC at exit is measurement, not the compiler's work.
    wallMs: Math.round(ending.elapsedMs - (probes.length === 1 && probe ? probe.exitHandlerMs : 0)),
    cpuMs: spec.probe === 'argv' && probe ? Math.round(probe.cpuMs) : sampler.cpuMs,
    peakRssBytes,
    peakHeapUsedBytes,
    retainedHeapBytes: probe?.retainedHeapBytes ?? traced?.retainedBytes ?? null,
    heapLimitBytes: probe?.heapLimitBytes ?? null,
    gcCount: traced?.gcCount ?? go?.gcCount ?? null,
    gcMs: traced ? Math.round(traced.gcMs) : null,
    goHeapPeakBytes: go?.peakBytes ?? null,
    goHeapLiveBytes: go?.liveBytes ?? null,
    diagnostics: output.diagnostics,
    ...(status === 'ok' ? {} : { messages: output.messages(status === 'failed' || status === 'config-error' ? 'first' : 'last') }),
  };
}

/**
 * Runs one command as a measured process tree in its own process group and returns its figures.
 * The timeout, GC thrash and an abort kill the whole group; nothing is left running.
 */
export function measureRun(spec: MeasureSpec): Promise<Omit<RunFigures, 'parallel'>> {
  const probeDir = mkdtempSync(join(tmpdir(), 'memtune-probe-'));
  const { args, env } = measuredCommand(spec, probeDir);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(spec.command, args, { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const ending = { timedOut: false, interrupted: false, thrash: undefined as Thrash | undefined };
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const detectors = new Map<number, GcThrashDetector>();
    const output = new RunOutput((event) => {
      if (ending.thrash) return;
      const detector = detectors.get(event.pid) ?? new GcThrashDetector();
      detectors.set(event.pid, detector);
      ending.thrash = detector.observe(event);
      if (ending.thrash) killGroup();
    });
    child.stdout.on('data', (chunk: Buffer) => output.write('stdout', chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.write('stderr', chunk.toString('utf8')));
    const sampler = new TreeSampler();
    const sampling = setInterval(() => child.pid !== undefined && sampler.sample(child.pid), SAMPLE_MS);
    const timer = setTimeout(() => {
      ending.timedOut = true;
      killGroup();
    }, spec.timeoutMs);
    const onAbort = () => {
      ending.interrupted = true;
      killGroup();
    };
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    if (child.pid !== undefined) sampler.sample(child.pid);
    const stop = () => {
      clearInterval(sampling);
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
    };

    child.on('error', (error) => {
      stop();
      rmSync(probeDir, { recursive: true, force: true });
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      const elapsedMs = performance.now() - started;
      stop();
      output.end();
      const probes = readProbes(probeDir);
      rmSync(probeDir, { recursive: true, force: true });
      resolve(runFigures(spec, { ...ending, exitCode, signal, elapsedMs }, output, probes, sampler));
    });
  });
}
