import { MiB } from './size.js';

/** Headroom over the measured peak: a heap run at its exact peak spends its time in GC. */
export const HEAP_HEADROOM = 1.25;
export const HEAP_STEP_MiB = 64;
export const HEAP_MIN_MiB = 128;

/**
 * The `--max-old-space-size` (MiB) a measured peak used heap needs: the bench recommends it, and a turbo task's
 * share (MEMTUNE_TASK_LIMITS) carries it to the nested run.
 */
export function recommendHeapMiB(peakHeapUsedBytes: number): number {
  return heapMiBWithHeadroom(peakHeapUsedBytes, HEAP_HEADROOM);
}

/** `bytes` × `factor`, rounded up to a multiple of HEAP_STEP_MiB, at least HEAP_MIN_MiB. */
export function heapMiBWithHeadroom(bytes: number, factor: number): number {
  const steps = Math.ceil((bytes * factor) / (HEAP_STEP_MiB * MiB));
  return Math.max(HEAP_MIN_MiB, steps * HEAP_STEP_MiB);
}
