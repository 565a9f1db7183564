import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { satisfies, type Finding } from '../../src/doctor/effects/checks.js';
import { BIN, REPO, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';

const MAJOR = Number(process.versions.node.split('.')[0]);

function doctorJson(cwd: string, env: Record<string, string> = {}): { status: number | null; ok: boolean; findings: Finding[] } {
  const result = runMemtune(['doctor', '--json'], { cwd, env: cleanEnv(env) });
  const parsed = JSON.parse(result.stdout) as { ok: boolean; findings: Finding[] };
  return { status: result.status, ...parsed };
}

test('doctor finds nothing wrong in a healthy package and exits 0', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, {
    'package.json': { name: 'ok', engines: { node: `>=${MAJOR}` } },
    '.nvmrc': `${MAJOR}\n`,
    '.node-options': '--max-old-space-size=50%\n[test]\n--max-old-space-size=25%\n',
  });
  const report = doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' });
  assert.equal(report.status, 0);
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.findings.filter((finding) => finding.severity === 'error'),
    [],
  );
  assert.ok(report.findings.some((finding) => finding.check === 'heap' && finding.message === 'profile build: --max-old-space-size=1024 of a 2 GiB limit'));
});

test('doctor reports each problem with a severity and file:line, and exits 1 on an error', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, {
    'package.json': { name: 'bad', engines: { node: '>=99' } },
    '.nvmrc': '18\n',
    '.node-options': '# pasted\n--max-old-space-size=4096\n--optimize-for-size\n--gc-interval=100\n',
    'tsconfig.json': '{\n  // comments are fine here\n  "compilerOptions": {\n    "assumeChangesOnlyAffectDirectDependencies": true\n  }\n}\n',
  });
  const report = doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' });
  assert.equal(report.status, 1);
  assert.equal(report.ok, false);
  const find = (check: string, pattern: RegExp) => report.findings.find((finding) => finding.check === check && pattern.test(finding.message));
  assert.equal(find('node-options-file', /\.node-options:4: --gc-interval is not allowed in NODE_OPTIONS/)?.severity, 'error');
  assert.equal(find('node-options-file', /\.node-options:3: --optimize-for-size/)?.severity, 'error');
  assert.equal(find('heap', /^profile build: .*\.node-options:2: --max-old-space-size=4096 is above the memory limit, 2048 MiB/)?.severity, 'error');
  assert.equal(find('engines', /does not satisfy engines\.node ">=99"/)?.severity, 'error');
  assert.equal(find('nvmrc', /\.nvmrc pins Node 18, which is end-of-life/)?.severity, 'warning');
  const tsconfig = find('tsconfig', /assumeChangesOnlyAffectDirectDependencies acts only in watch mode/);
  assert.equal(tsconfig?.severity, 'warning');
  assert.equal(tsconfig?.where, 'tsconfig.json:4');
});

test('doctor refuses a malformed .node-options with file:line and an invalid MEMTUNE_MEMORY_LIMIT', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, { 'package.json': { name: 'bad' }, '.node-options': '\n[bild]\n' });
  const report = doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: 'lots' });
  assert.equal(report.status, 1);
  assert.ok(report.findings.some((finding) => finding.severity === 'error' && /\.node-options:2: unknown profile section \[bild\]/.test(finding.message)));
  assert.ok(report.findings.some((finding) => finding.severity === 'error' && finding.check === 'memory-limit' && /MEMTUNE_MEMORY_LIMIT="lots"/.test(finding.message)));
});

test('doctor at the root checks the .node-options of every workspace package, and names one it cannot read', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, {
    'package.json': { name: 'root', private: true, workspaces: ['packages/*'] },
    'packages/a/package.json': { name: 'a' },
    'packages/a/.node-options': '--max-old-space-size=50%\n--gc-interval=100\n',
    'packages/b/package.json': { name: 'b' },
  });
  mkdirSync(join(cwd, 'packages', 'b', '.node-options'));
  const report = doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' });
  assert.equal(report.status, 1);
  const bad = report.findings.find((finding) => finding.check === 'node-options-file' && finding.severity === 'error' && /--gc-interval/.test(finding.message));
  assert.equal(bad?.where, join(cwd, 'packages', 'a', '.node-options:2'));
  const unreadable = report.findings.find((finding) => finding.where === join(cwd, 'packages', 'b', '.node-options'));
  assert.match(unreadable?.message ?? '', /: cannot be read \(EISDIR\)\./);
  assert.equal(unreadable?.severity, 'error');
});

test('doctor lists the TypeScript compilers of every workspace package, native or JavaScript', (t) => {
  const root = tempDir(t, 'memtune-doctor-');
  writeTree(root, {
    'package.json': { name: 'root', private: true, workspaces: ['packages/*'], devDependencies: { typescript: '7.0.2' } },
    'packages/old/package.json': { name: 'old', devDependencies: { typescript: '6.0.3' } },
  });
  mkdirSync(join(root, 'node_modules'));
  mkdirSync(join(root, 'packages/old/node_modules'));
  symlinkSync(join(REPO, 'node_modules', 'typescript'), join(root, 'node_modules', 'typescript'));
  symlinkSync(join(REPO, 'node_modules', 'typescript-6'), join(root, 'packages/old/node_modules', 'typescript'));
  const report = doctorJson(join(root, 'packages', 'old'));
  const messages = report.findings.filter((finding) => finding.check === 'typescript').map((finding) => finding.message);
  assert.ok(messages.includes('typescript 7.0.2, native (Go): GOMEMLIMIT, GOGC and --checkers size it, V8 flags do not; in .'), messages.join('\n'));
  assert.ok(messages.includes('typescript 6.0.3, JavaScript on V8: NODE_OPTIONS sizes it; in packages/old'), messages.join('\n'));
});

test('doctor prints readable lines with a count, and the same exit code as --json', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, { 'package.json': { name: 'x' }, '.node-options': '--trace-gc\n' });
  const result = runMemtune(['doctor'], { cwd, env: cleanEnv() });
  assert.equal(result.status, 1);
  assert.match(result.stdout, /^error {3}node-options-file .*\.node-options:1: --trace-gc is not allowed in NODE_OPTIONS/m);
  assert.match(result.stdout, /^1 errors, \d+ warnings$/m);
});

test('satisfies reads the engines ranges people write', () => {
  const table: Array<[string, string, boolean | undefined]> = [
    ['v20.20.2', '>=20.11', true],
    ['v20.10.0', '>=20.11', false],
    ['v26.1.0', '^20 || >=22', true],
    ['v21.0.0', '^20 || >=22', false],
    ['v20.20.2', '20.x', true],
    ['v20.20.2', '>= 18 < 21', true],
    ['v22.1.0', '~22.1', true],
    ['v22.2.0', '~22.1', false],
    ['v20.0.0', 'lts/*', undefined],
  ];
  for (const [version, range, expected] of table) assert.equal(satisfies(version, range), expected, `${version} ${range}`);
});

// ---------- hostile input and faults (issue 12) ----------

test('doctor where there is no package.json here or above is an error naming the directory, with a fix, and exits 2', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, { '.nvmrc': `${MAJOR}\n` });
  for (const args of [['doctor'], ['doctor', '--json']]) {
    const result = runMemtune(args, { cwd, env: cleanEnv() });
    assert.equal(result.status, 2, args.join(' '));
    assert.equal(result.stdout, '', 'no report: there is no project to report on');
    assert.match(result.stderr, /^memtune: .*memtune-doctor-\S+ is not inside a package: no package\.json here or above\.\nRun memtune doctor in your project/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('an .nvmrc that names no Node version is a warning naming the file and the forms nvm and memtune accept', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, { 'package.json': { name: 'x' }, '.nvmrc': 'banana\n' });
  const report = doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' });
  const nvmrc = report.findings.filter((finding) => finding.check === 'nvmrc');
  assert.equal(nvmrc.length, 1, JSON.stringify(nvmrc));
  assert.equal(nvmrc[0]!.severity, 'warning');
  assert.equal(nvmrc[0]!.where, join(cwd, '.nvmrc'));
  assert.match(nvmrc[0]!.message, /^.*\.nvmrc says "banana", which is not a Node version\. Write a major \(\d+\), a version \(\d+\.1\.0\), lts\/\* or lts\/<codename>/);
});

test('.nvmrc is compared with the running node in full: another version of the same major is a warning, the major alone is fine', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, { 'package.json': { name: 'x' } });
  const [, minor] = process.versions.node.split('.');
  const cases: Array<[string, Finding['severity']]> = [
    [`${MAJOR}.99.0`, 'warning'],
    [`v${MAJOR}.${minor}.999`, 'warning'],
    [`${MAJOR}.999`, 'warning'],
    [`${MAJOR}`, 'info'],
    [`v${MAJOR}.${minor}`, 'info'],
    [`v${process.versions.node}`, 'info'],
    [process.versions.node, 'info'],
  ];
  for (const [pin, severity] of cases) {
    writeTree(cwd, { '.nvmrc': `${pin}\n` });
    const nvmrc = doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' }).findings.filter((finding) => finding.check === 'nvmrc' && !/end-of-life/.test(finding.message));
    assert.equal(nvmrc.length, 1, pin);
    assert.equal(nvmrc[0]!.severity, severity, `${pin}: ${nvmrc[0]!.message}`);
    const expected = severity === 'warning' ? `.nvmrc pins Node ${pin} but this is node v${process.versions.node}:` : `.nvmrc pins Node ${pin}, as running`;
    assert.ok(nvmrc[0]!.message.startsWith(expected), nvmrc[0]!.message);
  }
});

test("doctor applies the package's .env as memtune run does (the real environment wins) and says where the memory limit came from", (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, { 'package.json': { name: 'x' }, '.env': '# local settings\nMEMTUNE_MEMORY_LIMIT=1GiB\n' });
  const fromFile = doctorJson(cwd);
  const limit = fromFile.findings.find((finding) => finding.check === 'memory-limit');
  assert.equal(limit?.message, `memory limit 1 GiB from MEMTUNE_MEMORY_LIMIT in ${join(cwd, '.env')}`);
  assert.equal(limit?.where, join(cwd, '.env'));
  const build = fromFile.findings.find((finding) => finding.check === 'heap' && finding.message.startsWith('profile build:'));
  assert.equal(build?.message, 'profile build: --max-old-space-size=512 of a 1 GiB limit');
  // The heap memtune run would give under the same .env.
  const print = runMemtune(['run', 'build', '--print'], { cwd, env: cleanEnv() });
  assert.equal(print.status, 0, print.stderr);
  assert.match(print.stdout, /--max-old-space-size=512\b/);

  const fromEnv = doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' });
  assert.equal(fromEnv.findings.find((finding) => finding.check === 'memory-limit')?.message, 'memory limit 2 GiB from MEMTUNE_MEMORY_LIMIT in the environment');

  writeTree(cwd, { '.env': 'MEMTUNE_MEMORY_LIMIT=lots\n' });
  const bad = doctorJson(cwd);
  assert.equal(bad.status, 1);
  const error = bad.findings.find((finding) => finding.check === 'memory-limit');
  assert.equal(error?.severity, 'error');
  assert.equal(error?.where, join(cwd, '.env'));
  assert.match(error?.message ?? '', /MEMTUNE_MEMORY_LIMIT="lots"/);

  // A .env that cannot be read stops memtune run, so it is an error here too.
  rmSync(join(cwd, '.env'));
  mkdirSync(join(cwd, '.env'));
  const unreadable = doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' });
  assert.equal(unreadable.status, 1);
  assert.match(unreadable.findings.find((finding) => finding.check === 'env-file')?.message ?? '', /\.env": cannot be read \(EISDIR\)\./);
});

test('doctor exits quietly, with its usual exit code, when its stdout is closed (memtune doctor | head -1)', async (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, { 'package.json': { name: 'x' } });
  const expected = runMemtune(['doctor'], { cwd, env: cleanEnv() }).status;
  // The reader is gone before doctor writes its first line, as when `head -1` has exited: every write meets EPIPE.
  const child = spawn(process.execPath, [BIN, 'doctor'], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [status, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  assert.equal(stderr, '', 'nothing on stderr: no stack trace, no EPIPE');
  assert.equal(signal, null);
  assert.equal(status, expected);
});

test('doctor warns when git would commit .memtune/ and is quiet once .gitignore covers it', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, { 'package.json': { name: 'repo', engines: { node: `>=${MAJOR}` } }, '.nvmrc': `${MAJOR}\n` });
  assert.equal(spawnSync('git', ['init', '-q'], { cwd }).status, 0);
  const gitignore = (report: ReturnType<typeof doctorJson>) => report.findings.filter((finding) => finding.check === 'gitignore');
  assert.deepEqual(gitignore(doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' })), [
    {
      severity: 'warning',
      check: 'gitignore',
      message: '.memtune/ (bench reports, journals, diagnostics) is not ignored by git: add .memtune/ to .gitignore',
      where: '.gitignore',
    },
  ]);
  writeTree(cwd, { '.gitignore': 'node_modules/\n.memtune/\n' });
  assert.deepEqual(gitignore(doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' })), []);
});

test('doctor warns when turbo.json keeps MEMTUNE_* from the tasks and is quiet once globalPassThroughEnv lists them', (t) => {
  const cwd = tempDir(t, 'memtune-doctor-');
  writeTree(cwd, {
    'package.json': { name: 'repo', engines: { node: `>=${MAJOR}` } },
    '.nvmrc': `${MAJOR}\n`,
    'turbo.json': '{\n  // turbo.json may carry comments\n  "tasks": { "typecheck": { "passThroughEnv": ["MEMTUNE_MEMORY_LIMIT"] } }\n}\n',
  });
  const turbo = (report: ReturnType<typeof doctorJson>) => report.findings.filter((finding) => finding.check === 'turbo');
  const [warning, ...rest] = turbo(doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' }));
  assert.deepEqual(rest, []);
  assert.equal(warning?.severity, 'warning');
  assert.equal(warning?.where, 'turbo.json');
  assert.match(warning?.message ?? '', /does not pass MEMTUNE_TASK_LIMITS, MEMTUNE_NODE_OPTIONS to its tasks.*"globalPassThroughEnv": \["MEMTUNE_\*"\]/);
  writeTree(cwd, { 'turbo.json': { globalPassThroughEnv: ['MEMTUNE_*'], tasks: { typecheck: {} } } });
  assert.deepEqual(turbo(doctorJson(cwd, { MEMTUNE_MEMORY_LIMIT: '2GiB' })), []);
});
