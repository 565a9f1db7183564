import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sameResultWithPreset, shownConfig } from '../../src/init/effects/tsconfig-check.js';
import { withExtends } from '../../src/init/tsconfig-preset.js';
import { compilerAt } from '../../src/shared/effects/typescript-compiler.js';
import { linkTypeScript } from '../bench/workspace-fixture.js';
import { REPO, cleanEnv, tempDir, writeTree } from '../helpers.js';

const ALIASES = [
  ['5.9.3', 'typescript-5'],
  ['6.0.3', 'typescript-6'],
  ['7.0.2', 'typescript'],
] as const;

/** A package with its own compiler and memtune installed, as after `npm i -D memtune typescript`. */
function fixturePackage(dir: string, alias: (typeof ALIASES)[number][1], tsconfig: object | string, source: string): string {
  writeTree(dir, { 'package.json': { name: 'app', type: 'module' }, 'tsconfig.json': tsconfig, 'src/index.ts': source });
  linkTypeScript(dir, alias);
  // memtune without @types/node: TS 5.9 would load and check every @types package (seconds per run).
  symlinkSync(REPO, join(dir, 'node_modules', 'memtune'), 'dir');
  return join(dir, 'tsconfig.json');
}

function adopted(tsconfigPath: string, specifiers: string[], version: string): string {
  const edit = withExtends(readFileSync(tsconfigPath, 'utf8'), specifiers, version);
  assert.ok('text' in edit, JSON.stringify(edit));
  return edit.text;
}

const CHECK_ONLY = { compilerOptions: { noEmit: true, strict: true }, include: ['src'] };

for (const [version, alias] of ALIASES) {
  test(`TypeScript ${version}: a package the check preset changes nothing observable in is the same, and nothing is left behind`, async (t) => {
    const dir = tempDir(t);
    const tsconfig = fixturePackage(dir, alias, CHECK_ONLY, 'export const pair = <T,>(value: T): [T, T] => [value, value];\n');
    const files = readdirSync(dir).sort();
    const compiler = compilerAt(join(dir, 'node_modules', 'typescript'))!;
    const result = await sameResultWithPreset(dir, tsconfig, adopted(tsconfig, ['memtune/tsconfig/check.json'], version), compiler, cleanEnv());
    assert.ok('same' in result, JSON.stringify(result));
    assert.deepEqual(result.difference, []);
    assert.equal(result.same, true);
    assert.equal(result.before.exit, 0);
    assert.deepEqual(result.before.files, ['./src/index.ts']);
    assert.equal(result.after.options.noUncheckedIndexedAccess, true, 'the after side really used the preset');
    // No temporary tsconfig, no tsconfig.tsbuildinfo, no dist/.
    assert.deepEqual(readdirSync(dir).sort(), files);
  });

  test(`TypeScript ${version}: an error the preset's noUncheckedIndexedAccess adds makes it not the same, with the diagnostic`, async (t) => {
    const dir = tempDir(t);
    const tsconfig = fixturePackage(dir, alias, CHECK_ONLY, 'export const first: number = [1, 2][0];\n');
    const compiler = compilerAt(join(dir, 'node_modules', 'typescript'))!;
    const result = await sameResultWithPreset(dir, tsconfig, adopted(tsconfig, ['memtune/tsconfig/check.json'], version), compiler, cleanEnv());
    assert.ok('same' in result, JSON.stringify(result));
    assert.equal(result.same, false);
    assert.equal(result.before.exit, 0);
    assert.notEqual(result.after.exit, 0);
    assert.match(result.difference.join('\n'), /^exit status 0 → [12]$/m);
    assert.match(
      result.difference.join('\n'),
      /^new: src\/index\.ts\(1,14\): error TS2322: Type 'number \| undefined' is not assignable to type 'number'\.\n {2}Type 'undefined'/m,
    );
    assert.ok(!existsSync(join(dir, 'tsconfig.memtune-init.json')));
  });

  test(`TypeScript ${version}: a composite package that emits is not the same when the preset changes its output options, and the check writes nothing`, async (t) => {
    const dir = tempDir(t);
    const tsconfig = fixturePackage(
      dir,
      alias,
      { compilerOptions: { composite: true, strict: true, outDir: 'dist', rootDir: 'src', module: 'nodenext' }, include: ['src'] },
      'export const one = 1;\n',
    );
    // The node preset needs @types/node, as a package it is offered to has it.
    symlinkSync(join(REPO, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
    const compiler = compilerAt(join(dir, 'node_modules', 'typescript'))!;
    const result = await sameResultWithPreset(dir, tsconfig, adopted(tsconfig, ['memtune/tsconfig/library.json', 'memtune/tsconfig/node.json'], version), compiler, cleanEnv());
    assert.ok('same' in result, JSON.stringify(result));
    assert.equal(result.same, false);
    assert.deepEqual(result.before.diagnostics, []);
    assert.deepEqual(result.after.diagnostics, []);
    const difference = result.difference.join('\n');
    assert.match(difference, /^emits differently: .*\btarget (\(not set\)|"[^"]+") → "es2023"(,|$)/m);
    assert.match(difference, /^emits differently: .*\bsourceMap \(not set\) → true(,|$)/m);
    assert.doesNotMatch(difference, /\b(outDir|rootDir|module) /, 'options the package sets itself keep their value');
    assert.match(difference, /^emits differently: .*\bdeclarationMap \(not set\) → true(,|$)/m);
    // Not even the build info a composite project writes under --noEmit (it would go to dist/).
    assert.ok(!existsSync(join(dir, 'dist')), 'the check wrote no output');
  });
}

test('a tsconfig with a syntax error is skipped and named, without running the compiler or writing a file', async (t) => {
  const dir = tempDir(t);
  const tsconfig = fixturePackage(dir, 'typescript-5', '{\n  "compilerOptions": { "strict": true,\n', 'export {};\n');
  const files = readdirSync(dir).sort();
  const compiler = compilerAt(join(dir, 'node_modules', 'typescript'))!;
  const result = await sameResultWithPreset(dir, tsconfig, '{}', compiler, cleanEnv());
  assert.ok('skipped' in result, JSON.stringify(result));
  assert.match(result.skipped, new RegExp(`^${tsconfig.replaceAll('.', '\\.')} is not valid JSON with comments \\(.+\\): skipped`));
  assert.deepEqual(readdirSync(dir).sort(), files);
});

test('the temporary tsconfig is removed when the process is stopped by SIGTERM mid-check', async (t) => {
  const dir = tempDir(t);
  const tsconfig = fixturePackage(dir, 'typescript-5', CHECK_ONLY, 'export {};\n');
  // A stand-in compiler that never finishes, so the signal arrives while the temporary file exists.
  writeTree(dir, { 'slow-tsc.js': 'setTimeout(() => {}, 60_000);\n' });
  const script = [
    `import { sameResultWithPreset, shownConfig } from ${JSON.stringify(join(REPO, 'src/init/effects/tsconfig-check.ts'))};`,
    `await sameResultWithPreset(${JSON.stringify(dir)}, ${JSON.stringify(tsconfig)}, '{}', { name: 'typescript', version: '5.9.3', native: false, path: ${JSON.stringify(join(dir, 'slow-tsc.js'))} });`,
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, env: cleanEnv(), stdio: 'ignore' });
  const temp = join(dir, 'tsconfig.memtune-init.json');
  for (let waited = 0; !existsSync(temp); waited += 50) {
    assert.ok(waited < 20_000, 'the temporary tsconfig appeared');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGTERM');
  const [code, signal] = await once(child, 'exit');
  assert.deepEqual([code, signal], [null, 'SIGTERM']);
  assert.ok(!existsSync(temp));
});

test('shownConfig gives what choosePreset needs: a solution root shows no files or include, its references and options', async (t) => {
  const dir = tempDir(t);
  writeTree(dir, {
    'package.json': { name: 'mono', private: true },
    'tsconfig.json': '{\n  // the solution\n  "files": [],\n  "references": [{ "path": "packages/a" }],\n}\n',
    'packages/a/tsconfig.json': { compilerOptions: { composite: true, noEmit: false }, include: ['src'] },
    'packages/a/src/index.ts': 'export const a = 1;\n',
  });
  linkTypeScript(dir, 'typescript');
  const compiler = compilerAt(join(dir, 'node_modules', 'typescript'))!;
  const root = await shownConfig(compiler, join(dir, 'tsconfig.json'), cleanEnv());
  assert.deepEqual(root, { options: {}, files: [], include: [], references: [join(dir, 'packages/a/tsconfig.json')] });
  const pkg = await shownConfig(compiler, join(dir, 'packages/a/tsconfig.json'), cleanEnv());
  assert.ok(!('unreadable' in pkg));
  assert.equal(pkg.options.composite, true);
  assert.deepEqual(pkg.files, ['./src/index.ts']);
  writeTree(dir, { 'broken/tsconfig.json': '{ "extends": "./missing.json" }' });
  // TS 7.0.2's --showConfig prints `{"compilerOptions": {}}` and exits 0 on a config it cannot read; 5.9 says why.
  const ts5 = compilerAt(join(REPO, 'node_modules', 'typescript-5'))!;
  const broken = await shownConfig(ts5, join(dir, 'broken/tsconfig.json'), cleanEnv());
  assert.ok('unreadable' in broken && /missing\.json/.test(broken.unreadable), JSON.stringify(broken));
});
