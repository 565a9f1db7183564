/**
 * The independent peak-heap reference for `scripts/bench-self.ts`, preloaded with `--require` into the
 * same compiler process as memtune's probe. Written apart from src/effects/probe.cts on purpose: it
 * shares no code with it, keeps the whole GC history instead of a running maximum, and reads it before
 * the probe's own full GC at exit (it is required first, so its exit handler runs first).
 * Writes `<pid>.json` into BENCH_SELF_REFERENCE_DIR.
 */
'use strict';
const { GCProfiler, getHeapStatistics } = require('node:v8');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const out = process.env.BENCH_SELF_REFERENCE_DIR;
if (out) {
  const profiler = new GCProfiler();
  profiler.start();
  process.once('exit', () => {
    const atExit = getHeapStatistics().used_heap_size;
    const { statistics } = profiler.stop();
    const before = statistics.map((gc) => gc.beforeGC.heapStatistics.usedHeapSize);
    writeFileSync(
      join(out, `${process.pid}.json`),
      JSON.stringify({
        pid: process.pid,
        gcCount: statistics.length,
        // The heap only grows between collections, so its peak is just before one of them, or at exit.
        peakBeforeGcBytes: before.length ? Math.max(...before) : 0,
        usedAtExitBytes: atExit,
        peakHeapUsedBytes: Math.max(atExit, ...before),
      }),
    );
  });
}
