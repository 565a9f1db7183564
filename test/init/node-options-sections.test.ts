import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedFlagsOf } from '../../src/run/node-flags.js';
import { parseNodeOptionsFile, scanNodeOptionsFile } from '../../src/run/node-options.js';
import { UsageError } from '../../src/shared/errors.js';
import { loadProfiles } from '../../src/shared/effects/load-profiles.js';
import { GiB } from '../../src/shared/size.js';
import { nodeOptionsWithScripts, type SectionScript } from '../../src/init/node-options-sections.js';
import { planScriptRewrite, type ScriptContext, type ScriptRewrite } from '../../src/init/scripts.js';

const PROFILES = loadProfiles();
const NAMES = Object.keys(PROFILES);
const PATH = '/repo/.node-options';
const CONTEXT: ScriptContext = {
  profiles: PROFILES,
  allowed: allowedFlagsOf('node', 'v20.20.2', ['--max-old-space-size', '--max-semi-space-size', '--expose-gc', '--require', '--enable-source-maps']),
};

/** The five lines of issue 16, planned as `memtune init` plans them. */
const ISSUE_SCRIPTS: Array<[string, string]> = [
  ['build', "NODE_OPTIONS='--max-old-space-size=4096 --optimize-for-size --max_old_space_size=4096 --gc-interval=100' tsc -b"],
  ['test', "NODE_OPTIONS='--max-old-space-size=2048' vitest run"],
  ['start', "NODE_OPTIONS='--max-old-space-size=2048' node dist/main.js"],
  ['dev', "NODE_OPTIONS='--max-old-space-size=2048 --expose-gc' tsx watch src/main.ts"],
  ['typecheck', "NODE_OPTIONS='--max-old-space-size=3072' tsc --noEmit"],
];

function rewrites(scripts: Array<[string, string]>, context: Partial<ScriptContext> = {}): ScriptRewrite[] {
  return scripts.map(([name, script]) => {
    const plan = planScriptRewrite(name, script, { ...CONTEXT, ...context });
    assert.equal(plan.kind, 'rewrite', script);
    return plan as ScriptRewrite;
  });
}

/** Each flag of the file as `[section] --name=value`, as memtune run reads it. */
function flagsOf(text: string): string[] {
  return parseNodeOptionsFile(text, PATH, NAMES).flags.map((flag) => `[${flag.section ?? ''}] ${flag.value === undefined ? flag.name : `${flag.name}=${flag.value}`}`);
}

test('the five lines of issue 16 make a new .node-options that memtune run reads without a problem', () => {
  const result = nodeOptionsWithScripts(undefined, PATH, rewrites(ISSUE_SCRIPTS), PROFILES);
  const heaps = ['4096', '2048', '2048', '2048', '3072'];
  const sections = ISSUE_SCRIPTS.map(([name, script], index) => [
    `[${name}]`,
    `# memtune run ${name} (${PROFILES[name]!.description}): these flags come after the profile's own`,
    `# was: ${JSON.stringify(name)}: ${JSON.stringify(script)}`,
    `--max-old-space-size=${heaps[index]}`,
  ]);
  assert.equal(result.text, `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`);
  assert.deepEqual(scanNodeOptionsFile(result.text, PATH, NAMES).problems, []);
  assert.deepEqual(flagsOf(result.text), [
    '[build] --max-old-space-size=4096',
    '[test] --max-old-space-size=2048',
    '[start] --max-old-space-size=2048',
    '[dev] --max-old-space-size=2048',
    '[typecheck] --max-old-space-size=3072',
  ]);
  assert.deepEqual(result.created, ['build', 'test', 'start', 'dev', 'typecheck']);
  assert.deepEqual(result.skipped, []);
});

test('existing text and comments stay byte for byte; flags go after the last line of their section', () => {
  const before = ['# repo-wide', '--require ./otel.cjs  # tracing', '', '[build]', '# measured', '--max-semi-space-size=16', '', '[test]', '--expose-gc', ''].join('\n');
  const result = nodeOptionsWithScripts(before, PATH, rewrites([ISSUE_SCRIPTS[0]!, ISSUE_SCRIPTS[1]!]), PROFILES);
  assert.equal(
    result.text,
    [
      '# repo-wide',
      '--require ./otel.cjs  # tracing',
      '',
      '[build]',
      '# measured',
      '--max-semi-space-size=16',
      `# was: "build": "${ISSUE_SCRIPTS[0]![1]}"`,
      '--max-old-space-size=4096',
      '',
      '[test]',
      '--expose-gc',
      `# was: "test": "${ISSUE_SCRIPTS[1]![1]}"`,
      '--max-old-space-size=2048',
      '',
    ].join('\n'),
  );
  assert.deepEqual(result.created, []);
  assert.deepEqual(flagsOf(result.text), [
    '[] --require=./otel.cjs',
    '[build] --max-semi-space-size=16',
    '[build] --max-old-space-size=4096',
    '[test] --expose-gc',
    '[test] --max-old-space-size=2048',
  ]);
});

test('CRLF files stay CRLF, and a file without a final new line gets one before a new section', () => {
  const crlf = nodeOptionsWithScripts('[build]\r\n--max-semi-space-size=16\r\n', PATH, rewrites([ISSUE_SCRIPTS[0]!]), PROFILES).text;
  assert.ok(!/[^\r]\n/.test(crlf), JSON.stringify(crlf));
  assert.deepEqual(flagsOf(crlf), ['[build] --max-semi-space-size=16', '[build] --max-old-space-size=4096']);
  const open = nodeOptionsWithScripts('--require ./otel.cjs', PATH, rewrites([ISSUE_SCRIPTS[1]!]), PROFILES).text;
  assert.match(open, /^--require \.\/otel\.cjs\n\n\[test\]\n/);
  assert.deepEqual(flagsOf(open), ['[] --require=./otel.cjs', '[test] --max-old-space-size=2048']);
});

test('a flag the section already has, in any spelling, is not written again', () => {
  const before = '[build]\n--max_old_space_size=4096\n';
  const result = nodeOptionsWithScripts(before, PATH, rewrites([ISSUE_SCRIPTS[0]!]), PROFILES);
  assert.equal(result.text, before);
  assert.deepEqual(result.added, []);
  assert.deepEqual(result.skipped, [
    { section: 'build', script: 'build', flag: '--max-old-space-size=4096', reason: '[build] already has --max_old_space_size=4096 (/repo/.node-options:2)', conflict: false },
  ]);
  const underscored = rewrites([['build', 'NODE_OPTIONS=--max_old_space_size=4096 tsc -b']]);
  assert.equal(nodeOptionsWithScripts('[build]\n--max-old-space-size=4096\n', PATH, underscored, PROFILES).text, '[build]\n--max-old-space-size=4096\n');
});

test('two scripts of one profile with different heaps: a conflict, the first kept and the second not written', () => {
  const scripts = rewrites([
    ['build', 'NODE_OPTIONS=--max-old-space-size=4096 tsc -b'],
    ['build:app', 'NODE_OPTIONS=--max-old-space-size=6144 vite build'],
  ]);
  const result = nodeOptionsWithScripts('', PATH, scripts, PROFILES);
  assert.deepEqual(flagsOf(result.text), ['[build] --max-old-space-size=4096']);
  assert.ok(!result.text.includes('build:app'), 'no comment for a script that wrote nothing');
  assert.deepEqual(result.skipped, [
    {
      section: 'build',
      script: 'build:app',
      flag: '--max-old-space-size=6144',
      reason: '[build] already sets --max-old-space-size=4096 (the "build" script); that one is kept, so the "build:app" script now gets it too',
      conflict: true,
    },
  ]);
  // The same value from two scripts is no conflict: written once.
  const same = nodeOptionsWithScripts(
    '',
    PATH,
    rewrites([scripts[0]!.original, 'NODE_OPTIONS=--max-old-space-size=4096 vite build'].map((script, index) => [`build:${index}`, script])),
    PROFILES,
  );
  assert.deepEqual(flagsOf(same.text), ['[build] --max-old-space-size=4096']);
  assert.deepEqual(
    same.skipped.map((entry) => entry.conflict),
    [false],
  );
});

test('a flag without a value is written once, as a bare flag', () => {
  const script: SectionScript = { name: 'start', original: 'node dist/main.js', profile: 'start', flags: [{ name: '--enable-source-maps' }, { name: '--enable-source-maps' }] };
  const result = nodeOptionsWithScripts(undefined, PATH, [script], PROFILES);
  assert.deepEqual(flagsOf(result.text), ['[start] --enable-source-maps']);
  assert.match(result.text, /\n--enable-source-maps\n$/);
  assert.deepEqual(
    result.skipped.map((entry) => entry.reason),
    ['[start] already has --enable-source-maps (the "start" script)'],
  );
});

test('repeatable flags add each value; a value that a line cannot hold is skipped with the reason', () => {
  const scripts: SectionScript[] = [
    {
      name: 'start',
      original: 'node dist/main.js',
      profile: 'start',
      flags: [
        { name: '--require', value: './a.cjs' },
        { name: '--require', value: './my file.cjs' },
        { name: '--require', value: './b.cjs' },
      ],
    },
  ];
  const result = nodeOptionsWithScripts('[start]\n--require=./a.cjs\n', PATH, scripts, PROFILES);
  assert.deepEqual(flagsOf(result.text), ['[start] --require=./a.cjs', '[start] --require=./b.cjs']);
  assert.deepEqual(
    result.skipped.map((entry) => [entry.flag, entry.reason]),
    [
      ['--require=./a.cjs', '[start] already has --require=./a.cjs (/repo/.node-options:2)'],
      ['--require=./my file.cjs', 'a .node-options line holds one flag without spaces or #: set it in the script instead'],
    ],
  );
});

test('with --relative the percent is written, with its basis in a comment above it', () => {
  const result = nodeOptionsWithScripts(undefined, PATH, rewrites([ISSUE_SCRIPTS[4]!], { relative: { bytes: 8 * GiB, detail: 'cgroup v2 memory.max' } }), PROFILES);
  assert.match(result.text, /\n# --max-old-space-size=38%: 3072 MiB is 37\.5% of the 8 GiB memory limit \(cgroup v2 memory\.max\)\n--max-old-space-size=38%\n$/);
  assert.deepEqual(flagsOf(result.text), ['[typecheck] --max-old-space-size=38%']);
});

test('running twice: the second pass over its own output writes nothing', () => {
  const scripts = rewrites(ISSUE_SCRIPTS);
  const first = nodeOptionsWithScripts('# mine\n', PATH, scripts, PROFILES);
  const second = nodeOptionsWithScripts(first.text, PATH, scripts, PROFILES);
  assert.equal(second.text, first.text);
  assert.deepEqual(second.added, []);
  assert.deepEqual(second.created, []);
});

test('an existing .node-options that memtune run would refuse is refused, naming its line', () => {
  assert.throws(
    () => nodeOptionsWithScripts('[build]\n--gc-interval=100 --max-old-space-size=4096\n', PATH, rewrites([ISSUE_SCRIPTS[0]!]), PROFILES),
    (error: unknown) => error instanceof UsageError && error.problems.some((problem) => problem.where === '/repo/.node-options:2'),
  );
});
