/**
 * Preloaded through NODE_OPTIONS into every node of an npm script that `memtune bench --script` measures.
 * Node refuses `--trace-gc` in NODE_OPTIONS, so this turns it on from inside, but only in a node whose
 * stdout is the pipe memtune reads (the first node of the tree records which that is), so that a
 * script's `node gen.js > out.json` never gets GC lines in its file. It does nothing else: a JS compiler
 * measured directly gets `--trace-gc` on its argv and no preload at all: loading node:v8 at start-up, as
 * this must, was seen to lower a real `tsc -b`'s peak RSS by 7 % (npm run bench:observer).
 */
import fs = require('node:fs');
import v8 = require('node:v8');

function stdoutTarget(): string | undefined {
  try {
    return fs.readlinkSync('/proc/self/fd/1');
  } catch {
    return undefined;
  }
}

const own = stdoutTarget();
process.env.MEMTUNE_PROBE_STDOUT ??= own;
if (own !== undefined && own === process.env.MEMTUNE_PROBE_STDOUT) v8.setFlagsFromString('--trace-gc');
