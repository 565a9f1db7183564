import { isAbsolute, posix, relative, sep } from 'node:path';
import { UsageError, quote } from './errors.js';
import { formatBytes } from './size.js';

/**
 * The variable an outer `memtune run … -- turbo run …` sets for its tasks: each package's room beside the other
 * tasks turbo may run at once, so a nested `memtune run` sizes from its share, not from the whole limit.
 */
export const TASK_LIMITS_VAR = 'MEMTUNE_TASK_LIMITS';

export interface TaskLimits {
  v: 1;
  /** The workspace root, absolute: `limits` keys are relative to it. */
  root: string;
  /** The outer command, for `--explain` in the task. */
  from: string;
  concurrency: number;
  budget: number;
  /** Package dir relative to the root (POSIX, `.` for the root) → bytes. */
  limits: Record<string, number>;
  /**
   * Package dir → the heap (MiB) its measured peak needs (the bench's recommendation): a nested run gives at least
   * this, within the package's room, where the profile's share of the room would be less.
   */
  heaps?: Record<string, number>;
  /** For packages not listed: the budget over the concurrency. */
  default: number;
}

function positive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** The variable's value read back; a malformed one is a UsageError naming it (nothing may start on a guess). */
export function parseTaskLimits(text: string): TaskLimits {
  const bad = (why: string): UsageError =>
    new UsageError({
      where: TASK_LIMITS_VAR,
      message: `${why}; it holds {"v":1,"root","from","concurrency","budget","limits":{dir: bytes},"default"}, as an outer memtune run … -- turbo run … writes it.`,
      fix: `Unset ${TASK_LIMITS_VAR} (memtune run sets it for turbo's tasks; do not write it by hand).`,
    });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(`not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const record = value as Record<string, unknown>;
  if (record.v !== 1) throw bad(`version ${quote(String(record.v))} is not 1`);
  if (typeof record.root !== 'string' || !isAbsolute(record.root)) throw bad('"root" is not an absolute path');
  if (typeof record.from !== 'string') throw bad('"from" is not a string');
  if (!positive(record.concurrency) || !Number.isInteger(record.concurrency)) throw bad('"concurrency" is not a positive whole number');
  if (!positive(record.budget)) throw bad('"budget" is not a positive number of bytes');
  if (!positive(record.default)) throw bad('"default" is not a positive number of bytes');
  const limits = record.limits;
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) throw bad('"limits" is not an object');
  for (const [dir, bytes] of Object.entries(limits)) if (!positive(bytes)) throw bad(`"limits" of ${quote(dir)} is not a positive number of bytes`);
  const heaps = record.heaps;
  if (heaps !== undefined) {
    if (typeof heaps !== 'object' || heaps === null || Array.isArray(heaps)) throw bad('"heaps" is not an object');
    for (const [dir, mib] of Object.entries(heaps)) if (!positive(mib)) throw bad(`"heaps" of ${quote(dir)} is not a positive number of MiB`);
  }
  return record as unknown as TaskLimits;
}

/** The limit of the package in `packageDir`, or undefined when the package is not under the limits' root. */
export function taskLimitOf(limits: TaskLimits, packageDir: string): { bytes: number; detail: string; heapMiB?: number } | undefined {
  const rel = relative(limits.root, packageDir);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  const dir = rel === '' ? '.' : rel.split(sep).join(posix.sep);
  const listed = limits.limits[dir];
  const others = limits.concurrency - 1;
  const share =
    listed !== undefined
      ? `room beside ${others} other task${others === 1 ? '' : 's'} in a ${formatBytes(limits.budget)} budget`
      : `${formatBytes(limits.budget)} budget / ${limits.concurrency} tasks (${dir} is not among its tasks)`;
  const heapMiB = limits.heaps?.[dir];
  return { bytes: Math.floor(listed ?? limits.default), detail: `${TASK_LIMITS_VAR} of ${quote(limits.from)}: ${share}`, ...(heapMiB !== undefined ? { heapMiB } : {}) };
}
