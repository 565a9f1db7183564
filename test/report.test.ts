import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { mixedCompilerWorkspace } from './bench/workspace-fixture.js';
import { COMPILERS, REPO, linkMemtune, runMemtune, runNode, tempDir, writeTree } from './helpers.js';

const require = createRequire(import.meta.url);
const Ajv = require('ajv') as typeof import('ajv').default;
const SCHEMA = join(REPO, 'presets', 'report', 'schema.json');

test('the report schema is what scripts/generate-schema.ts makes of the report types', () => {
  const result = runNode(['--import', 'tsx', join(REPO, 'scripts', 'generate-schema.ts'), '--check'], { cwd: REPO });
  assert.equal(result.status, 0, `${result.stderr}run: npm run generate`);
});

test('the reports a bench writes, with and without a baseline, are valid against the schema the package ships', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  const first = runMemtune(['bench', '--runs', '2', '--concurrency', '1', '--out', 'first'], { cwd: root });
  assert.equal(first.status, 0, first.stderr);
  const second = runMemtune(['bench', '--concurrency', '1', '--out', 'second', '--baseline', 'first/memtune-report.json'], { cwd: root });
  assert.ok(second.status === 0 || second.status === 1, second.stderr);

  const validate = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
  for (const out of ['first', 'second']) {
    const report = JSON.parse(readFileSync(join(root, out, 'memtune-report.json'), 'utf8')) as { packages: unknown[]; skipped: unknown[] };
    assert.ok(report.packages.length === 2 && report.skipped.length === 2, out);
    assert.ok(validate(report), `${out}: ${JSON.stringify(validate.errors, null, 2)}`);
  }
  assert.ok('baseline' in JSON.parse(readFileSync(join(root, 'second', 'memtune-report.json'), 'utf8')), 'the second report holds the comparison the schema checked');
});

test('a report with a field the types do not know is refused by the schema', () => {
  const validate = new Ajv({ strict: true }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
  assert.equal(validate({ schemaVersion: 2 }), false, 'an incomplete report');
  const errors = JSON.stringify(validate.errors);
  assert.match(errors, /required/);
});

test("a user's script reads reports through memtune/report: the types compile under nodenext and the constants load", (t) => {
  const dir = tempDir(t);
  linkMemtune(dir);
  writeTree(dir, {
    'package.json': { name: 'reader', type: 'module' },
    'tsconfig.json': { extends: 'memtune/tsconfig/node.json', compilerOptions: { rootDir: '.', noEmit: true }, include: ['read.ts'] },
    'read.ts': [
      "import { readFileSync } from 'node:fs';",
      "import { SCHEMA_VERSION, type BenchReport, type PackageResult } from 'memtune/report';",
      "const report = JSON.parse(readFileSync('memtune-report.json', 'utf8')) as BenchReport;",
      'const worst: PackageResult | undefined = report.packages.toSorted((a, b) => (b.peakRssBytes ?? 0) - (a.peakRssBytes ?? 0))[0];',
      'if (report.schemaVersion !== SCHEMA_VERSION) throw new Error(`schema ${report.schemaVersion}`);',
      'console.log(worst?.name, report.recommendations.concurrency?.value);',
      '',
    ].join('\n'),
  });
  for (const compiler of COMPILERS) {
    const result = runNode([compiler.tsc, '-p', 'tsconfig.json'], { cwd: dir });
    assert.equal(result.status, 0, `TypeScript ${compiler.version}: ${result.stdout}${result.stderr}`);
  }
  const loaded = runNode(['--input-type=module', '-e', "import('memtune/report').then((m) => console.log(m.SCHEMA_VERSION, m.BASELINE_FIELDS.length))"], { cwd: dir });
  assert.equal(loaded.status, 0, loaded.stderr);
  assert.match(loaded.stdout, /^\d+ \d+\n$/);
});
