/**
 * Preloaded with `--require` into a measured V8 compiler. tsc is synchronous: timers and
 * PerformanceObserver callbacks never run during a compile, but v8.GCProfiler records every GC,
 * and `exit` handlers run even after tsc calls process.exit. Writes one JSON file per process
 * into MEMTUNE_PROBE_DIR. Nothing here prints.
 */
import fs = require('node:fs');
import path = require('node:path');
import v8 = require('node:v8');
import vm = require('node:vm');

const dir = process.env.MEMTUNE_PROBE_DIR;

if (dir) {
  const profiler = new v8.GCProfiler();
  profiler.start();
  process.on('exit', () => {
    const exitStarted = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    // Read the heap before stopping the profiler: stop() allocates, and a GC it sets off is recorded nowhere.
    let peak = v8.getHeapStatistics().used_heap_size;
    const data = profiler.stop();
    let gcMicros = 0;
    for (const gc of data.statistics) {
      gcMicros += gc.cost;
      peak = Math.max(peak, gc.beforeGC.heapStatistics.usedHeapSize);
    }
    // The retained heap: what is still live after a full GC; a heap limit below it cannot work.
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
    const after = v8.getHeapStatistics();
    const figures = {
      pid: process.pid,
      peakHeapUsedBytes: peak,
      retainedHeapBytes: after.used_heap_size,
      heapLimitBytes: after.heap_size_limit,
      gcCount: data.statistics.length,
      gcMs: gcMicros / 1000,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      exitHandlerMs: Number(process.hrtime.bigint() - exitStarted) / 1e6,
    };
    fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(figures));
  });
}
