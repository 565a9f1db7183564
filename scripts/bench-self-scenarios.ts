/**
 * The scenarios of `npm run bench:self` as typed data, apart from the harness (scripts/bench-self.ts: arguments,
 * running, printing). Two tables keyed by scenario id, so `--scenario` and the usage line take their ids from
 * the tables and no second list can drift:
 * - FIDELITY: whole `memtune bench` runs against the user's bare command on real sources, run and printed by
 *   scripts/bench-self-fidelity.ts;
 * - PAIRED: on examples/monorepo, steps sampled in interleaved pairs, each comparison a ratio against a target,
 *   built from what the harness provides (the resolved packages and its ways of measuring them).
 * Importing this file runs nothing, so `--help` and the id check need neither dist/ nor the example.
 */
import { join } from 'node:path';
import type { MeasureSpec } from '../src/bench/effects/measure.js';
import type { BenchTarget } from '../src/bench/effects/plan.js';
import type { BenchTask } from '../src/bench/task.js';
import type { BenchReport, RunFigures } from '../src/bench/types.js';
import type { RealSources } from './real-sources.js';

// Fidelity scenarios.

interface FidelityDefinition {
  subject: string;
  /** Runs per memtune bench invocation (its --runs); the bare command runs as often per round. */
  runsPerRound: number;
  rounds: number;
  /** `memtune bench` arguments and where it runs; `pick` takes the measured runs from its report. */
  memtune: { cwd: string; args: string[]; pick: (report: BenchReport) => RunFigures[] | undefined };
  /**
   * The user's bare command: node arguments (the compiler and its own arguments), where it runs. `traceGc: false`:
   * the command puts `--trace-gc` on the compiler's node itself (one started by `memtune run`).
   */
  bare: { cwd: string; args: (fresh: () => string) => string[]; traceGc?: false };
  /** Set for both sides (after the environment is cleaned of NODE_OPTIONS and MEMTUNE_*). */
  env?: Record<string, string>;
}

export interface FidelityScenario extends FidelityDefinition {
  id: FidelityId;
}

const MEMTUNE = join(import.meta.dirname, '..', 'bin', 'memtune.js');
const tsc = (sources: RealSources) => join(sources.root, 'node_modules', 'typescript', 'bin', 'tsc');
const byName = (name: string) => (report: BenchReport) => report.packages.find((pkg) => pkg.name === name)?.runs;

/** Each built from the prepared sources and `--runs`. */
const FIDELITY = {
  'fidelity-check': (sources, runs) => ({
    subject: 'zod 4.6.7 src/ (type-heavy), TypeScript 5.9.3, tsc -p --noEmit',
    runsPerRound: 1,
    rounds: runs,
    memtune: { cwd: sources.root, args: ['bench', '--filter', '@real/zod', '--runs', '1'], pick: byName('@real/zod') },
    bare: { cwd: sources.zod, args: () => [tsc(sources), '-p', 'tsconfig.json', '--noEmit'] },
  }),
  'fidelity-composite': (sources, runs) => ({
    subject: 'react-query 5.108.4 src/ (composite, references query-core), TypeScript 5.9.3, --runs 3',
    runsPerRound: 3,
    rounds: Math.ceil(runs / 3),
    memtune: { cwd: sources.root, args: ['bench', '--filter', '@real/react-query', '--runs', '3'], pick: byName('@real/react-query') },
    // Cold, as the first run in CI is: build info to a file nothing has written yet.
    bare: { cwd: sources.reactQuery, args: (fresh) => [tsc(sources), '-p', 'tsconfig.json', '--noEmit', '--tsBuildInfoFile', fresh()] },
  }),
  'fidelity-build': (sources, runs) => ({
    subject: 'query-core + react-query, TypeScript 5.9.3, tsc -b --force (multi-project)',
    runsPerRound: 1,
    rounds: runs,
    memtune: {
      cwd: sources.root,
      args: ['bench', '--solution', '--filter', '@real/query-core', '--runs', '1'],
      pick: (report) => report.solution?.runs,
    },
    bare: { cwd: sources.root, args: () => [tsc(sources), '-b', 'tsconfig.json', '--force'] },
  }),
  // --package: the bench a per-package turbo task runs, started in the package itself.
  'fidelity-package': (sources, runs) => ({
    subject: 'zod 4.6.7 src/, TypeScript 5.9.3, memtune bench --package started in the package',
    runsPerRound: 1,
    rounds: runs,
    memtune: { cwd: sources.zod, args: ['bench', '--package', '--runs', '1'], pick: byName('@real/zod') },
    bare: { cwd: sources.zod, args: () => [tsc(sources), '-p', 'tsconfig.json', '--noEmit'] },
  }),
  // --profile: the check under the heap `memtune run typecheck` gives it, here from NODE_OPTIONS (below zod's
  // default-heap peak of ~400 MiB, so the cap shapes the run), against the user's `memtune run typecheck -- tsc`.
  'fidelity-profile': (sources, runs) => ({
    subject: 'zod 4.6.7 src/, TypeScript 5.9.3, under memtune run typecheck with NODE_OPTIONS=--max-old-space-size=384',
    runsPerRound: 1,
    rounds: runs,
    env: { NODE_OPTIONS: '--max-old-space-size=384' },
    memtune: { cwd: sources.root, args: ['bench', '--profile', 'typecheck', '--filter', '@real/zod', '--runs', '1'], pick: byName('@real/zod') },
    // memtune run starts the command as written: `--trace-gc` on the compiler's own node, where NODE_OPTIONS cannot take it.
    bare: {
      cwd: sources.zod,
      args: () => [MEMTUNE, 'run', 'typecheck', '--', process.execPath, '--trace-gc', tsc(sources), '-p', 'tsconfig.json', '--noEmit'],
      traceGc: false,
    },
  }),
} satisfies Record<string, (sources: RealSources, runs: number) => FidelityDefinition>;

// Paired scenarios.

export type Target = { kind: 'within'; fraction: number } | { kind: 'at-most'; ratio: number } | { kind: 'none'; why: string };

export interface Step {
  name: string;
  run: () => Promise<Record<string, number>>;
}

export interface Comparison {
  label: string;
  /** Sample keys: the ratio is `of / to`. */
  of: string;
  to: string;
  unit: 'MB' | 'ms';
  target: Target;
}

interface PairedDefinition {
  subject: string;
  pairs: number;
  steps: Step[];
  comparisons: Comparison[];
  notes?: string[];
}

export interface Scenario extends PairedDefinition {
  id: PairedId;
}

/** A package of examples/monorepo and how memtune bench sees it. */
export interface Subject {
  pkg: string;
  target: BenchTarget;
}

export const describe = (s: Subject) => `${s.pkg} (TypeScript ${s.target.compiler.version}, ${s.target.compiler.native ? 'native' : 'JS'})`;

/** A whole `memtune bench` of the example, timed from outside, with the package wall times it reports. */
export interface BenchRun {
  elapsedMs: number;
  packageWallMs: number[];
}

/** What the paired scenarios run on and with: scripts/bench-self.ts provides it once the example is built and dist/ loaded. */
export interface Harness {
  runs: number;
  cores: number;
  /** Whether the native launcher execve()s into the Go binary (Node >= 22.15) rather than waiting beside it. */
  launcherExecs: boolean;
  /** A package on a JS TypeScript and one on the native one. */
  js: Subject;
  native: Subject;
  /** examples/monorepo. */
  example: string;
  /** The Go binary the native launcher starts. */
  goExe: string;
  /** What memtune bench runs for a cold check of the package. */
  task: (s: Subject) => BenchTask;
  /** That task through memtune's measureRun, `spec` overriding parts of it; `elapsedMs` is timed from outside. */
  measured: (s: Subject, spec?: (t: BenchTask) => Partial<MeasureSpec>) => Promise<{ figures: Omit<RunFigures, 'parallel'>; elapsedMs: number }>;
  /** GNU time's %M for the command, in the task's cwd and env. */
  gnuTimeRssBytes: (command: string, args: string[], t: BenchTask) => number;
  /** The task's compiler command with nothing of memtune around it. */
  bareMs: (s: Subject) => number;
  bench: (concurrency: number, compiler?: string) => BenchRun;
  /** The example's packages checked by `compiler` with nothing of memtune around them, in `lanes` parallel lanes. */
  bareCompilersMs: (compiler: string, lanes: number) => Promise<number>;
}

/** The JS compiler the concurrency-js scenario forces on every package. */
const JS_COMPILER = join(import.meta.dirname, '..', 'node_modules', 'typescript-6');

const rss = (bytes: number | null | undefined) => {
  if (!bytes) throw new Error('no peak RSS figure');
  return bytes;
};

/**
 * The best 2 workers could do with the sequential run's own figures: its fixed cost (start-up, discovery)
 * plus the longer of the longest package and half of all packages' time.
 */
function twoWorkerFloorMs(sequential: BenchRun): number {
  const sum = sequential.packageWallMs.reduce((a, b) => a + b, 0);
  return sequential.elapsedMs - sum + Math.max(Math.max(...sequential.packageWallMs), sum / 2);
}

/** A measured run of the package against the bare compiler, interleaved. */
function wallScenario(h: Harness, subject: Subject): PairedDefinition {
  return {
    subject: describe(subject),
    pairs: Math.max(20, 2 * h.runs),
    steps: [
      {
        name: 'measured',
        run: async () => {
          const { figures, elapsedMs } = await h.measured(subject);
          return { elapsed: elapsedMs, reported: figures.wallMs };
        },
      },
      { name: 'bare', run: async () => ({ bare: h.bareMs(subject) }) },
    ],
    comparisons: [
      { label: 'wall: measured run (elapsed) / bare compiler', of: 'elapsed', to: 'bare', unit: 'ms', target: { kind: 'at-most', ratio: 1.05 } },
      { label: 'wall: reported wallMs / bare compiler', of: 'reported', to: 'bare', unit: 'ms', target: { kind: 'within', fraction: 0.05 } },
    ],
  };
}

/** The whole example benched at --concurrency 2 against 1 (with --compiler when given), plus any extra steps. */
function concurrencyScenario(h: Harness, subject: string, compiler: string | undefined, steps: Step[], comparisons: Comparison[], notes: string[]): PairedDefinition {
  return {
    subject,
    pairs: Math.max(3, Math.ceil(h.runs / 3)),
    steps: [
      { name: '--concurrency 2', run: async () => ({ parallel: h.bench(2, compiler).elapsedMs }) },
      {
        name: '--concurrency 1',
        run: async () => {
          const sequential = h.bench(1, compiler);
          return { sequential: sequential.elapsedMs, floor: twoWorkerFloorMs(sequential) };
        },
      },
      ...steps,
    ],
    comparisons: [
      { label: 'wall: memtune bench --concurrency 2 / 1', of: 'parallel', to: 'sequential', unit: 'ms', target: { kind: 'at-most', ratio: 0.65 } },
      { label: 'wall: 2-worker floor / --concurrency 1', of: 'floor', to: 'sequential', unit: 'ms', target: { kind: 'none', why: 'the best any scheduler can do' } },
      ...comparisons,
    ],
    notes,
  };
}

/** Each id's scenarios, in the order they run and print. */
const PAIRED = {
  rss: (h) => [
    {
      subject: describe(h.native),
      pairs: h.runs,
      steps: [
        { name: 'memtune tsc', run: async () => ({ tree: rss((await h.measured(h.native)).figures.peakRssBytes) }) },
        {
          name: 'GNU time tsc',
          run: async () => {
            const t = h.task(h.native);
            return { time: h.gnuTimeRssBytes(t.command, t.args, t) };
          },
        },
        // The Go binary started directly, without the launcher: its arguments are the launcher's minus bin/tsc.
        {
          name: 'memtune Go',
          run: async () => ({ goTree: rss((await h.measured(h.native, (t) => ({ command: h.goExe, args: t.args.slice(1) }))).figures.peakRssBytes) }),
        },
        {
          name: 'GNU time Go',
          run: async () => {
            const t = h.task(h.native);
            return { goTime: h.gnuTimeRssBytes(h.goExe, t.args.slice(1), t) };
          },
        },
      ],
      comparisons: [
        {
          label: 'peak RSS: measureRun tree / GNU time, via the node launcher',
          of: 'tree',
          to: 'time',
          unit: 'MB',
          target: h.launcherExecs ? { kind: 'within', fraction: 0.03 } : { kind: 'none', why: 'launcher + Go vs the larger one (see note)' },
        },
        { label: 'peak RSS: /proc sampler / GNU time, Go binary alone', of: 'goTree', to: 'goTime', unit: 'MB', target: { kind: 'within', fraction: 0.03 } },
      ],
      notes: [
        `The native tsc is a node launcher (bin/tsc) that starts the Go binary ${h.goExe.slice(h.example.length + 1)}.`,
        h.launcherExecs
          ? `On Node ${process.versions.node} the launcher execve()s into the Go binary: one process, so memtune's tree figure and GNU time's %M measure the same thing.`
          : `On Node ${process.versions.node} (< 22.15, no process.execve) the launcher stays alive in execFileSync beside the Go binary: memtune's tree figure is launcher + Go, ` +
            "the memory the tree holds at once, while GNU time %M reports only the largest single process (the launcher or Go), so the launcher row is expected above 1 by about the launcher's RSS. " +
            'The Go-binary-alone row is the like-for-like check of the /proc sampler.',
        'The Go binary has no probe: its peak RSS comes from /proc VmHWM polled every 20 ms, so only growth in the last interval before exit can be missed.',
      ],
    },
  ],
  wall: (h) => [wallScenario(h, h.js), wallScenario(h, h.native)],
  concurrency: (h) => [
    concurrencyScenario(
      h,
      `examples/monorepo, 4 packages, ${h.cores} cores`,
      undefined,
      [],
      [],
      [
        "The 2-worker floor is the sequential run minus its packages' wall times plus max(longest package, half their sum): " +
          'when one package takes most of the time, no concurrency gets below it.',
      ],
    ),
  ],
  'concurrency-js': (h) => [
    concurrencyScenario(
      h,
      `examples/monorepo, 4 packages all on TypeScript 6.0.3 (JS), ${h.cores} cores`,
      JS_COMPILER,
      [
        { name: 'bare compilers, 2 lanes', run: async () => ({ bareParallel: await h.bareCompilersMs(JS_COMPILER, 2) }) },
        { name: 'bare compilers, 1 lane', run: async () => ({ bareSequential: await h.bareCompilersMs(JS_COMPILER, 1) }) },
      ],
      [
        {
          label: 'wall: bare compilers 2 at once / one after another',
          of: 'bareParallel',
          to: 'bareSequential',
          unit: 'ms',
          target: { kind: 'none', why: 'what this machine gives, without memtune' },
        },
      ],
      [
        'With --compiler every package is checked by the same JavaScript compiler, so the four take similar time: ' +
          'the case where running two at once pays most. Each still uses more than one core (V8 GC and JIT threads).',
      ],
    ),
  ],
} satisfies Record<string, (h: Harness) => PairedDefinition[]>;

// The ids, from the tables' keys (insertion order: fidelity first, as they run first).

export type FidelityId = keyof typeof FIDELITY;
export type PairedId = keyof typeof PAIRED;
export type ScenarioId = FidelityId | PairedId;

const keys = <T extends object>(table: T) => Object.keys(table) as (keyof T & string)[];
export const FIDELITY_IDS = keys(FIDELITY);
export const SCENARIO_IDS: readonly ScenarioId[] = [...FIDELITY_IDS, ...keys(PAIRED)];

export function fidelityScenarios(sources: RealSources, runs: number): FidelityScenario[] {
  return FIDELITY_IDS.map((id) => ({ id, ...FIDELITY[id](sources, runs) }));
}

export function pairedScenarios(h: Harness): Scenario[] {
  return keys(PAIRED).flatMap((id) => PAIRED[id](h).map((scenario) => ({ id, ...scenario })));
}
