import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { PackageResult } from '../../src/bench/types.js';
import { reportOf } from '../bench/report-fixture.js';
import { BIN, REPO, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';

const MiB = 1024 * 1024;

const result = (name: string, mib: number, heapMiB: number | null = null): PackageResult =>
  ({
    name,
    dir: `packages/${name}`,
    status: 'ok',
    compiler: { version: '5.9.3', native: false },
    peakRssBytes: mib * MiB,
    peakHeapUsedBytes: heapMiB === null ? null : heapMiB * MiB,
    spread: {},
    runs: [],
  }) as unknown as PackageResult;

/**
 * An npm workspace of packages a, b, c (and d, which the report does not know: added since) whose `script` runs
 * `command`; the real turbo on PATH through node_modules/.bin; a report measuring a, b, c at 500, 400, 300 MiB.
 */
function workspace(t: TestContext, options: { command?: string; turbo?: object; persistent?: boolean; report?: boolean; heapMiB?: number } = {}): string {
  const dir = tempDir(t, 'memtune-turbo-');
  const command = options.command ?? 'node -e 0';
  const files: Record<string, string | object> = {
    'package.json': { name: 'root', private: true, workspaces: ['packages/*'], packageManager: 'npm@11.19.1' },
    'turbo.json': options.turbo ?? { globalPassThroughEnv: ['MEMTUNE_*'], tasks: { typecheck: { cache: false, persistent: options.persistent === true } } },
  };
  if (options.report !== false) files['.memtune/memtune-report.json'] = reportOf([result('a', 500, options.heapMiB ?? null), result('b', 400), result('c', 300)]);
  for (const name of ['a', 'b', 'c', 'd']) files[`packages/${name}/package.json`] = { name, scripts: { typecheck: command } };
  writeTree(dir, files);
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules', 'turbo', 'bin', 'turbo'), join(dir, 'node_modules', '.bin', 'turbo'));
  return dir;
}

const env = (extra: Record<string, string | undefined> = {}) =>
  cleanEnv({ MEMTUNE_MEMORY_LIMIT: '1GiB', TURBO_TELEMETRY_DISABLED: '1', TURBO_CONCURRENCY: undefined, MEMTUNE_REPORT: undefined, MEMTUNE_TASK_LIMITS: undefined, ...extra });

test('--explain -- turbo run typecheck shows TURBO_CONCURRENCY from the measured peaks, the sum that decided it and a package the report does not know as estimated', (t) => {
  const dir = workspace(t);
  const explained = runMemtune(['run', 'typecheck', '--explain', '--', 'turbo', 'run', 'typecheck'], { cwd: dir, env: env() });
  assert.equal(explained.status, 0, explained.stderr);
  assert.match(explained.stdout, /^TURBO_CONCURRENCY=1 {2}500 MiB \(a#typecheck\) ≤ 819 MiB budget; one more \(400 MiB, b#typecheck\) would make 900 MiB$/m);
  assert.match(explained.stdout, /a#typecheck {2}packages\/a {2}500 MiB {2}measured: .*\.memtune\/memtune-report\.json/);
  assert.match(explained.stdout, /d#typecheck {2}packages\/d {2}\d+ MiB {2}estimated from 0 B of source; not in the report of 2026-11-22T10:00:00\.000Z \(added since\)/);
  assert.match(explained.stdout, /^MEMTUNE_TASK_LIMITS: .*packages\/a 819 MiB/m);
  const printed = runMemtune(['run', 'typecheck', '--print', '--', 'npx', 'turbo', 'typecheck'], { cwd: dir, env: env() });
  assert.match(printed.stdout, /^TURBO_CONCURRENCY=1$/m);
  assert.match(printed.stdout, /^MEMTUNE_TASK_LIMITS=\{"v":1,/m);
});

test('turbo really runs with the computed concurrency: three persistent tasks are refused at concurrency 1', (t) => {
  const dir = workspace(t, { persistent: true });
  const ran = runMemtune(['run', 'typecheck', '--', 'turbo', 'run', 'typecheck'], { cwd: dir, env: env() });
  assert.notEqual(ran.status, 0);
  assert.match(ran.stderr + ran.stdout, /configured for\s+(\|\s+)?concurrency of 1\b/);
});

test('a concurrency the user chose (--concurrency, TURBO_CONCURRENCY, turbo.json) is left alone, and --explain says which wins', (t) => {
  const dir = workspace(t);
  const flag = runMemtune(['run', 'typecheck', '--explain', '--', 'turbo', 'run', 'typecheck', '--concurrency', '7'], { cwd: dir, env: env() });
  assert.match(flag.stdout, /^turbo concurrency: --concurrency 7 in the command wins; memtune leaves it alone \(from the peaks it would set TURBO_CONCURRENCY=1: /m);
  const printed = runMemtune(['run', 'typecheck', '--print', '--', 'turbo', 'run', 'typecheck'], { cwd: dir, env: env({ TURBO_CONCURRENCY: '3' }) });
  assert.doesNotMatch(printed.stdout, /TURBO_CONCURRENCY|MEMTUNE_TASK_LIMITS/);
  const configured = workspace(t, { turbo: { concurrency: 5, globalPassThroughEnv: ['MEMTUNE_*'], tasks: { typecheck: {} } } });
  const fromFile = runMemtune(['run', 'typecheck', '--explain', '--', 'turbo', 'run', 'typecheck'], { cwd: configured, env: env() });
  assert.match(fromFile.stdout, /^turbo concurrency: "concurrency": "5" in turbo\.json wins/m);
});

test("a nested memtune run in a task sizes from its package's room in MEMTUNE_TASK_LIMITS", (t) => {
  const dir = workspace(t, { command: `node ${BIN} run typecheck --explain` });
  const ran = runMemtune(['run', 'typecheck', '--', 'turbo', 'run', 'typecheck', '--filter=a'], { cwd: dir, env: env() });
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(
    ran.stdout,
    /memory limit: 819 MiB from MEMTUNE_TASK_LIMITS of "memtune run typecheck -- turbo run typecheck --filter=a": room beside 0 other tasks in a 819 MiB budget/,
  );
});

test("a nested run gets its package's measured heap need where the profile's share of its room would undercut it", (t) => {
  // a peaks at 400 MiB of heap: the bench recommends 512 MiB; half of its 819 MiB room would be 409.
  const dir = workspace(t, { command: `node ${BIN} run typecheck --explain`, heapMiB: 400 });
  const ran = runMemtune(['run', 'typecheck', '--', 'turbo', 'run', 'typecheck', '--filter=a'], { cwd: dir, env: env() });
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(
    ran.stdout,
    /--max-old-space-size=512 +preset typecheck: the package's measured heap need, 512 MiB in MEMTUNE_TASK_LIMITS, within its 819 MiB share \(above 50% of it\)/,
  );
  const small = workspace(t, { command: `node ${BIN} run typecheck --explain`, heapMiB: 100 });
  const profile = runMemtune(['run', 'typecheck', '--', 'turbo', 'run', 'typecheck', '--filter=a'], { cwd: small, env: env() });
  assert.match(profile.stdout, /--max-old-space-size=409 +preset typecheck: 50% of 819 MiB/, 'a need below the profile share leaves the profile');
});

test('without MEMTUNE_* passed through in turbo.json memtune warns once that nested runs would size from the whole machine', (t) => {
  const dir = workspace(t, { turbo: { tasks: { typecheck: { cache: false } } } });
  const ran = runMemtune(['run', 'typecheck', '--explain', '--', 'turbo', 'run', 'typecheck'], { cwd: dir, env: env() });
  assert.equal(ran.status, 0);
  assert.equal(ran.stderr.match(/turbo does not pass/g)?.length, 1, ran.stderr);
  assert.match(
    ran.stderr,
    /turbo\.json: turbo does not pass MEMTUNE_TASK_LIMITS, MEMTUNE_MEMORY_LIMIT, MEMTUNE_NODE_OPTIONS to the tasks: .*whole machine\.\nAdd "globalPassThroughEnv": \["MEMTUNE_\*"\] to turbo\.json\./,
  );
});

test('a task no package has, and no report: memtune says so, sets nothing and starts turbo, which reports the missing task itself', (t) => {
  const dir = workspace(t);
  const ran = runMemtune(['run', 'typecheck', '--report', join(dir, '.memtune', 'memtune-report.json'), '--', 'turbo', 'run', 'nosuch'], { cwd: dir, env: env() });
  assert.match(ran.stderr, /memtune: warning: turbo run nosuch: no package has a "nosuch" script .*turbo's own default applies\./);
  assert.match(ran.stderr, /Could not find task `nosuch`/);
  assert.equal(ran.status, 1);
});

test('no report at all: every peak is estimated and a hint names memtune bench; a MEMTUNE_REPORT that cannot be read is refused', (t) => {
  const dir = workspace(t, { report: false });
  const estimated = runMemtune(['run', 'typecheck', '--explain', '--', 'turbo', 'run', 'typecheck'], { cwd: dir, env: env() });
  assert.equal(estimated.status, 0, estimated.stderr);
  assert.match(estimated.stderr, /no memtune bench report .*every peak is estimated from source size\.\nMeasure the packages once: memtune bench/);
  assert.match(estimated.stdout, /a#typecheck {2}packages\/a {2}\d+ MiB {2}estimated from 0 B of source; no report measured the type-check/);
  const missing = runMemtune(['run', 'typecheck', '--explain', '--', 'turbo', 'run', 'typecheck'], { cwd: dir, env: env({ MEMTUNE_REPORT: join(dir, 'none.json') }) });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /none\.json: cannot be read \(named in MEMTUNE_REPORT\)/);
});

test('a corrupt --report and a malformed MEMTUNE_TASK_LIMITS are refused with exit 2 before anything starts', (t) => {
  const dir = workspace(t);
  writeTree(dir, { 'bad.json': '{"packages": ' });
  const report = runMemtune(['run', 'typecheck', '--report', 'bad.json', '--', 'turbo', 'run', 'typecheck'], { cwd: dir, env: env() });
  assert.equal(report.status, 2);
  assert.match(report.stderr, new RegExp(`^memtune: ${join(dir, 'bad.json').replaceAll('/', '\\/')}: not valid JSON \\(`));
  const limits = runMemtune(['run', 'typecheck', '--', 'node', '-e', 'console.log("started")'], { cwd: join(dir, 'packages', 'a'), env: env({ MEMTUNE_TASK_LIMITS: '{"v":1' }) });
  assert.equal(limits.status, 2);
  assert.equal(limits.stdout, '');
  assert.match(limits.stderr, /^memtune: MEMTUNE_TASK_LIMITS: not JSON/);
});
