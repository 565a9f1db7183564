import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO } from '../helpers.js';

const SRC = join(REPO, 'src');
const EFFECTS = /(?:^|\/)effects\/|(?:^|\/)command\.ts$|^cli\.ts$/;
const FORBIDDEN_IMPORT = /\bfrom\s+['"](?:node:)?(fs|fs\/promises|child_process|os)['"]|\bimport\(\s*['"](?:node:)?(fs|fs\/promises|child_process|os)['"]\s*\)/;
const PROCESS = /(?<![\w.])process\./;

/** Every module of src/, relative to it. */
function modules(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? modules(join(dir, entry.name)) : /\.c?ts$/.test(entry.name) ? [relative(SRC, join(dir, entry.name)).replaceAll('\\', '/')] : [],
  );
}

/** What makes a module impure: an import of the file system, child processes or the OS, or a use of `process`. */
export function impurities(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const imported = FORBIDDEN_IMPORT.exec(code);
  if (imported) found.push(`imports node:${imported[1] ?? imported[2]}`);
  // Plain strings may name `process.x` in a message; template literals are kept, since `${process.x}` is code.
  const used = PROCESS.exec(code.replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''"));
  if (used) found.push(`uses ${used.input.slice(used.index, used.index + 24).split(/[^\w.]/)[0]}`);
  return found;
}

test('pure modules (all but cli.ts, */command.ts and effects/) read no file, start no process and touch no process global', () => {
  const pure = modules().filter((path) => !EFFECTS.test(path));
  assert.ok(pure.length > 15, `found the pure modules: ${pure.join(', ')}`);
  const problems = pure.flatMap((path) => impurities(readFileSync(join(SRC, path), 'utf8')).map((problem) => `src/${path} ${problem}`));
  assert.deepEqual(problems, []);
});

test('the purity check catches a pure module made to read a file or the process', () => {
  assert.deepEqual(impurities("import { readFileSync } from 'node:fs';\nexport const x = readFileSync('a');\n"), ['imports node:fs']);
  assert.deepEqual(impurities("import * as os from 'os';\n"), ['imports node:os']);
  assert.deepEqual(impurities("const cp = await import('node:child_process');\n"), ['imports node:child_process']);
  assert.deepEqual(impurities('export const cwd = () => process.cwd();\n'), ['uses process.cwd']);
  assert.deepEqual(impurities('// process.exit() is for the CLI layer\nexport const env = (e: NodeJS.ProcessEnv) => e;\n'), []);
  assert.deepEqual(impurities("export const why = 'only process.allowedNodeEnvironmentFlags may be';\n"), []);
  assert.deepEqual(impurities('export const at = () => `${process.pid}`;\n'), ['uses process.pid']);
});
