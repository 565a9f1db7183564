/**
 * Preloaded with `--require` into a measured V8 process. It adds nothing to the run itself: no profiler
 * (a v8.GCProfiler in the process was seen to lower a real compile's peak RSS by ~7 %), no timers, only an
 * `exit` handler, which runs even after tsc calls process.exit. The peak heap comes from node's own
 * `--trace-gc` lines, read outside the process. Writes one JSON file per process into MEMTUNE_PROBE_DIR.
 * Nothing here prints.
 */
import fs = require('node:fs');
import path = require('node:path');
import v8 = require('node:v8');
import vm = require('node:vm');

const dir = process.env.MEMTUNE_PROBE_DIR;

function stdoutTarget(): string | undefined {
  try {
    return fs.readlinkSync('/proc/self/fd/1');
  } catch {
    return undefined;
  }
}

if (dir) {
  // Under an npm script NODE_OPTIONS cannot carry --trace-gc: turn it on here, but only in a node whose
  // stdout is the pipe memtune reads (the first node of the tree records it), so that a script's
  // `node gen.js > out.json` never gets our lines in its output.
  if (process.env.MEMTUNE_PROBE_TRACE_GC === 'stdout') {
    const own = stdoutTarget();
    process.env.MEMTUNE_PROBE_STDOUT ??= own;
    if (own !== undefined && own === process.env.MEMTUNE_PROBE_STDOUT) v8.setFlagsFromString('--trace-gc');
  }
  process.on('exit', () => {
    const exitStarted = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const usedAtExit = v8.getHeapStatistics().used_heap_size;
    // The retained heap: what is still live after a full GC; a heap limit below it cannot work.
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
    const after = v8.getHeapStatistics();
    const figures = {
      pid: process.pid,
      usedAtExitBytes: usedAtExit,
      retainedHeapBytes: after.used_heap_size,
      heapLimitBytes: after.heap_size_limit,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      exitHandlerMs: Number(process.hrtime.bigint() - exitStarted) / 1e6,
    };
    fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(figures));
  });
}
