import { join } from 'node:path';
import { writeTree } from '../helpers.js';

/**
 * A stand-in compiler package for the failures a real compiler cannot be made to show on demand. It
 * answers --showConfig as tsc does, then misbehaves when asked to check.
 */
export function fakeCompiler(root: string, body: string, version = '6.0.0'): string {
  const dir = join(root, 'fake-typescript');
  const showConfig = "if (process.argv.includes('--showConfig')) { console.log('{}'); process.exit(0); }\n";
  writeTree(root, {
    'fake-typescript/package.json': { name: 'typescript', version },
    'fake-typescript/bin/tsc': showConfig + body,
  });
  return dir;
}

/**
 * Code for a fake compiler's body: writes `text` (JavaScript expression) to `path` under another name
 * first, then renames it into place, so that a reader never sees it empty or half written.
 */
export function writeWhole(path: string, text: string): string {
  return `require('node:fs').writeFileSync(${JSON.stringify(`${path}.tmp`)}, ${text}); require('node:fs').renameSync(${JSON.stringify(`${path}.tmp`)}, ${JSON.stringify(path)});\n`;
}

/**
 * A fake JS compiler whose check needs a heap of `needMiB`: under a smaller `--max-old-space-size` on node's argv it
 * aborts as V8 does at its heap limit (SIGABRT); otherwise it prints node's GC lines for a `peakMiB` peak and a
 * `retainedMiB` retained heap and ends ok, at once. Deterministic, unlike a real heap at its edge. Each check's heap
 * setting (null: none) is appended to `log`.
 */
export function heapNeedBody(options: { needMiB: number; peakMiB: number; retainedMiB: number; log: string }): string {
  return [
    "const flag = process.execArgv.find((arg) => arg.startsWith('--max-old-space-size='));",
    "const heap = flag === undefined ? null : Number(flag.split('=')[1]);",
    `require('node:fs').appendFileSync(${JSON.stringify(options.log)}, JSON.stringify({ heap, counts: process.argv.includes('--extendedDiagnostics') }) + '\\n');`,
    `if (heap !== null && heap < ${options.needMiB}) { console.error('FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'); process.abort(); }`,
    `console.log(\`[\${process.pid}:0x1a2b]      5 ms: Mark-Compact ${options.peakMiB}.0 (${options.peakMiB + 10}.0) -> ${options.retainedMiB}.0 (${options.peakMiB + 10}.0) MB, 1.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;\`);`,
  ].join('\n');
}
