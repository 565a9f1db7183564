/**
 * The second half of `npm run build`, after `tsc -b`: bundles `memtune run` (src/run/entry.ts and what it imports
 * from src/) into one CommonJS file, dist/bundle/run.cjs, which bin/memtune.js loads for `memtune run` (why:
 * src/run/entry.ts). The other commands keep the modules tsc emits. Fails on any esbuild warning and on any
 * import() left in the bundle. Usage: node --import tsx scripts/bundle-run.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const OUT_DIR = join(ROOT, 'dist', 'bundle');

const result = await build({
  entryPoints: [join(ROOT, 'src', 'run', 'entry.ts')],
  bundle: true,
  write: false,
  outfile: join(OUT_DIR, 'run.cjs'),
  platform: 'node',
  format: 'cjs',
  target: 'node20.11',
  // dotenv loads from node_modules, as it does for the compiled modules.
  packages: 'external',
  // The sources find files beside them through import.meta.dirname and .filename (Node 20.11+), which CommonJS
  // has as __dirname and __filename: the bundle's own.
  define: { 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename' },
  logLevel: 'warning',
});
// A warning is a broken bundle: import.meta.url, for one, would be empty in CommonJS.
if (result.warnings.length > 0) {
  console.error(`bundle-run: ${result.warnings.length} esbuild warning(s) above; the bundle is not written.`);
  process.exit(1);
}
const code = result.outputFiles[0]!.text;
// The bin compiles the bundle with vm.Script, which has no import(): what run loads late, it requires.
const late = code.split('\n').filter((line) => /(?<![\w$.])import\s*\(/.test(line));
if (late.length > 0) {
  console.error(`bundle-run: import() in the bundle of memtune run; require it instead:\n${late.join('\n')}`);
  process.exit(1);
}

// The first line names the content: bin/memtune.js keys V8's code cache by it, since V8 checks only the length.
const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
mkdirSync(OUT_DIR, { recursive: true });
for (const file of readdirSync(OUT_DIR)) if (file.endsWith('.cache')) rmSync(join(OUT_DIR, file));
writeFileSync(join(OUT_DIR, 'run.cjs'), `// ${hash}\n${code}`);
