import { join } from 'node:path';
import { writeTree } from '../helpers.js';

/**
 * A stand-in compiler package for the failures a real compiler cannot be made to show on demand. It
 * answers --showConfig as tsc does, then misbehaves when asked to check.
 */
export function fakeCompiler(root: string, body: string): string {
  const dir = join(root, 'fake-typescript');
  const showConfig = "if (process.argv.includes('--showConfig')) { console.log('{}'); process.exit(0); }\n";
  writeTree(root, {
    'fake-typescript/package.json': { name: 'typescript', version: '6.0.0' },
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
