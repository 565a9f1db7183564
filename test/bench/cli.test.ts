import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchReport } from '../../src/bench/types.js';
import { BIN, cleanEnv, linkMemtune, runMemtune, tempDir, writeTree } from '../helpers.js';
import { fakeCompiler, writeWhole } from './fake-compiler.js';
import { LIB, WORKSPACE_ROOT, linkTypeScript, mixedCompilerWorkspace } from './workspace-fixture.js';

/** The files of workspace package `packages/<name>`, checked with memtune's check preset. */
function checkedPackage(name: string, manifest: object = {}): Record<string, string | object> {
  return {
    [`packages/${name}/package.json`]: { name, type: 'module', ...manifest },
    [`packages/${name}/tsconfig.json`]: { extends: 'memtune/tsconfig/check.json' },
    [`packages/${name}/src/index.ts`]: LIB,
  };
}

function readReport(out: string): BenchReport {
  return JSON.parse(readFileSync(join(out, 'memtune-report.json'), 'utf8')) as BenchReport;
}

test('bench measures each workspace package with its own compiler, skips what it cannot measure, and writes nothing into the packages', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  const out = join(root, 'reports');
  const result = runMemtune(['bench', '--out', out, '--concurrency', '1'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const report = readReport(out);
  assert.equal(report.schemaVersion, 2);
  assert.equal(report.environment.node, process.version);
  assert.ok(report.environment.memoryLimit.bytes > 0);
  const js = report.packages.find((pkg) => pkg.name === '@m/js');
  const native = report.packages.find((pkg) => pkg.name === '@m/native');
  assert.ok(js && native, JSON.stringify(report.packages.map((pkg) => pkg.name)));
  assert.deepEqual([js.compiler.version, js.compiler.native, native.compiler.version, native.compiler.native], ['5.9.3', false, '7.0.2', true]);
  for (const key of ['name', 'dir', 'compiler', 'status', 'exitCode', 'peakRssBytes', 'peakHeapUsedBytes', 'retainedHeapBytes', 'wallMs', 'runs']) {
    assert.ok(key in js && key in native, `packages[] entries have ${key}`);
  }
  assert.equal(js.compiler.name, 'typescript');
  assert.deepEqual(Object.keys(report.environment).sort(), ['arch', 'compilers', 'cpu', 'gitCommit', 'memoryLimit', 'node', 'platform']);
  for (const pkg of [js, native]) {
    assert.equal(pkg.status, 'ok');
    assert.equal(pkg.exitCode, 0);
    assert.ok(pkg.peakRssBytes! > 20 * 1024 * 1024, `${pkg.name} peak RSS ${pkg.peakRssBytes}`);
    assert.ok(pkg.wallMs > 0);
    assert.equal(pkg.runs.length, 1);
    assert.ok(pkg.diagnostics.files! > 0, `${pkg.name} diagnostics parsed`);
  }
  assert.ok(js.peakHeapUsedBytes! > 0 && js.gcCount! > 0, 'from the GC lines node prints');
  // What is live is known only after a full GC, which a check this small may never need.
  assert.ok(js.retainedHeapBytes === null || js.retainedHeapBytes <= js.peakHeapUsedBytes!);
  assert.ok(js.heapLimitBytes! > js.peakHeapUsedBytes!, 'the heap limit, asked from the same node');
  assert.equal(native.peakHeapUsedBytes, null);
  assert.equal(native.retainedHeapBytes, null);
  assert.ok(native.goHeapPeakBytes! > 0);
  assert.deepEqual(report.skipped.map((pkg) => [pkg.name, pkg.reason.split(':')[0]]).sort(), [
    ['@m/bare', 'typescript cannot be resolved from packages/bare'],
    ['@m/docs', 'no tsconfig.json'],
  ]);
  for (const dir of ['packages/js', 'packages/native']) {
    assert.deepEqual(readdirSync(join(root, dir)).sort(), ['node_modules', 'package.json', 'src', 'tsconfig.json'], `${dir} untouched`);
  }
  assert.match(readFileSync(join(out, 'memtune-report.md'), 'utf8'), /@m\/js/);
  assert.match(readFileSync(join(out, 'memtune-report.svg'), 'utf8'), /^<svg/);
  const journal = readFileSync(join(out, 'memtune-journal.jsonl'), 'utf8').trim().split('\n');
  assert.equal(journal.length, 5, 'the options it was started with, then per package an unmeasured counting run and the measured one');
  assert.deepEqual(Object.keys(JSON.parse(journal[0]!).options).sort(), [
    'baseline',
    'compiler',
    'dir',
    'filters',
    'findMinHeap',
    'maxGrowth',
    'profile',
    'runs',
    'script',
    'shard',
    'solution',
    'timeoutMs',
    'variants',
    'warm',
  ]);
  assert.ok(js.diagnostics.types! > 0 && js.runs[0]!.diagnostics.types === undefined, 'counts from the counting run; the measured run has no --extendedDiagnostics');
});

test('bench brings the projects a package references up to date first, outside the measurement, and rebuilds a stale one', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    'packages/lib/package.json': { name: 'lib', type: 'module' },
    'packages/lib/tsconfig.json': { extends: 'memtune/tsconfig/library.json' },
    'packages/lib/src/index.ts': LIB,
    'packages/app/package.json': { name: 'app', type: 'module' },
    'packages/app/tsconfig.json': { extends: 'memtune/tsconfig/library.json', references: [{ path: '../lib' }] },
    'packages/app/src/main.ts': "import { pair } from '../../lib/dist/index.js';\nexport const twice = pair(1);\n",
  });
  linkTypeScript(root, 'typescript-6');
  const out = join(root, '.memtune');
  const result = runMemtune(['bench', '--filter', 'app'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /bringing the referenced projects up to date first with tsc -b \(outside the measurement\): packages\/lib\/tsconfig\.json/);
  const [app] = readReport(out).packages;
  assert.equal(app?.name, 'app');
  assert.equal(app?.status, 'ok', app?.runs[0]?.messages);
  assert.ok(existsSync(join(root, 'packages/lib/dist/index.d.ts')));
  assert.ok(!existsSync(join(root, 'packages/app/dist')), 'the measured package itself is left as it was');

  // A change in the referenced package: its old dist/ has no `triple`, so a check against it fails.
  writeFileSync(join(root, 'packages/lib/src/index.ts'), `${LIB}export const triple = <T,>(value: T): [T, T, T] => [value, value, value];\n`);
  writeFileSync(join(root, 'packages/app/src/main.ts'), "import { pair, triple } from '../../lib/dist/index.js';\nexport const both = [pair(1), triple(2)];\n");
  const again = runMemtune(['bench', '--filter', 'app'], { cwd: root });
  assert.equal(again.status, 0, again.stderr);
  const [rechecked] = readReport(out).packages;
  assert.equal(rechecked?.status, 'ok', rechecked?.runs[0]?.messages);
  assert.match(readFileSync(join(root, 'packages/lib/dist/index.d.ts'), 'utf8'), /triple/);
});

test('a referenced project with type errors does not stop the bench: the checks go on against the declarations it wrote', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    'packages/lib/package.json': { name: 'lib', type: 'module' },
    'packages/lib/tsconfig.json': { extends: 'memtune/tsconfig/library.json' },
    'packages/lib/src/index.ts': `${LIB}export const wrong: number = 'not a number';\n`,
    'packages/app/package.json': { name: 'app', type: 'module' },
    'packages/app/tsconfig.json': { extends: 'memtune/tsconfig/library.json', references: [{ path: '../lib' }] },
    'packages/app/src/main.ts': "import { pair } from '../../lib/dist/index.js';\nexport const twice = pair(1);\n",
  });
  linkTypeScript(root, 'typescript-6');
  const result = runMemtune(['bench'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.match(
    result.stderr,
    /bringing the referenced projects up to date had errors; the checks go on against what it wrote:\n.*tsc -b packages\/lib\/tsconfig\.json exited 1:\npackages\/lib\/src\/index\.ts\(2,14\): error TS2322/,
  );
  const status = Object.fromEntries(readReport(join(root, '.memtune')).packages.map((pkg) => [pkg.name, pkg.status]));
  assert.deepEqual(status, { app: 'ok', lib: 'failed' });
});

test('a package with type errors is measured as failed, its figures kept', (t) => {
  const root = tempDir(t);
  writeTree(root, {
    'package.json': { name: 'single', type: 'module' },
    'tsconfig.json': { compilerOptions: { strict: true, module: 'nodenext', rootDir: 'src', types: [] }, include: ['src'] },
    'src/index.ts': 'export const n: number = "not a number";\n',
  });
  linkTypeScript(root, 'typescript-5');
  const result = runMemtune(['bench', '--runs', '2'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const report = readReport(join(root, '.memtune'));
  const [pkg] = report.packages;
  assert.equal(pkg?.status, 'failed');
  assert.equal(pkg?.exitCode, 2);
  assert.equal(pkg?.runs.length, 2);
  assert.ok(pkg!.peakHeapUsedBytes! > 0);
  assert.match(pkg!.runs[0]!.messages!, /TS2322/);
});

test('the peak heap is read from the GC lines node prints, not from anything inside the measured process', (t) => {
  const root = tempDir(t);
  writeTree(root, { 'package.json': { name: 'traced' }, 'tsconfig.json': { files: [] } });
  // A compiler whose own GC lines claim a 900 MiB heap: only a reading of node's --trace-gc output reports it.
  const compiler = fakeCompiler(
    root,
    [
      'console.log(`[${process.pid}:0x1a2b]      5 ms: Mark-Compact 900.0 (950.0) -> 400.0 (950.0) MB, 1.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;`);',
      'console.error(`[${process.pid}:0x1a2b]      6 ms: Mark-Compact 5000.0 (5000.0) -> 1.0 (2.0) MB, 1.50 / 0.00 ms  on stderr: not a GC line of ours`);',
    ].join('\n'),
  );
  const result = runMemtune(['bench', '--compiler', compiler], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const [pkg] = readReport(join(root, '.memtune')).packages;
  assert.equal(pkg?.peakHeapUsedBytes, 900 * 1024 * 1024);
  assert.ok(pkg!.gcCount! >= 1);
});

test('a compiler at its V8 heap limit is reported as oom, one killed by a signal as killed, one past --timeout as timeout', (t) => {
  const cases = [
    ['oom', 'const keep = []; for (;;) keep.push(new Array(1e5).fill({ x: Math.random() }));\n', { NODE_OPTIONS: '--max-old-space-size=24' }],
    ['killed', "process.kill(process.pid, 'SIGKILL');\n", {}],
    ['timeout', 'setTimeout(() => {}, 60_000);\n', {}],
  ] as const;
  for (const [status, body, env] of cases) {
    const root = tempDir(t);
    writeTree(root, { 'package.json': { name: `crash-${status}` }, 'tsconfig.json': { files: [] } });
    const compiler = fakeCompiler(root, body);
    const result = runMemtune(['bench', '--compiler', compiler, '--timeout', '2'], { cwd: root, env: cleanEnv(env) });
    assert.equal(result.status, 1, `${status}: ${result.stderr}`);
    const [pkg] = readReport(join(root, '.memtune')).packages;
    assert.equal(pkg?.status, status, result.stderr);
  }
});

test('a compiler spending most of 4 s in back-to-back full GCs is stopped and reported as oom', (t) => {
  const root = tempDir(t);
  writeTree(root, { 'package.json': { name: 'thrash' }, 'tsconfig.json': { files: [] } });
  // A large live heap collected again and again, as a compiler near its heap limit does. Forced GCs, not a heap
  // limit: V8's own give-up depends on timing (under load it came first), the share of time in GC does not.
  const compiler = fakeCompiler(
    root,
    [
      "require('node:v8').setFlagsFromString('--expose-gc');",
      "const gc = require('node:vm').runInNewContext('gc');",
      'const live = [];',
      "for (let i = 0; i < 300000; i++) live.push({ i, s: 'x' + i });",
      'for (;;) gc();',
    ].join('\n'),
  );
  const result = runMemtune(['bench', '--compiler', compiler, '--timeout', '60'], { cwd: root });
  assert.equal(result.status, 1, result.stderr);
  const [pkg] = readReport(join(root, '.memtune')).packages;
  assert.equal(pkg?.status, 'oom');
  assert.match(pkg!.runs[0]!.messages!, /memtune stopped it: garbage collection took \d+ ms of the last 4000 ms/);
});

test('bench outside any package says so and starts nothing', (t) => {
  const dir = tempDir(t);
  const result = runMemtune(['bench'], { cwd: dir });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: .* is neither a workspace nor a package: no package\.json here or above\.\n/);
});

test('an --out that cannot be written fails before any run starts', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  writeFileSync(join(root, 'a-file'), '');
  const result = runMemtune(['bench', '--out', join(root, 'a-file', 'reports')], { cwd: root });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: --out ".*a-file\/reports": cannot be written \(ENOTDIR\)\.\nPass a directory/);
  assert.doesNotMatch(result.stderr, /started/);
});

test('--resume refuses a journal with a corrupt line and names file:line', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  const out = join(root, '.memtune');
  mkdirSync(out);
  writeFileSync(join(out, 'memtune-journal.jsonl'), '{"this is": not json}\n{"schemaVersion":1}\n');
  const result = runMemtune(['bench', '--resume'], { cwd: root });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /memtune-journal\.jsonl:1/);
});

test('--resume continues from the journal and measures only what is missing', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  const first = runMemtune(['bench'], { cwd: root });
  assert.equal(first.status, 0, first.stderr);
  const journal = join(root, '.memtune', 'memtune-journal.jsonl');
  // As a bench stopped before @m/native ran leaves it: the options line and the runs of @m/js.
  const lines = readFileSync(journal, 'utf8').trim().split('\n');
  writeFileSync(journal, `${lines.filter((line) => !line.includes('"name":"@m/native"')).join('\n')}\n`);
  const result = runMemtune(['bench', '--resume'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /@m\/js( \(counts, unmeasured\))? started/);
  assert.match(result.stderr, /@m\/native started/);
  assert.deepEqual(
    readReport(join(root, '.memtune'))
      .packages.map((pkg) => pkg.name)
      .sort(),
    ['@m/js', '@m/native'],
  );
  assert.equal(readFileSync(journal, 'utf8').trim().split('\n').length, 5, 'the options line and two runs per package');
});

test('--filter that matches nothing lists the packages', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  const result = runMemtune(['bench', '--filter', '@other/*'], { cwd: root });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--filter "@other\/\*": matches no package; the packages are: .*@m\/js/);
});

test('a package starts beside another only while their expected peaks fit the --budget', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    ...checkedPackage('a'),
    ...checkedPackage('b'),
  });
  linkTypeScript(root, 'typescript-5');
  const tight = runMemtune(['bench', '--concurrency', '2', '--budget', '1MiB'], { cwd: root });
  assert.equal(tight.status, 0, tight.stderr);
  assert.match(tight.stderr, /a started\n\[2\/4\] a: .*\nb \(counts, unmeasured\) started\n/, 'b waits until a ended');
  assert.deepEqual(
    readReport(join(root, '.memtune')).packages.map((pkg) => pkg.parallel),
    [false, false],
  );
  const roomy = runMemtune(['bench', '--concurrency', '2', '--budget', '100%'], { cwd: root });
  assert.equal(roomy.status, 0, roomy.stderr);
  assert.match(roomy.stderr, /a \(counts, unmeasured\) started\nb \(counts, unmeasured\) started\n/);
  assert.deepEqual(
    readReport(join(root, '.memtune')).packages.map((pkg) => pkg.parallel),
    [true, true],
    'overlapping timings are marked',
  );
});

test('Ctrl-C stops the running compiler, keeps the finished runs and says how to resume', async (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    ...checkedPackage('a'),
    'packages/b/package.json': { name: 'b' },
    'packages/b/tsconfig.json': { files: [] },
  });
  linkTypeScript(join(root, 'packages/a'), 'typescript-5');
  // The pid file appears whole (renamed into place). Caught between its creation and the write, it read as pid 0,
  // and kill(0, 0), which signals the test's own process group, succeeded: "the compiler is left running".
  const slow = fakeCompiler(join(root, 'packages/b'), `${writeWhole(join(root, 'slow.pid'), 'String(process.pid)')}setTimeout(() => {}, 60_000);\n`);
  mkdirSync(join(root, 'packages/b/node_modules'));
  symlinkSync(slow, join(root, 'packages/b/node_modules/typescript'), 'dir');

  const child = spawn(process.execPath, [BIN, 'bench', '--concurrency', '1'], { cwd: root, env: cleanEnv() });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Interrupt once the slow compiler really runs: the first one has finished by then.
  const poll = setInterval(() => {
    if (!/b \(counts, unmeasured\) started/.test(stderr) || !existsSync(join(root, 'slow.pid'))) return;
    child.kill('SIGINT');
    clearInterval(poll);
  }, 50);
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearInterval(poll);
  clearTimeout(watchdog);
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted; 2 of 4 runs finished and are kept\.\nRun memtune bench --resume/);
  assert.deepEqual(
    readReport(join(root, '.memtune')).packages.map((pkg) => pkg.name),
    ['a'],
  );
  assert.equal(
    readFileSync(join(root, '.memtune', 'memtune-journal.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    3,
    'the options line and the two finished runs',
  );
  const pid = Number(readFileSync(join(root, 'slow.pid'), 'utf8'));
  assert.ok(Number.isInteger(pid) && pid > 0, `the compiler's pid: ${pid}`);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the interrupted compiler is not left running');
});

test('--script measures the package script with the probe in every node it starts, and skips packages without it', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    ...checkedPackage('a', { scripts: { typecheck: 'node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit' } }),
    ...checkedPackage('b'),
  });
  linkTypeScript(join(root, 'packages/a'), 'typescript-6');
  linkTypeScript(join(root, 'packages/b'), 'typescript-6');
  const result = runMemtune(['bench', '--script', 'typecheck'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const report = readReport(join(root, '.memtune'));
  const [a] = report.packages;
  assert.equal(a?.task, 'npm run typecheck');
  assert.equal(a?.status, 'ok', a?.runs[0]?.messages);
  assert.ok(a!.peakHeapUsedBytes! > 10 * 1024 * 1024, 'the compiler inside npm run is probed');
  assert.deepEqual(report.skipped, [{ name: 'b', dir: 'packages/b', reason: 'no "typecheck" script in package.json' }]);
});

test('--script reads the heap from GC lines only where node writes to memtune: a script that redirects node gets none in its file', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    'package.json': {
      name: 'gen',
      type: 'module',
      scripts: { build: 'node gen.js > out.json && node node_modules/typescript/bin/tsc -p tsconfig.json --noEmit' },
    },
    'gen.js': 'const keep = []; for (let i = 0; i < 300000; i++) keep.push({ i }); console.log(JSON.stringify({ n: keep.length }));\n',
    'tsconfig.json': { compilerOptions: { strict: true, module: 'nodenext', rootDir: 'src', types: [] }, include: ['src'] },
    'src/index.ts': LIB,
  });
  linkTypeScript(root, 'typescript-6');
  const result = runMemtune(['bench', '--script', 'build'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'out.json'), 'utf8')), { n: 300000 }, "the redirected output is the script's own");
  const report = readReport(join(root, '.memtune'));
  const [pkg] = report.packages;
  assert.equal(pkg?.status, 'ok', pkg?.runs[0]?.messages);
  assert.ok(pkg!.peakHeapUsedBytes! > 10 * 1024 * 1024 && pkg!.gcCount! > 0, 'the compiler writes to the pipe: its GC lines are read');
  assert.equal(pkg?.profile, 'build');
  assert.equal(report.recommendations.heap[0]?.section, 'build', 'a --script build heap belongs under [build]');
});

test('every run of an incremental package is cold, with build info of its own, and runs of one package never overlap', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    'package.json': { name: 'lib', type: 'module' },
    'tsconfig.json': { extends: 'memtune/tsconfig/library.json' },
    'src/index.ts': LIB,
  });
  linkTypeScript(root, 'typescript-6');
  const result = runMemtune(['bench', '--runs', '3', '--concurrency', '2'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const [pkg] = readReport(join(root, '.memtune')).packages;
  assert.deepEqual(
    pkg?.runs.map((run) => run.status),
    ['ok', 'ok', 'ok'],
    pkg?.runs.map((run) => run.messages).join('\n'),
  );
  assert.ok(pkg!.diagnostics.instantiations! > 0, 'counted by the unmeasured counting run');
  assert.deepEqual(
    pkg!.runs.map((run) => run.parallel),
    [false, false, false],
    'no run of the package ran beside another',
  );
  assert.ok(!existsSync(join(root, 'tsconfig.tsbuildinfo')) && !existsSync(join(root, 'dist')), 'nothing written into the package');

  // What each run is handed: a compiler that logs its arguments and whether its build info already existed.
  const log = join(root, 'calls.jsonl');
  const fake = join(root, 'fake-typescript');
  writeTree(root, {
    'fake-typescript/package.json': { name: 'typescript', version: '6.0.0' },
    'fake-typescript/bin/tsc': [
      "const fs = require('node:fs');",
      "if (process.argv.includes('--showConfig')) { console.log(JSON.stringify({ compilerOptions: { composite: true }, include: ['src'] })); process.exit(0); }",
      "const at = process.argv.indexOf('--tsBuildInfoFile');",
      'const file = at < 0 ? null : process.argv[at + 1];',
      `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ file, existed: file !== null && fs.existsSync(file), counts: process.argv.includes('--extendedDiagnostics') }) + '\\n');`,
      "if (file) fs.writeFileSync(file, '{}');",
    ].join('\n'),
  });
  const faked = runMemtune(['bench', '--runs', '3', '--compiler', fake], { cwd: root });
  assert.equal(faked.status, 0, faked.stderr);
  const calls = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string | null; existed: boolean; counts: boolean });
  assert.deepEqual(
    calls.map((call) => call.counts),
    [true, false, false, false],
    'one counting run, then three measured runs without --extendedDiagnostics',
  );
  assert.ok(
    calls.every((call) => call.file !== null && !call.existed),
    'each run starts from build info nothing has written',
  );
  assert.equal(new Set(calls.map((call) => call.file)).size, 4, 'no two runs share build info');
});

test('a failed run shows its first compiler errors, without GC lines, in the JSON, the Markdown and on the terminal', (t) => {
  const root = tempDir(t);
  const errors = Array.from({ length: 40 }, (_, i) => `export const n${i}: number = "not a number ${i}";`).join('\n');
  writeTree(root, {
    'package.json': { name: 'broken', type: 'module' },
    'tsconfig.json': { compilerOptions: { strict: true, module: 'nodenext', rootDir: 'src', types: [] }, include: ['src'] },
    'src/index.ts': `${errors}\n`,
  });
  linkTypeScript(root, 'typescript');
  const result = runMemtune(['bench'], { cwd: root });
  assert.equal(result.status, 0, 'type errors do not fail the bench');
  const [pkg] = readReport(join(root, '.memtune')).packages;
  assert.equal(pkg?.status, 'failed');
  const messages = pkg!.runs[0]!.messages!.split('\n');
  assert.equal(messages.length, 20);
  assert.match(messages[0]!, /^src\/index\.ts\(1,14\): error TS2322: Type 'string' is not assignable to type 'number'\.$/);
  for (const line of messages) assert.match(line, /^src\/index\.ts\(\d+,14\): error TS2322: Type 'string' is not assignable to type 'number'\.$/, 'whole messages, no gc lines');
  const md = readFileSync(join(root, '.memtune', 'memtune-report.md'), 'utf8');
  assert.match(md, /## Messages\n\nbroken \(`tsc -p tsconfig\.json --noEmit`\), failed \(exit \d\):\n\n```text\nsrc\/index\.ts\(1,14\): error TS2322/);
  assert.match(result.stderr, /\[2\/2\] broken: failed \(exit \d\), .*: src\/index\.ts\(1,14\): error TS2322/);
  assert.match(result.stderr, /memtune: broken \(\.\): tsc -p tsconfig\.json --noEmit ended failed \(exit \d\):\nsrc\/index\.ts\(1,14\)/);
});

test('a tsconfig its compiler cannot read is config-error, not type errors, and fails the bench', (t) => {
  const root = tempDir(t);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    'packages/json/package.json': { name: 'json', type: 'module' },
    'packages/json/tsconfig.json': '{ "compilerOptions": { "strict": true, }, "include": ["src"]\n',
    'packages/json/src/index.ts': LIB,
    'packages/extends/package.json': { name: 'extends', type: 'module' },
    'packages/extends/tsconfig.json': { extends: './missing.json', include: ['src'] },
    'packages/extends/src/index.ts': LIB,
    'packages/fine/package.json': { name: 'fine', type: 'module' },
    'packages/fine/tsconfig.json': { compilerOptions: { strict: true, module: 'nodenext', rootDir: 'src', types: [] }, include: ['src'] },
    'packages/fine/src/index.ts': LIB,
  });
  for (const compiler of ['typescript-6', 'typescript'] as const) {
    rmSync(join(root, 'node_modules'), { recursive: true, force: true });
    linkTypeScript(root, compiler);
    const result = runMemtune(['bench'], { cwd: root });
    assert.equal(result.status, 1, `${compiler}: ${result.stderr}`);
    const report = readReport(join(root, '.memtune'));
    const status = Object.fromEntries(report.packages.map((pkg) => [pkg.name, pkg.status]));
    assert.deepEqual(status, { extends: 'config-error', fine: 'ok', json: 'config-error' }, compiler);
    const extendsRun = report.packages.find((pkg) => pkg.name === 'extends')!.runs[0]!;
    assert.match(extendsRun.messages!, /TS5083: Cannot read file '.*missing\.json'/, compiler);
    assert.match(result.stderr, /memtune: json \(packages\/json\): .* ended config-error/, compiler);
  }
});

test('--warm measures the re-check beside the build info and --solution the root tsc -b --force', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    'tsconfig.json': { extends: 'memtune/tsconfig/solution.json', references: [{ path: 'packages/lib' }] },
    'packages/lib/package.json': { name: 'lib', type: 'module' },
    'packages/lib/tsconfig.json': { extends: 'memtune/tsconfig/library.json' },
    'packages/lib/src/index.ts': LIB,
  });
  linkTypeScript(root, 'typescript-6');
  const result = runMemtune(['bench', '--warm', '--solution'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const report = readReport(join(root, '.memtune'));
  assert.equal(report.options.warm, true);
  assert.equal(report.packages[0]?.task, 'tsc -p tsconfig.json --noEmit (warm)');
  assert.equal(report.packages[0]?.status, 'ok', report.packages[0]?.runs[0]?.messages);
  assert.equal(report.solution?.task, 'tsc -b --force');
  assert.equal(report.solution?.status, 'ok', report.solution?.runs[0]?.messages);
  assert.ok(report.solution!.peakRssBytes! > 0 && report.solution!.peakHeapUsedBytes! > 0);
});

test('refuses option values it cannot use, naming them, before anything runs', (t) => {
  const root = tempDir(t);
  mixedCompilerWorkspace(root);
  const cases: Array<[string[], RegExp]> = [
    [['--runs', '0'], /^memtune: --runs "0": not a positive whole number\.\nWrite e\.g\. --runs=2/],
    [['--concurrency', 'two'], /^memtune: --concurrency "two": not a positive whole number/],
    [['--budget', '150%'], /^memtune: --budget "150%": more than 100 % of the memory limit: the runs would not fit in memory\.\nWrite a share/],
    [['--budget', '4gb'], /^memtune: --budget "4gb": not a memory size/],
    [['--timeout', 'soon'], /^memtune: --timeout "soon": not a positive number of seconds/],
    [['--warm', '--script', 'build'], /^memtune: --warm and --script cannot be combined/],
    [['--compiler', 'nowhere'], /^memtune: --compiler "nowhere": not a TypeScript compiler/],
    [['--solution'], /^memtune: --solution needs the root's typescript/],
    [['--bogus'], /^memtune: unknown option "--bogus"\.\nRun memtune bench --help/],
  ];
  for (const [args, message] of cases) {
    const result = runMemtune(['bench', ...args], { cwd: root });
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.ok(!existsSync(join(root, '.memtune')), `${args.join(' ')} wrote nothing`);
  }
});

test('finds pnpm workspace packages, and inside a package measures that package alone', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    'package.json': { name: 'mono', private: true },
    'pnpm-workspace.yaml': "packages:\n  - 'libs/*'\n",
    'libs/a/package.json': { name: 'a', type: 'module' },
    'libs/a/tsconfig.json': { extends: 'memtune/tsconfig/check.json' },
    'libs/a/src/index.ts': LIB,
    'libs/b/package.json': { name: 'b', type: 'module' },
    'libs/b/tsconfig.json': { extends: 'memtune/tsconfig/check.json' },
    'libs/b/src/index.ts': LIB,
  });
  linkTypeScript(root, 'typescript');
  const all = runMemtune(['bench', '--json'], { cwd: root });
  assert.equal(all.status, 0, all.stderr);
  assert.deepEqual(
    (JSON.parse(all.stdout) as BenchReport).packages.map((pkg) => [pkg.name, pkg.dir]),
    [
      ['a', 'libs/a'],
      ['b', 'libs/b'],
    ],
  );
  const one = runMemtune(['bench', '--json'], { cwd: join(root, 'libs/b/src') });
  assert.equal(one.status, 0, one.stderr);
  assert.deepEqual(
    (JSON.parse(one.stdout) as BenchReport).packages.map((pkg) => pkg.name),
    ['b'],
  );
  assert.ok(existsSync(join(root, '.memtune', 'memtune-report.json')), 'the report goes to the workspace root');
});

test('--baseline fails the bench when a package grew past --max-growth, and refuses a baseline it cannot read before any run', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, { ...WORKSPACE_ROOT, ...checkedPackage('a') });
  linkTypeScript(root, 'typescript-6');
  const first = runMemtune(['bench', '--out', 'first'], { cwd: root });
  assert.equal(first.status, 0, first.stderr);
  const baseline = readReport(join(root, 'first'));
  const [a] = baseline.packages;
  // The same package, as if it had needed a third of the memory before.
  a!.peakRssBytes = Math.round(a!.peakRssBytes! / 3);
  a!.spread = {};
  writeFileSync(join(root, 'baseline.json'), JSON.stringify(baseline));

  const same = runMemtune(['bench', '--out', 'same', '--baseline', 'first/memtune-report.json', '--max-growth', '50%'], { cwd: root });
  assert.equal(same.status, 0, same.stderr);
  assert.equal(readReport(join(root, 'same')).baseline?.regressions, 0);

  const grown = runMemtune(['bench', '--out', 'grown', '--baseline', 'baseline.json'], { cwd: root });
  assert.equal(grown.status, 1, grown.stderr);
  assert.match(grown.stderr, /memtune: a \(packages\/a\) regressed against baseline\.json: peak RSS \d+ → \d+ MiB \(\+\d+ %\), allowed \+\d+ MiB: (max-growth|noise floor) ⚠\.\n/);
  assert.match(readFileSync(join(root, 'grown', 'memtune-report.md'), 'utf8'), /## Compared with the baseline/);

  for (const [args, message] of [
    [['--baseline', 'missing.json'], /^memtune: --baseline "missing\.json": cannot be read \(ENOENT\)\.\nPass the memtune-report\.json/],
    [['--baseline', 'package.json'], /^memtune: --baseline "package\.json": not a memtune report/],
    [['--max-growth', '10%'], /^memtune: --max-growth needs --baseline/],
  ] as const) {
    const result = runMemtune(['bench', '--out', 'refused', ...args], { cwd: root });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.ok(!existsSync(join(root, 'refused')), `${args.join(' ')} wrote nothing`);
  }
});

test('--update-baseline writes the report as the next baseline atomically, --format github-action-benchmark prints its series, bad values exit 2', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, { ...WORKSPACE_ROOT, ...checkedPackage('a') });
  linkTypeScript(root, 'typescript-6');
  const first = runMemtune(['bench', '--out', 'first', '--runs', '2', '--update-baseline', 'base/line/baseline.json', '--format', 'github-action-benchmark'], { cwd: root });
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /memtune: wrote baseline base\/line\/baseline\.json\n/);
  assert.deepEqual(readdirSync(join(root, 'base', 'line')), ['baseline.json'], 'no temporary file left beside it');
  const series = JSON.parse(first.stdout) as Array<{ name: string; unit: string; value: number; range?: string; extra?: string }>;
  assert.deepEqual(
    series.map((entry) => [entry.name, entry.unit]),
    [
      ['a (tsc -p tsconfig.json --noEmit) peak RSS', 'MiB'],
      ['a (tsc -p tsconfig.json --noEmit) peak heap', 'MiB'],
    ],
  );
  assert.ok(
    series.every((entry) => entry.value > 0 && /^± \d+(\.\d)?$/.test(entry.range ?? '') && /runs: 2\ncompiler: TypeScript 6\./.test(entry.extra ?? '')),
    first.stdout,
  );
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'first', 'memtune-benchmark.json'), 'utf8')), series);

  // The file written is a baseline the next bench reads, gates against, and replaces.
  // --max-growth: a tiny check's RSS moves past the noise floor between runs; the gate itself is tested elsewhere.
  const gate = ['--baseline', 'base/line/baseline.json', '--max-growth', '1000%'];
  const next = runMemtune(['bench', '--out', 'next', '--runs', '2', ...gate, '--update-baseline', 'base/line/baseline.json', '--json'], {
    cwd: root,
  });
  assert.equal(next.status, 0, next.stderr);
  assert.equal((JSON.parse(next.stdout) as BenchReport).baseline?.packages[0]?.state, 'compared');
  assert.equal(
    (JSON.parse(readFileSync(join(root, 'base', 'line', 'baseline.json'), 'utf8')) as BenchReport).generatedAt,
    readReport(join(root, 'next')).generatedAt,
    'replaced by the new report',
  );

  const renamed = readReport(join(root, 'first'));
  renamed.packages[0]!.name = 'elsewhere';
  writeFileSync(join(root, 'renamed.json'), JSON.stringify(renamed));
  const foreign = runMemtune(['bench', '--out', 'foreign', '--baseline', 'renamed.json'], { cwd: root });
  assert.equal(foreign.status, 2, foreign.stderr);
  assert.match(
    foreign.stderr,
    /^memtune: --baseline "renamed\.json": has no package in common with this run \(by name and task\): the baseline measured elsewhere \(.*\); this run plans a \(.*\)\./m,
  );
  assert.ok(!existsSync(join(root, 'foreign', 'memtune-report.json')), 'nothing measured');
  assert.ok(!existsSync(join(root, 'foreign', 'memtune-journal.jsonl')), 'no journal left behind');

  const otherMajor = readReport(join(root, 'first'));
  otherMajor.packages[0]!.compiler.version = '5.9.3';
  writeFileSync(join(root, 'other-major.json'), JSON.stringify(otherMajor));
  const refused = runMemtune(['bench', '--out', 'major', '--baseline', 'other-major.json'], { cwd: root });
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /a: the baseline measured TypeScript 5\.9\.3, this run uses 6\.0\.3 \(another major\)\.\n.*--update-baseline/s);
  assert.ok(!existsSync(join(root, 'major', 'memtune-journal.jsonl')), 'refused before any run');

  const elsewhere = readReport(join(root, 'first'));
  elsewhere.environment.node = 'v18.20.0';
  elsewhere.environment.cpu.count = 64;
  writeFileSync(join(root, 'elsewhere.json'), JSON.stringify(elsewhere));
  const warned = runMemtune(['bench', '--out', 'warned', '--baseline', 'elsewhere.json', '--max-growth', '50%'], { cwd: root });
  assert.equal(warned.status, 0, warned.stderr);
  assert.match(warned.stderr, /^memtune: warning: elsewhere\.json: the baseline ran on Node v18\.20\.0, this run on v\d+/m);
  assert.match(warned.stderr, /^memtune: warning: elsewhere\.json: the baseline had 64 CPUs/m);
  assert.match(readFileSync(join(root, 'warned', 'memtune-report.md'), 'utf8'), /the baseline had 64 CPUs/, 'the warning is in the report (and so the job summary)');

  writeFileSync(join(root, 'blocker'), '');
  const unwritable = runMemtune(['bench', '--out', 'third', '--update-baseline', 'blocker/baseline.json'], { cwd: root });
  assert.equal(unwritable.status, 2, unwritable.stderr);
  assert.match(unwritable.stderr, /^memtune: --update-baseline "blocker\/baseline\.json": cannot be written \((ENOTDIR|EEXIST)\)\./m);
  assert.ok(existsSync(join(root, 'third', 'memtune-report.json')), 'the report in --out is still written');

  const format = runMemtune(['bench', '--out', 'refused', '--format', 'yaml'], { cwd: root });
  assert.equal(format.status, 2, format.stderr);
  assert.match(format.stderr, /^memtune: --format "yaml": not a format; the formats are markdown, json, github-action-benchmark\./);
  assert.ok(!existsSync(join(root, 'refused')), 'nothing ran');
});

test('on a terminal the progress is one rewritten line with done/total and the running package', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, { ...WORKSPACE_ROOT, ...checkedPackage('a'), ...checkedPackage('b') });
  linkTypeScript(root, 'typescript-6');
  // script(1) gives the bench a pseudo-terminal, as a developer's shell would.
  const command = [process.execPath, BIN, 'bench', '--concurrency', '1'].map((part) => `'${part}'`).join(' ');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: root, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  // The progress line is rewritten in place: carriage return, then ESC [K to clear it.
  const rewritten = (text: string) => new RegExp(`\r${String.fromCharCode(27)}\\[K${text}`);
  assert.match(result.stdout, rewritten('\\[1/4\\] a \\d+\\.\\ds'), 'the running package and its elapsed time');
  assert.match(result.stdout, rewritten('\\[2/4\\] a: ok, '), 'finished runs stay as lines');
  assert.doesNotMatch(result.stdout, /^a started$/m, 'no plain "started" lines on a terminal');
});

test('a package whose tsconfig.json is a solution is measured per project inside it; one that only references other packages is skipped', (t) => {
  const root = tempDir(t);
  linkMemtune(root);
  writeTree(root, {
    ...WORKSPACE_ROOT,
    ...checkedPackage('lib'),
    // The layout Vite's templates create: tsconfig.json checks nothing itself.
    'packages/web/package.json': { name: 'web', type: 'module' },
    'packages/web/tsconfig.json': { files: [], references: [{ path: './tsconfig.app.json' }, { path: './tsconfig.node.json' }] },
    'packages/web/tsconfig.app.json': { extends: 'memtune/tsconfig/check.json', include: ['src'] },
    'packages/web/tsconfig.node.json': { extends: 'memtune/tsconfig/check.json', compilerOptions: { rootDir: '.' }, include: ['vite.config.ts'] },
    'packages/web/src/main.ts': LIB,
    'packages/web/vite.config.ts': 'export default {};\n',
    'packages/umbrella/package.json': { name: 'umbrella' },
    'packages/umbrella/tsconfig.json': { files: [], references: [{ path: '../lib' }] },
  });
  linkTypeScript(root, 'typescript');
  const result = runMemtune(['bench'], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  const report = readReport(join(root, '.memtune'));
  const measured = report.packages.map((pkg) => [pkg.name, pkg.task, pkg.status, pkg.diagnostics.files! > 0]).sort();
  assert.deepEqual(measured, [
    ['lib', 'tsc -p tsconfig.json --noEmit', 'ok', true],
    ['web (tsconfig.app.json)', 'tsc -p tsconfig.app.json --noEmit', 'ok', true],
    ['web (tsconfig.node.json)', 'tsc -p tsconfig.node.json --noEmit', 'ok', true],
  ]);
  assert.deepEqual(report.skipped, [
    { name: 'umbrella', dir: 'packages/umbrella', reason: 'tsconfig.json only references other packages (files: []): nothing of its own to check' },
  ]);
});
