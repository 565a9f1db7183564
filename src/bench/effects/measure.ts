import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readTextIfExists } from '../../shared/effects/read-text.js';
import { RunOutput, classifyExit } from '../parse.js';
import type { RunFigures } from '../types.js';
import { GcThrashDetector, type Thrash, type ThrashRule, type TracedHeap } from '../gc-trace.js';

export interface MeasureSpec {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /**
   * How the V8 heap is read. `argv`: a JS compiler run by us: `--trace-gc` on node's argv and nothing
   * else (no preload: one that loads node:v8 and registers an exit handler lowered a real `tsc -b`'s peak
   * RSS by 7 %). `node-options`: an npm script: a preload in every node of the tree through NODE_OPTIONS that
   * turns on --trace-gc where stdout is our pipe (node refuses the flag in NODE_OPTIONS). `none`: native.
   */
  probe: 'argv' | 'node-options' | 'none';
  /** Flags for node itself, before the script (`--max-old-space-size=N` of a --find-min-heap probe); only with probe `argv`. */
  nodeArgs?: string[];
  /** When GC thrash stops the run (default: the measured runs' rule). */
  thrash?: ThrashRule;
  signal?: AbortSignal;
}

export const PROBE_PATH = join(import.meta.dirname, 'probe.cjs');

/** How often the process tree's memory is read: often enough to see a compiler's peak, cheap enough not to slow it. */
const SAMPLE_MS = 20;

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
      const children = readTextIfExists(`/proc/${pids[i]}/task/${task}/children`);
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
      const status = readTextIfExists(`/proc/${pid}/status`);
      const hwm = status && /^VmHWM:\s+(\d+) kB/m.exec(status);
      if (hwm) this.peak.set(pid, Math.max(this.peak.get(pid) ?? 0, Number(hwm[1]) * 1024));
      const stat = readTextIfExists(`/proc/${pid}/stat`);
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

/** The node process that holds the largest heap is the compiler (under npm run, the others are npm and memtune). */
function compilerHeap(output: RunOutput): TracedHeap | undefined {
  let best: TracedHeap | undefined;
  for (const heap of output.heaps.byPid.values()) if (best === undefined || heap.peakUsedBytes > best.peakUsedBytes) best = heap;
  return best;
}

const heapLimits = new Map<string, number | null>();

/**
 * The V8 heap limit the measured node runs with, asked from the same binary with the same NODE_OPTIONS
 * in a process of its own (once per bench): the measured process itself is left alone.
 */
function heapLimitOf(node: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[]): number | null {
  const key = `${node}\0${env.NODE_OPTIONS ?? ''}\0${nodeArgs.join(' ')}`;
  if (!heapLimits.has(key)) {
    const result = spawnSync(node, [...nodeArgs, '-p', 'require("node:v8").getHeapStatistics().heap_size_limit'], { env, encoding: 'utf8', timeout: 30_000 });
    const bytes = Number(result.stdout.trim());
    heapLimits.set(key, result.status === 0 && bytes > 0 ? bytes : null);
  }
  return heapLimits.get(key)!;
}

/** The command as measured: `--trace-gc` on node's argv (JS compiler), or the preload in NODE_OPTIONS (an npm script). */
function measuredCommand(spec: MeasureSpec): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...spec.env };
  delete env.MEMTUNE_PROBE_STDOUT;
  // On node's own argv --trace-gc is allowed (NODE_OPTIONS refuses it): the peak heap and the GC-thrash guard.
  if (spec.probe === 'argv') return { args: ['--trace-gc', ...(spec.nodeArgs ?? []), ...spec.args], env };
  if (spec.probe === 'node-options') env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(PROBE_PATH)}`.trim();
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

/** A finished run's figures, from its output and the /proc samples. */
function runFigures(spec: MeasureSpec, ending: Ending, output: RunOutput, sampler: TreeSampler): Omit<RunFigures, 'parallel'> {
  const traced = compilerHeap(output);
  const { thrash } = ending;
  if (thrash) {
    output.note(
      `memtune stopped it: garbage collection took ${thrash.gcMs} ms of the last ${thrash.windowMs} ms (GC thrash near the heap limit; V8 would crawl on before giving up)`,
    );
  }
  const status = thrash ? 'oom' : classifyExit({ ...ending, outOfMemory: output.outOfMemory, configError: output.configError });
  const go = output.go.gcCount > 0 ? output.go : undefined;
  return {
    status,
    exitCode: ending.exitCode,
    signal: ending.signal,
    wallMs: Math.round(ending.elapsedMs),
    cpuMs: sampler.cpuMs,
    peakRssBytes: sampler.peakRssBytes,
    // Without its GC lines a process's heap peak is unknown.
    peakHeapUsedBytes: traced?.peakUsedBytes ?? null,
    retainedHeapBytes: traced?.retainedBytes ?? null,
    heapLimitBytes: spec.probe === 'argv' ? heapLimitOf(spec.command, spec.env, spec.nodeArgs ?? []) : null,
    gcCount: traced?.gcCount ?? go?.gcCount ?? null,
    gcMs: traced ? Math.round(traced.gcMs) : null,
    goHeapPeakBytes: go?.peakBytes ?? null,
    goHeapLiveBytes: go?.liveBytes ?? null,
    diagnostics: output.diagnostics,
    ...(status === 'ok' ? {} : { messages: output.messages(status === 'failed' || status === 'config-error' ? 'first' : 'last') }),
  };
}

/** How long a run's end waits for what is left of its process group to be reaped. */
const GROUP_GONE_MS = 5000;

/**
 * Resolves once no process of group `pgid` is left, or after GROUP_GONE_MS. A killed child of the compiler
 * (a launcher's Go binary, a script's node) is reparented to init and stays a zombie until init reaps it,
 * which took a second here: until then it still answers kill(pid, 0) and shows in ps with parent 1.
 */
async function groupGone(pgid: number): Promise<void> {
  const until = performance.now() + GROUP_GONE_MS;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    if (performance.now() > until) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Runs one command as a measured process tree in its own process group and returns its figures.
 * The timeout, GC thrash and an abort kill the whole group; when the command ends, anything it left in
 * its group is killed too, and the figures come only once the group is gone: nothing is left running.
 */
export function measureRun(spec: MeasureSpec): Promise<Omit<RunFigures, 'parallel'>> {
  const { args, env } = measuredCommand(spec);
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
      const detector = detectors.get(event.pid) ?? new GcThrashDetector(spec.thrash);
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
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      const elapsedMs = performance.now() - started;
      stop();
      output.end();
      // The kernel keeps each process's VmHWM: a last read of a process still there catches a late peak.
      if (child.pid !== undefined) sampler.sample(child.pid);
      const figures = runFigures(spec, { ...ending, exitCode, signal, elapsedMs }, output, sampler);
      killGroup();
      if (child.pid === undefined) resolve(figures);
      else void groupGone(child.pid).then(() => resolve(figures));
    });
  });
}
