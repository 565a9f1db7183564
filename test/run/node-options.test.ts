import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError, formatError, formatWarning } from '../../src/shared/errors.js';
import { allowedFlagsOf, nodeFlagProblems } from '../../src/run/node-flags.js';
import { allowedFlagsOfThisNode } from '../../src/run/effects/spawn-command.js';
import { flagKey, formatNodeOptions, parseHeapSize, parseNodeOptionsEnv, parseNodeOptionsFile, tokenizeNodeOptions } from '../../src/run/node-options.js';
import { profileHeapMiB, resolveProfile, stepValue } from '../../src/shared/profiles.js';
import { loadProfiles } from '../../src/shared/effects/load-profiles.js';
import { resolveRun, type ResolveRunInput } from '../../src/run/resolve-run.js';
import { GiB, MiB } from '../../src/shared/size.js';

const PROFILES = loadProfiles();
const NAMES = Object.keys(PROFILES);

function refused(text: string): string {
  try {
    parseNodeOptionsFile(text, '/repo/.node-options', NAMES);
  } catch (error) {
    assert.ok(error instanceof UsageError);
    return formatError(error);
  }
  assert.fail(`accepted: ${text}`);
}

test('parseHeapSize reads MB and 1-100% and nothing else', () => {
  const table: Array<[string, ReturnType<typeof parseHeapSize>]> = [
    ['4096', { mib: 4096 }],
    ['60%', { percent: 60 }],
    ['100%', { percent: 100 }],
    ['150%', undefined],
    ['0%', undefined],
    ['-1', undefined],
    ['0', undefined],
    ['4gb', undefined],
    ['4GiB', undefined],
    ['1.5', undefined],
  ];
  for (const [text, expected] of table) assert.deepEqual(parseHeapSize(text, true), expected, text);
  assert.equal(parseHeapSize('50%', false), undefined);
});

test('.node-options: flags, comments, sections, Go settings, with their line numbers', () => {
  const file = parseNodeOptionsFile(
    ['# repo flags', '--max-old-space-size=60%   # most of the box', '', '--require ./trace.cjs', '[test]', '--max-old-space-size=512', 'GOMEMLIMIT=50%', 'GOGC=50'].join('\n'),
    '/repo/.node-options',
    NAMES,
  );
  assert.deepEqual(
    file.flags.map((flag) => [flag.name, flag.value, flag.section, flag.origin.label]),
    [
      ['--max-old-space-size', '60%', undefined, '/repo/.node-options:2'],
      ['--require', './trace.cjs', undefined, '/repo/.node-options:4'],
      ['--max-old-space-size', '512', 'test', '/repo/.node-options:6'],
    ],
  );
  assert.deepEqual(
    file.env.map((setting) => [setting.key, setting.value, setting.section]),
    [
      ['GOMEMLIMIT', '50%', 'test'],
      ['GOGC', '50', 'test'],
    ],
  );
});

test('.node-options refuses heap sizes -1, 150% and 4gb, each with its file:line', () => {
  const message = refused('--max-old-space-size=-1\n--max-old-space-size=150%\n--max-old-space-size=4gb\n--max-semi-space-size=10%\n');
  assert.match(message, /^memtune: \/repo\/\.node-options:1: "--max-old-space-size=-1" is not a size/m);
  assert.match(message, /^memtune: \/repo\/\.node-options:2: "--max-old-space-size=150%": 150% is more than the memory limit/m);
  assert.match(message, /^memtune: \/repo\/\.node-options:3: "--max-old-space-size=4gb" is not a size/m);
  assert.match(message, /^memtune: \/repo\/\.node-options:4: "--max-semi-space-size=10%" is not a size/m);
  assert.match(message, /\nFix \/repo\/\.node-options/);
});

test('.node-options refuses the pasted seed line and names --gc-interval and its line', () => {
  const message = refused("# pasted from package.json\nNODE_OPTIONS='--max-old-space-size=4096 --optimize-for-size --gc-interval=100'\n");
  assert.match(message, /\.node-options:2: write each flag of NODE_OPTIONS on its own line/);
  assert.match(message, /\.node-options:2: --gc-interval is not allowed in NODE_OPTIONS: it is a V8 debugging flag/);
  assert.match(message, /\.node-options:2: --optimize-for-size is not allowed/);
});

test('.node-options refuses two flags on one line, unknown sections, stray words and other variables', () => {
  assert.match(refused('--max-old-space-size=4096 --optimize-for-size\n'), /:1: one flag per line; put "--optimize-for-size" on a line of its own/);
  assert.match(refused('[biuld]\n'), /:1: unknown profile section \[biuld\]; the profiles are build, typecheck, test, dev, start\./);
  assert.match(refused('\n\nmax-old-space-size=4096\n'), /:3: "max-old-space-size=4096" is not a flag/);
  assert.match(refused('HOME=/tmp\n'), /:1: HOME= cannot be set here/);
  assert.match(refused('heap 4096\n'), /:1: "heap 4096" is not a flag/);
  assert.match(refused('GOGC=fast\n'), /:1: GOGC="fast" must be/);
  assert.match(refused('GOMEMLIMIT=2GB\n'), /:1: GOMEMLIMIT="2GB" must be/);
});

test('NODE_OPTIONS is split as node splits it, and written back so node reads the same flags', () => {
  assert.deepEqual(tokenizeNodeOptions('  --a  --b="x y" --c=\\d '), ['--a', '--b=x y', '--c=\\d']);
  const flags = parseNodeOptionsEnv('--require ./a.cjs --max-old-space-size=100 -r b', { kind: 'env', label: 'env' });
  assert.deepEqual(
    flags.map((flag) => [flag.name, flag.value]),
    [
      ['--require', './a.cjs'],
      ['--max-old-space-size', '100'],
      ['-r', 'b'],
    ],
  );
  assert.equal(formatNodeOptions([{ name: '--require', value: '/a b/c.cjs' }, { name: '--expose-gc' }]), '"--require=/a b/c.cjs" --expose-gc');
  // node refuses -r=b and -C=x (exit 9): a short flag goes back under its long name.
  assert.equal(formatNodeOptions(flags), '--require=./a.cjs --max-old-space-size=100 --require=b');
  assert.equal(formatNodeOptions([{ name: '-C', value: 'development' }, { name: '-r' }]), '--conditions=development -r');
  assert.equal(flagKey('--max_old_space_size'), '--max-old-space-size');
  assert.equal(flagKey('-r'), '--require');
});

test("node flags are checked against the running node's allowed set, with why for the known V8 ones", () => {
  const origin = { kind: 'file' as const, label: '/repo/.node-options:3' };
  const own = allowedFlagsOfThisNode();
  const problems = nodeFlagProblems(
    [
      { name: '--max-old-space-size', value: '100', origin },
      { name: '--gc-interval', value: '100', origin },
      { name: '--trace-gc', origin },
      { name: '--heapsnapshot-near-heap-limit', value: '1', origin },
    ],
    own,
  );
  assert.equal(problems.length, 2);
  assert.equal(problems[0]!.where, '/repo/.node-options:3');
  assert.match(problems[0]!.message, /^--gc-interval is not allowed in NODE_OPTIONS by node v\d+/);
  assert.match(problems[1]!.message, /--trace-gc .*V8 tracing flag/);
  const old = allowedFlagsOf('/opt/node20/bin/node', 'v20.20.2', ['--max-old-space-size']);
  assert.match(nodeFlagProblems([{ name: '--max-old-space-size-percentage', value: '50', origin }], old)[0]!.message, /node v20\.20\.2 \(\/opt\/node20\/bin\/node\).*Node 24\.6/);
});

test('profiles: every one has a description, a heap share within 1-100%, and node flags this node allows', () => {
  for (const profile of Object.values(PROFILES)) {
    assert.ok(profile.description.length > 10, profile.name);
    assert.deepEqual(
      nodeFlagProblems(
        profile.nodeFlags.flatMap((text) => parseNodeOptionsEnv(text, { kind: 'preset', label: profile.name })),
        allowedFlagsOfThisNode(),
      ),
      [],
    );
  }
  for (const name of ['build', 'typecheck', 'test', 'dev', 'start']) assert.ok(PROFILES[name], name);
  assert.throws(() => resolveProfile('bild', PROFILES), /unknown profile "bild"; the profiles are build, typecheck, test, dev, start\./);
  assert.throws(() => resolveProfile('toString', PROFILES), /unknown profile "toString"/);
});

test('profileHeapMiB takes the share, then the floor and the ceiling', () => {
  const rule = { percent: 50, minMiB: 256, maxMiB: 4096 };
  assert.equal(profileHeapMiB(rule, 2 * GiB), 1024);
  assert.equal(profileHeapMiB(rule, 256 * MiB), 256);
  assert.equal(profileHeapMiB(rule, 64 * GiB), 4096);
  assert.equal(profileHeapMiB({ percent: 60, minMiB: null, maxMiB: null }, 512 * MiB), 307);
  const steps = [
    { belowMiB: 2048, value: 1 },
    { belowMiB: 4096, value: 2 },
  ];
  assert.equal(stepValue(steps, 1 * GiB)?.value, 1);
  assert.equal(stepValue(steps, 3 * GiB)?.value, 2);
  assert.equal(stepValue(steps, 8 * GiB), undefined);
});

function input(overrides: Partial<ResolveRunInput> = {}): ResolveRunInput {
  return {
    profile: PROFILES.build!,
    limit: { bytes: 2 * GiB, source: 'env', detail: 'MEMTUNE_MEMORY_LIMIT' },
    files: [],
    env: {},
    cliFlags: [],
    allowed: allowedFlagsOfThisNode(),
    args: [],
    packageDir: '/repo/pkg',
    ...overrides,
  };
}

test('resolveRun merges preset < repo file < package file < environment < command line, last wins', () => {
  const repo = parseNodeOptionsFile('--max-old-space-size=40%\n--expose-gc\n', '/repo/.node-options', NAMES);
  const pkg = parseNodeOptionsFile('[build]\n--max-old-space-size=1100\n[test]\n--max-old-space-size=1\n', '/repo/pkg/.node-options', NAMES);
  const heap = (overrides: Partial<ResolveRunInput>) => resolveRun(input(overrides)).nodeOptions.find((flag) => flag.name === '--max-old-space-size');
  assert.equal(heap({})?.value, String(profileHeapMiB(PROFILES.build!.heap, 2 * GiB)));
  assert.deepEqual([heap({ files: [repo] })?.value, heap({ files: [repo] })?.origin.label], ['819', '/repo/.node-options:1 (40% of 2 GiB)']);
  assert.equal(heap({ files: [repo, pkg] })?.origin.label, '/repo/pkg/.node-options:2');
  assert.equal(heap({ files: [repo, pkg], env: { NODE_OPTIONS: '--max-old-space-size=1200' } })?.value, '1200');
  const cli = [{ name: '--max-old-space-size', value: '1300', origin: { kind: 'flag' as const, label: '--node-option' } }];
  const all = resolveRun(input({ files: [repo, pkg], env: { NODE_OPTIONS: '--max-old-space-size=1200' }, cliFlags: cli }));
  assert.equal(all.heapMiB, 1300);
  assert.equal(all.env[0]!.value, '--max-old-space-size=1300 --expose-gc');
  // The package's file over the repo's is the layering: no warning; the environment and the command line over a file are.
  assert.equal(all.warnings.length, 2, all.warnings.map(formatWarning).join('\n'));
  assert.match(all.warnings[0]!.message, /--max-old-space-size is set twice: --max-old-space-size=1100 \(\/repo\/pkg\/\.node-options:2\) is replaced by --max-old-space-size=1200/);
});

test('resolveRun refuses a heap above the memory limit and names where it came from', () => {
  const pkg = parseNodeOptionsFile('--max-old-space-size=4096\n', '/repo/pkg/.node-options', NAMES);
  assert.throws(
    () => resolveRun(input({ files: [pkg] })),
    /\/repo\/pkg\/\.node-options:1: --max-old-space-size=4096 is above the memory limit, 2048 MiB from MEMTUNE_MEMORY_LIMIT; .* A share of the limit \(--max-old-space-size=50%\) follows each machine instead\./,
  );
  assert.throws(
    () => resolveRun(input({ limit: { bytes: 200 * MiB, source: 'env', detail: 'MEMTUNE_MEMORY_LIMIT' } })),
    /the memory limit, 200 MiB from MEMTUNE_MEMORY_LIMIT: below the smallest heap the profile allows \(preset build: .*floor 256 MiB/,
  );
  assert.throws(() => resolveRun(input({ env: { GOMEMLIMIT: '3GiB' } })), /environment GOMEMLIMIT: GOMEMLIMIT=3GiB is above the memory limit/);
});

test('resolveRun sizes Go and --checkers/--builders only for a native compiler, and never over the user', () => {
  const compiler = { name: 'typescript' as const, version: '7.0.2', native: true, path: '/x/bin/tsc' };
  const small = { bytes: 1 * GiB, source: 'env' as const, detail: 'MEMTUNE_MEMORY_LIMIT' };
  const native = resolveRun(input({ limit: small, compiler, args: ['-b'] }));
  assert.deepEqual(native.args, ['-b', '--checkers', '1', '--builders', '1']);
  assert.match(native.notes.join('\n'), /V8 flags in NODE_OPTIONS do not reach it/);
  assert.deepEqual(
    native.env.filter((setting) => setting.key !== 'NODE_OPTIONS').map((setting) => `${setting.key}=${setting.value}`),
    [`GOMEMLIMIT=${Math.floor((1024 * PROFILES.build!.go!.memlimitPercent) / 100)}MiB`, `GOGC=${PROFILES.build!.go!.gogc}`],
  );
  assert.deepEqual(resolveRun(input({ limit: small, compiler, args: ['-p', '.', '--checkers', '3'] })).args, ['-p', '.', '--checkers', '3']);
  assert.deepEqual(resolveRun(input({ limit: small, compiler, args: ['--singleThreaded'] })).args, ['--singleThreaded']);
  assert.deepEqual(resolveRun(input({ limit: small, compiler: { ...compiler, version: '6.0.3', native: false }, args: ['-b'] })).args, ['-b']);
  assert.deepEqual(resolveRun(input({ compiler, args: ['-b'], limit: { ...small, bytes: 16 * GiB } })).args, ['-b']);
});

test('resolveRun replaces NODE_OPTIONS that an outer memtune run wrote, and keeps a user-set one', () => {
  const outer = resolveRun(input({ profile: PROFILES.test!, env: { NODE_OPTIONS: '--max-old-space-size=99', MEMTUNE_NODE_OPTIONS: '--max-old-space-size=99' } }));
  assert.notEqual(outer.heapMiB, 99);
  assert.match(outer.notes.join('\n'), /outer memtune run/);
  assert.equal(resolveRun(input({ env: { NODE_OPTIONS: '--max-old-space-size=99' } })).heapMiB, 99);
});

test('resolveRun makes the diagnostics directory of dev absolute, under the package', () => {
  const dev = resolveRun(input({ profile: PROFILES.dev! }));
  assert.deepEqual(dev.directories, ['/repo/pkg/.memtune/diagnostics']);
  assert.match(dev.env[0]!.value, / --diagnostic-dir=\/repo\/pkg\/\.memtune\/diagnostics --report-directory=\/repo\/pkg\/\.memtune\/diagnostics$/);
  assert.match(dev.nodeOptions.at(-1)!.origin.label, /^memtune: reports follow --diagnostic-dir from preset dev/);
  const own = parseNodeOptionsFile('--report-directory=/var/reports\n', '/repo/.node-options', NAMES);
  assert.equal(resolveRun(input({ profile: PROFILES.dev!, files: [own] })).nodeOptions.filter((flag) => flag.name === '--report-directory').length, 1);
});
