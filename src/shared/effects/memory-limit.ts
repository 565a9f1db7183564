import { totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseMemoryLimitEnv } from '../size.js';
import { TASK_LIMITS_VAR, parseTaskLimits, taskLimitOf } from '../task-limits.js';
import { readTextIfExists as readText } from './read-text.js';

export type MemoryLimitSource = 'task-share' | 'env' | 'cgroup-v2' | 'cgroup-v1' | 'constrained-memory' | 'total-memory';

export interface MemoryLimit {
  bytes: number;
  source: MemoryLimitSource;
  /** Where the figure was read: a file path, an environment variable or a Node API. */
  detail: string;
  /** With a task share: the heap (MiB) the package's measured peak needs, which the share must not undercut. */
  heapMiB?: number;
}

export interface DetectMemoryLimitOptions {
  env?: NodeJS.ProcessEnv;
  /** Directory standing in for `/`: tests point it at fixture trees of cgroup files. */
  root?: string;
  /** `process.constrainedMemory()`; undefined where Node lacks it. */
  constrainedMemory?: () => number | undefined;
  totalMemory?: () => number;
  /**
   * The package the limit is for: under an outer `memtune run … -- turbo run …` (MEMTUNE_TASK_LIMITS set, the
   * package under its root) the package's room beside the other tasks wins over every other source.
   */
  packageDir?: string;
}

/**
 * cgroup v1 writes "unlimited" as a page-aligned LONG_MAX (9223372036854771712 here), and Node 20's
 * `process.constrainedMemory()` returns about 2^64 for "no constraint". Anything this large is no limit.
 */
const UNLIMITED_THRESHOLD = 2 ** 60;

function parseLimitValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  if (value === '' || value === 'max') return undefined;
  const bytes = Number(value);
  if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= UNLIMITED_THRESHOLD) return undefined;
  return bytes;
}

/** The cgroup path of this process for one hierarchy: `''` for v2, a controller name for v1. */
function cgroupPath(procSelfCgroup: string, controller: string): string | undefined {
  for (const line of procSelfCgroup.split('\n')) {
    const [id, controllers, path] = splitCgroupLine(line);
    if (id === undefined || path === undefined) continue;
    if (controller === '' ? id === '0' && controllers === '' : (controllers ?? '').split(',').includes(controller)) {
      return path;
    }
  }
  return undefined;
}

function splitCgroupLine(line: string): [string, string, string] | [] {
  const first = line.indexOf(':');
  const second = line.indexOf(':', first + 1);
  if (first < 0 || second < 0) return [];
  return [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1).trim()];
}

/** The smallest limit on the way from `dir` up to `top`: a parent's limit binds its children too. */
function smallestLimitUpwards(top: string, relative: string, file: string): { bytes: number; path: string } | undefined {
  const parts = relative.split('/').filter(Boolean);
  let best: { bytes: number; path: string } | undefined;
  for (let depth = parts.length; depth >= 0; depth--) {
    const path = join(top, ...parts.slice(0, depth), file);
    const bytes = parseLimitValue(readText(path));
    if (bytes !== undefined && (best === undefined || bytes < best.bytes)) best = { bytes, path };
  }
  return best;
}

/** The path as the process sees it, without the fixture root that tests put in front. */
function asAbsolute(root: string, path: string): string {
  return `/${relative(root, path)}`;
}

function detectCgroupLimit(root: string): MemoryLimit | undefined {
  const self = readText(join(root, 'proc/self/cgroup'));
  if (self === undefined) return undefined;
  const v2 = cgroupPath(self, '');
  if (v2 !== undefined && readText(join(root, 'sys/fs/cgroup/cgroup.controllers')) !== undefined) {
    // Inside a container the namespace root is mounted at /sys/fs/cgroup and the path reads "/".
    const found = smallestLimitUpwards(join(root, 'sys/fs/cgroup'), v2, 'memory.max');
    return found && { bytes: found.bytes, source: 'cgroup-v2', detail: asAbsolute(root, found.path) };
  }
  const v1 = cgroupPath(self, 'memory');
  if (v1 !== undefined) {
    const found = smallestLimitUpwards(join(root, 'sys/fs/cgroup/memory'), v1, 'memory.limit_in_bytes');
    return found && { bytes: found.bytes, source: 'cgroup-v1', detail: asAbsolute(root, found.path) };
  }
  return undefined;
}

/**
 * The memory this process may really use, in bytes, and where that figure came from.
 * Order: the package's share in MEMTUNE_TASK_LIMITS (with `packageDir`), MEMTUNE_MEMORY_LIMIT, the cgroup (v2, then v1), process.constrainedMemory(), os.totalmem().
 * A cgroup limit above the machine's memory is capped at the machine's memory.
 */
export function detectMemoryLimit(options: DetectMemoryLimitOptions = {}): MemoryLimit {
  const env = options.env ?? process.env;
  const shares = env[TASK_LIMITS_VAR];
  if (options.packageDir !== undefined && shares !== undefined && shares !== '') {
    const share = taskLimitOf(parseTaskLimits(shares), options.packageDir);
    if (share) return { bytes: share.bytes, source: 'task-share', detail: share.detail, ...(share.heapMiB !== undefined ? { heapMiB: share.heapMiB } : {}) };
  }
  const override = env.MEMTUNE_MEMORY_LIMIT;
  if (override !== undefined && override !== '') {
    return { bytes: parseMemoryLimitEnv(override), source: 'env', detail: 'MEMTUNE_MEMORY_LIMIT' };
  }
  const total = (options.totalMemory ?? totalmem)();
  const machine: MemoryLimit = { bytes: total, source: 'total-memory', detail: 'os.totalmem()' };
  const cgroup = detectCgroupLimit(options.root ?? '/');
  if (cgroup) return cgroup.bytes < total ? cgroup : machine;
  const constrained = parseLimitValue(String((options.constrainedMemory ?? defaultConstrainedMemory)() ?? ''));
  if (constrained !== undefined && constrained < total) {
    return { bytes: constrained, source: 'constrained-memory', detail: 'process.constrainedMemory()' };
  }
  return machine;
}

function defaultConstrainedMemory(): number | undefined {
  const fn = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory;
  return typeof fn === 'function' ? fn.call(process) : undefined;
}
