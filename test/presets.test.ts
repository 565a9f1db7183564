import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMPILERS, REPO, cleanEnv, linkMemtune, runNode, tempDir, writeTree } from './helpers.js';

const GENERIC_SOURCE = 'export const pair = <T,>(value: T): [T, T] => [value, value];\n';
const NODE_SOURCE = "import { readFileSync } from 'node:fs';\nexport const size = (path: string): number => readFileSync(path).length;\n";

interface PresetCase {
  extends: string | string[];
  source: string;
  /** A subset of what `tsc --showConfig` must resolve. */
  resolves: Record<string, unknown>;
  /** Files the compile must leave in dist/ (none for a check-only preset). */
  emits: string[];
}

const PRESETS: Record<string, PresetCase> = {
  base: {
    extends: 'memtune/tsconfig/base.json',
    source: GENERIC_SOURCE,
    resolves: { strict: true, types: [], module: 'nodenext', rootDir: './src', outDir: './dist', skipLibCheck: true },
    emits: ['index.js'],
  },
  node: {
    extends: 'memtune/tsconfig/node.json',
    source: NODE_SOURCE,
    resolves: { types: ['node'], rootDir: './src', outDir: './dist' },
    emits: ['index.js'],
  },
  library: {
    extends: 'memtune/tsconfig/library.json',
    source: GENERIC_SOURCE,
    resolves: { composite: true, declaration: true, incremental: true, tsBuildInfoFile: './dist/tsconfig.tsbuildinfo', rootDir: './src' },
    emits: ['index.js', 'index.d.ts', 'index.d.ts.map', 'tsconfig.tsbuildinfo'],
  },
  'library + node': {
    extends: ['memtune/tsconfig/library.json', 'memtune/tsconfig/node.json'],
    source: NODE_SOURCE,
    resolves: { composite: true, types: ['node'] },
    emits: ['index.js', 'index.d.ts'],
  },
  check: {
    extends: 'memtune/tsconfig/check.json',
    source: GENERIC_SOURCE,
    resolves: { noEmit: true, strict: true },
    emits: [],
  },
};

for (const compiler of COMPILERS) {
  for (const [name, preset] of Object.entries(PRESETS)) {
    test(`preset ${name} resolves and compiles cleanly with TypeScript ${compiler.version}`, (t) => {
      const dir = tempDir(t);
      linkMemtune(dir);
      writeTree(dir, {
        'package.json': { name: 'consumer', type: 'module' },
        'tsconfig.json': { extends: preset.extends },
        'src/index.ts': preset.source,
      });
      const shown = runNode([compiler.tsc, '--showConfig', '-p', dir], { cwd: dir });
      assert.equal(shown.status, 0, shown.stdout + shown.stderr);
      const { compilerOptions } = JSON.parse(shown.stdout) as { compilerOptions: Record<string, unknown> };
      for (const [option, value] of Object.entries(preset.resolves)) {
        assert.deepEqual(compilerOptions[option], value, `${option} with TypeScript ${compiler.version}`);
      }
      const built = runNode([compiler.tsc, '-p', dir], { cwd: dir });
      assert.equal(built.stdout + built.stderr, '', 'no diagnostics at all');
      assert.equal(built.status, 0);
      for (const file of preset.emits) assert.ok(existsSync(join(dir, 'dist', file)), `dist/${file} emitted`);
      if (preset.emits.length === 0) assert.ok(!existsSync(join(dir, 'dist')), 'a check-only preset writes no dist/');
    });
  }

  test(`preset solution builds a references monorepo with tsc -b on TypeScript ${compiler.version}`, (t) => {
    const dir = tempDir(t);
    linkMemtune(dir);
    writeTree(dir, {
      'package.json': { name: 'mono', type: 'module', private: true },
      'tsconfig.json': { extends: 'memtune/tsconfig/solution.json', references: [{ path: './packages/lib' }, { path: './packages/app' }] },
      'packages/lib/package.json': { name: 'lib', type: 'module', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } },
      'packages/lib/tsconfig.json': { extends: 'memtune/tsconfig/library.json' },
      'packages/lib/src/index.ts': GENERIC_SOURCE,
      'packages/app/package.json': { name: 'app', type: 'module' },
      'packages/app/tsconfig.json': { extends: ['memtune/tsconfig/library.json', 'memtune/tsconfig/node.json'], references: [{ path: '../lib' }] },
      'packages/app/src/main.ts': "import { pair } from '../../lib/dist/index.js';\nconsole.log(pair(process.pid));\n",
    });
    const shown = runNode([compiler.tsc, '--showConfig', '-p', dir], { cwd: dir });
    assert.equal(shown.status, 0, shown.stdout + shown.stderr);
    const resolved = JSON.parse(shown.stdout) as { compilerOptions: Record<string, unknown> };
    assert.deepEqual(resolved.compilerOptions, {
      disableSourceOfProjectReferenceRedirect: true,
      disableReferencedProjectLoad: true,
      disableSolutionSearching: true,
    });
    const built = runNode([compiler.tsc, '-b', dir], { cwd: dir, env: cleanEnv() });
    assert.equal(built.stdout + built.stderr, '', 'no diagnostics at all');
    assert.equal(built.status, 0);
    assert.ok(existsSync(join(dir, 'packages/lib/dist/index.d.ts')));
    assert.ok(existsSync(join(dir, 'packages/app/dist/main.js')));
  });
}

test('presets/tsconfig/README.md and package.json exports match the presets', () => {
  const result = runNode(['--import', 'tsx', join(REPO, 'scripts', 'generate-presets.ts'), '--check'], { cwd: REPO });
  assert.equal(result.status, 0, `${result.stderr}run: npm run generate`);
});

test('every option a preset sets has a one-line reason in presets/tsconfig/README.md', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const dir = join(REPO, 'presets', 'tsconfig');
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const reasons = new Set([...readme.matchAll(/^\| `([A-Za-z]+)(?::[^`]*)?` \|/gm)].map((match) => match[1]));
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const preset = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { compilerOptions: object; files?: unknown; include?: unknown };
    const options = [...Object.keys(preset.compilerOptions), ...(preset.files ? ['files'] : []), ...(preset.include ? ['include'] : [])];
    for (const option of options) assert.ok(reasons.has(option), `${file} sets ${option} without a reason in the README`);
  }
});
