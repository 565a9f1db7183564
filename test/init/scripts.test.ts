import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedFlagsOf } from '../../src/run/node-flags.js';
import { loadProfiles } from '../../src/shared/effects/load-profiles.js';
import { GiB } from '../../src/shared/size.js';
import { planScriptRewrite, type ScriptContext, type ScriptPlan, type ScriptRewrite } from '../../src/init/scripts.js';

const PROFILES = loadProfiles();
/** The NODE_OPTIONS flags of node 20 that these tests name, fixed so that the table does not move with the node running it. */
const ALLOWED = allowedFlagsOf('node', 'v20.20.2', [
  '--max-old-space-size',
  '--max-semi-space-size',
  '--expose-gc',
  '--require',
  '--import',
  '--enable-source-maps',
  '--heapsnapshot-near-heap-limit',
  '--watch',
  '--experimental-vm-modules',
  '--inspect',
]);
const CONTEXT: ScriptContext = { profiles: PROFILES, allowed: ALLOWED };

function rewrite(name: string, script: string, context: Partial<ScriptContext> = {}): ScriptRewrite {
  const plan = planScriptRewrite(name, script, { ...CONTEXT, ...context });
  assert.equal(plan.kind, 'rewrite', `${name}: ${script} gave ${JSON.stringify(plan)}`);
  return plan as ScriptRewrite;
}

/** The rewrite as one comparable row: profile, script, carried flags, dropped flags. */
function row(plan: ScriptRewrite): [string, string, string[], string[]] {
  return [plan.profile, plan.script, plan.flags.map((flag) => (flag.value === undefined ? flag.name : `${flag.name}=${flag.value}`)), plan.dropped.map((entry) => entry.flag)];
}

test('the five script lines of issue 16 become memtune run with the profile their name and command agree on', () => {
  const table: Array<[string, string, ReturnType<typeof row>, string]> = [
    [
      'build',
      "NODE_OPTIONS='--max-old-space-size=4096 --optimize-for-size --max_old_space_size=4096 --gc-interval=100' tsc -b",
      ['build', 'memtune run build -- tsc -b', ['--max-old-space-size=4096'], ['--optimize-for-size', '--gc-interval=100', '--max_old_space_size=4096']],
      'named "build" and runs tsc -b',
    ],
    [
      'test',
      "NODE_OPTIONS='--max-old-space-size=2048' vitest run",
      ['test', 'memtune run test -- vitest run', ['--max-old-space-size=2048'], []],
      'named "test" and runs vitest run',
    ],
    [
      'start',
      "NODE_OPTIONS='--max-old-space-size=2048' node dist/main.js",
      ['start', 'memtune run start -- node dist/main.js', ['--max-old-space-size=2048'], []],
      'named "start" and runs node dist/main.js',
    ],
    [
      'dev',
      "NODE_OPTIONS='--max-old-space-size=2048 --expose-gc' tsx watch src/main.ts",
      ['dev', 'memtune run dev -- tsx watch src/main.ts', ['--max-old-space-size=2048'], ['--expose-gc']],
      'named "dev" and runs tsx watch src/main.ts',
    ],
    [
      'typecheck',
      "NODE_OPTIONS='--max-old-space-size=3072' tsc --noEmit",
      ['typecheck', 'memtune run typecheck -- tsc --noEmit', ['--max-old-space-size=3072'], []],
      'named "typecheck" and runs tsc --noEmit',
    ],
  ];
  for (const [name, script, expected, why] of table) {
    const plan = rewrite(name, script);
    assert.deepEqual(row(plan), expected, name);
    assert.equal(plan.why, why, name);
    assert.equal(plan.original, script);
  }
});

test('each dropped flag of the build line says why and what replaces it', () => {
  const plan = rewrite('build', "NODE_OPTIONS='--max-old-space-size=4096 --optimize-for-size --max_old_space_size=4096 --gc-interval=100' tsc -b");
  assert.deepEqual(plan.dropped, [
    {
      flag: '--optimize-for-size',
      reason: 'not allowed in NODE_OPTIONS: it is a V8 tuning flag; if you measured a gain, put it on the node command line itself (node --optimize-for-size app.js).',
      replacement: 'nothing: memtune run build sizes the heap from the memory limit (50%)',
    },
    {
      flag: '--gc-interval=100',
      reason: 'not allowed in NODE_OPTIONS: it is a V8 debugging flag (a garbage collection every N allocations): it slows everything down and saves no memory.',
      replacement: 'nothing: memtune run build sizes the heap from the memory limit (50%)',
    },
    { flag: '--max_old_space_size=4096', reason: 'the same flag as --max-old-space-size=4096, in another spelling.', replacement: '--max-old-space-size=4096, kept' },
  ]);
});

test('the forms that set NODE_OPTIONS are all recognised, other variables kept in front of memtune run', () => {
  const table: Array<[string, string]> = [
    ["NODE_OPTIONS='--max-old-space-size=4096' tsc -b", 'memtune run build -- tsc -b'],
    ['NODE_OPTIONS="--max-old-space-size=4096" tsc -b', 'memtune run build -- tsc -b'],
    ['NODE_OPTIONS=--max-old-space-size=4096 tsc -b', 'memtune run build -- tsc -b'],
    ['cross-env NODE_OPTIONS=--max-old-space-size=4096 tsc -b', 'memtune run build -- tsc -b'],
    ['cross-env NODE_ENV=production NODE_OPTIONS=--max-old-space-size=4096 tsc -b', 'cross-env NODE_ENV=production memtune run build -- tsc -b'],
    ['NODE_ENV=production NODE_OPTIONS=--max-old-space-size=4096 tsc -b', 'NODE_ENV=production memtune run build -- tsc -b'],
    ['env NODE_OPTIONS=--max-old-space-size=4096 tsc -b', 'memtune run build -- tsc -b'],
    ['export NODE_OPTIONS=--max-old-space-size=4096; tsc -b', 'memtune run build -- tsc -b'],
    ["export NODE_OPTIONS='--max-old-space-size=4096' && tsc -b", 'memtune run build -- tsc -b'],
    ['export CI=1 NODE_OPTIONS=--max-old-space-size=4096 && tsc -b', 'export CI=1 && memtune run build -- tsc -b'],
    ['node --max-old-space-size=4096 node_modules/.bin/tsc -b', 'memtune run build -- tsc -b'],
    ['node --max-old-space-size=4096 ./node_modules/typescript/bin/tsc -b', 'memtune run build -- tsc -b'],
    ['node --max-old-space-size 4096 node_modules/.bin/tsc -b', 'memtune run build -- tsc -b'],
    ["NODE_OPTIONS='--max-old-space-size=4096' tsc -b --verbose 'src dir'/x $EXTRA", "memtune run build -- tsc -b --verbose 'src dir'/x $EXTRA"],
  ];
  for (const [script, expected] of table) {
    const plan = rewrite('build', script);
    assert.equal(plan.script, expected, script);
    assert.deepEqual(plan.flags, [{ name: '--max-old-space-size', value: '4096' }], script);
  }
});

test('node flags that are not memory settings stay on node, unless the script becomes a bin', () => {
  assert.deepEqual(row(rewrite('start', 'node --enable-source-maps --max-old-space-size=2048 --require ./otel.cjs dist/main.js --port 3000')), [
    'start',
    'memtune run start -- node --enable-source-maps --require ./otel.cjs dist/main.js --port 3000',
    ['--max-old-space-size=2048'],
    [],
  ]);
  assert.deepEqual(row(rewrite('build', 'node --enable-source-maps --max-old-space-size=4096 node_modules/.bin/tsc -b')), [
    'build',
    'memtune run build -- tsc -b',
    ['--max-old-space-size=4096', '--enable-source-maps'],
    [],
  ]);
  // --test is node's test runner, not a flag NODE_OPTIONS may hold: it stays with node.
  assert.deepEqual(row(rewrite('test', 'node --max-old-space-size=1024 --test test/')), ['test', 'memtune run test -- node --test test/', ['--max-old-space-size=1024'], []]);
});

test('a heap flag on the node command line wins over the one in NODE_OPTIONS, as in node: its value is carried', () => {
  const plan = rewrite('start', 'NODE_OPTIONS=--max-old-space-size=4096 node --max-old-space-size=2048 dist/main.js');
  assert.deepEqual(plan.flags, [{ name: '--max-old-space-size', value: '2048' }]);
  assert.deepEqual(plan.dropped, [
    { flag: '--max-old-space-size=4096', reason: '--max-old-space-size is set twice with different values; node uses the last.', replacement: '--max-old-space-size=2048, kept' },
  ]);
});

test('the profile comes from the command when it says what runs, else from the name', () => {
  const table: Array<[string, string, string, string]> = [
    ['build', 'tsc --noEmit', 'typecheck', 'runs tsc --noEmit (a type check), which wins over its name (build)'],
    ['type-check', 'tsc -p .', 'typecheck', 'named "type-check"; runs tsc -p ., which could be either'],
    ['tsc:check', 'tsc -b', 'typecheck', 'named "tsc:check"; runs tsc -b, which could be either'],
    ['compile', 'tsc', 'build', 'named "compile" and runs tsc'],
    ['ci', 'tsc -b', 'build', 'runs tsc -b (a compiler)'],
    ['build:watch', 'tsc -b -w', 'dev', 'named "build:watch" and runs tsc -b -w'],
    ['start', 'tsx watch src/main.ts', 'dev', 'runs tsx watch src/main.ts (watch mode), which wins over its name (start)'],
    ['verify', 'jest --ci', 'test', 'runs jest --ci (a test runner)'],
    ['unit', 'mocha', 'test', 'runs mocha (a test runner)'],
    ['ui', 'vite', 'dev', 'runs vite (a dev server)'],
    ['bundle', 'vite build', 'build', 'runs vite build (a build)'],
    ['serve', 'node server.js', 'start', 'named "serve"'],
    ['prod', 'next start', 'start', 'named "prod" and runs next start'],
    ['main', 'node dist/main.js', 'start', 'runs node dist/main.js (node on built code)'],
    ['test:e2e', 'npx playwright test', 'test', 'named "test:e2e" and runs npx playwright test'],
  ];
  for (const [name, command, profile, why] of table) {
    const plan = rewrite(name, `NODE_OPTIONS=--max-old-space-size=1024 ${command}`);
    assert.deepEqual([plan.profile, plan.why], [profile, why], `${name}: ${command}`);
  }
});

test('a script with memory flags that no profile fits is left unchanged, with the reason', () => {
  const plan = planScriptRewrite('lint', 'NODE_OPTIONS=--max-old-space-size=4096 eslint .', CONTEXT);
  assert.deepEqual(plan, {
    kind: 'unchanged',
    reason:
      'it sets memory flags, but neither its name nor "eslint ." says which profile fits (build, typecheck, test, dev, start): rewrite it as memtune run <profile> -- … yourself',
  });
});

test('scripts without memory settings, or already behind memtune run, are unchanged with nothing to report', () => {
  const table: ScriptPlan[] = [
    planScriptRewrite('build', 'tsc -b && vite build | tee log', CONTEXT),
    planScriptRewrite('start', 'node --enable-source-maps dist/main.js', CONTEXT),
    planScriptRewrite('build', 'memtune run build -- tsc -b', CONTEXT),
    planScriptRewrite('start', 'memtune run start -- node --max-old-space-size=512 dist/main.js', CONTEXT),
  ];
  for (const plan of table) assert.deepEqual(plan, { kind: 'unchanged' });
});

test('running twice: every rewritten script plans no change the second time', () => {
  const scripts: Array<[string, string]> = [
    ['build', "NODE_OPTIONS='--max-old-space-size=4096 --gc-interval=100' tsc -b"],
    ['start', 'NODE_ENV=production NODE_OPTIONS=--max-old-space-size=2048 node dist/main.js'],
    ['test', 'cross-env CI=1 NODE_OPTIONS=--max-old-space-size=2048 vitest run'],
    ['typecheck', 'export NODE_OPTIONS=--max-old-space-size=3072 && tsc --noEmit'],
    ['build:tsc', 'node --max-old-space-size=4096 node_modules/.bin/tsc -b'],
    ['start', 'node --optimize-for-size --max-old-space-size=512 dist/main.js'],
    ['dev', 'node --inspect --max-old-space-size=4096 ./node_modules/.bin/vite'],
    ['build', 'npx --node-options=--max-old-space-size=4096 tsc -b'],
    ['start', 'NODE_OPTIONS=--require=./otel.cjs tsx --max-old-space-size=4096 src/x.ts'],
  ];
  for (const [name, script] of scripts) {
    const first = rewrite(name, script);
    assert.deepEqual(planScriptRewrite(name, first.script, CONTEXT), { kind: 'unchanged' }, first.script);
  }
});

test('lines memtune does not take apart are left unparsable, with the reason', () => {
  const table: Array<[string, string]> = [
    ['NODE_OPTIONS=--max-old-space-size=4096 tsc -b | tee build.log', 'a pipeline (|)'],
    ['NODE_OPTIONS=--max-old-space-size=4096 tsc -b && vite build', 'a chain of commands (&&)'],
    ['rimraf dist || NODE_OPTIONS=--max-old-space-size=4096 tsc -b', 'a chain of commands (||)'],
    ['cd app; NODE_OPTIONS=--max-old-space-size=4096 tsc -b', 'a list of commands (;)'],
    ['export NODE_OPTIONS=--max-old-space-size=4096; tsc -b; vite build', 'a list of commands (;)'],
    ['NODE_OPTIONS=--max-old-space-size=4096 tsc -b &', 'a background job (&)'],
    ['NODE_OPTIONS="--max-old-space-size=$HEAP" tsc -b', 'NODE_OPTIONS uses $HEAP, which memtune cannot resolve: a .node-options file has no variables'],
    ['NODE_OPTIONS=$MEMORY_FLAGS tsc -b', 'NODE_OPTIONS uses $MEMORY_FLAGS, which memtune cannot resolve'],
    ['node --max-old-space-size=$HEAP dist/main.js', "node's flag --max-old-space-size=$HEAP uses a variable"],
    ['NODE_OPTIONS=--max-old-space-size=4096 $TSC -b', 'the command is a variable ($TSC)'],
    ['(NODE_OPTIONS=--max-old-space-size=4096 tsc -b)', 'a subshell'],
    ['NODE_OPTIONS=--max-old-space-size=$(node heap.js) tsc -b', 'a command substitution $( … )'],
    ['NODE_OPTIONS=`cat .heap` tsc -b', 'a command substitution ` … `'],
    ["NODE_OPTIONS='--max-old-space-size=4096 tsc -b", 'a single quote without its pair'],
    ['NODE_OPTIONS="--max-old-space-size=4096 tsc -b', 'a double quote without its pair'],
    ['NODE_OPTIONS=--max-old-space-size=4096 tsc -b > build.log', 'a redirection'],
    ['cross-env-shell NODE_OPTIONS=--max-old-space-size=4096 "tsc -b"', 'cross-env-shell runs its command through a shell'],
    ['NODE_OPTIONS=--max-old-space-size=4096 memtune run build -- tsc -b', 'NODE_OPTIONS in front of memtune run wins over its profile'],
    ['export NODE_OPTIONS=--max-old-space-size=4096', 'there is no command after the variables'],
  ];
  for (const [script, reason] of table) {
    const plan = planScriptRewrite('build', script, CONTEXT);
    assert.equal(plan.kind, 'unparsable', `${script} gave ${JSON.stringify(plan)}`);
    assert.ok(plan.kind === 'unparsable' && plan.reason.includes(reason), `${script}: ${plan.kind === 'unparsable' ? plan.reason : ''}`);
  }
});

test('$NODE_OPTIONS in the value is the inherited NODE_OPTIONS, which memtune run keeps', () => {
  const plan = rewrite('build', 'NODE_OPTIONS="$NODE_OPTIONS --max-old-space-size=4096" tsc -b');
  assert.deepEqual(row(plan), ['build', 'memtune run build -- tsc -b', ['--max-old-space-size=4096'], []]);
  assert.match(plan.notes.join('\n'), /memtune run keeps that one too/);
});

test('duplicates: the same value twice keeps the first, two values keep the last, repeatable flags keep each value', () => {
  const plan = rewrite(
    'build',
    "NODE_OPTIONS='--max-old-space-size=4096 --max-old-space-size=4096 --max-semi-space-size=16 --max_semi_space_size=32 --require ./a.cjs --require ./b.cjs -r ./a.cjs' tsc -b",
  );
  assert.deepEqual(row(plan), [
    'build',
    'memtune run build -- tsc -b',
    ['--max-old-space-size=4096', '--max_semi_space_size=32', '--require=./a.cjs', '--require=./b.cjs'],
    ['--max-old-space-size=4096', '--max-semi-space-size=16', '-r ./a.cjs'],
  ]);
  assert.deepEqual(
    plan.dropped.map((entry) => [entry.reason, entry.replacement]),
    [
      ['given twice.', '--max-old-space-size=4096, kept'],
      ['--max-semi-space-size is set twice with different values; node uses the last.', '--max_semi_space_size=32, kept'],
      ['the same flag as --require ./a.cjs, in another spelling.', '--require ./a.cjs, kept'],
    ],
  );
});

test('--expose-gc is carried only when the command runs code that calls gc()', () => {
  const seen: string[][] = [];
  const callsGc = (command: readonly string[]) => {
    seen.push([...command]);
    return command.includes('dist/gc-user.js');
  };
  const without = rewrite('start', "NODE_OPTIONS='--max-old-space-size=2048 --expose-gc' node dist/main.js", { callsGc });
  assert.deepEqual(without.dropped, [{ flag: '--expose-gc', reason: 'global.gc is only for code that calls it; nothing in node dist/main.js does.', replacement: 'nothing' }]);
  const withCaller = rewrite('start', "NODE_OPTIONS='--max-old-space-size=2048 --expose-gc' node dist/gc-user.js", { callsGc });
  assert.deepEqual(withCaller.flags, [{ name: '--max-old-space-size', value: '2048' }, { name: '--expose-gc' }]);
  assert.deepEqual(seen, [
    ['node', 'dist/main.js'],
    ['node', 'dist/gc-user.js'],
  ]);
});

test('flags node does not know in NODE_OPTIONS are dropped; --max-old-space-size-percentage becomes --max-old-space-size=NN%', () => {
  const plan = rewrite('build', "NODE_OPTIONS='--max-old-space-size-percentage=60 --stack-size=2000' tsc -b");
  assert.deepEqual(plan.flags, [{ name: '--max-old-space-size', value: '60%' }]);
  assert.deepEqual(
    plan.dropped.map((entry) => [entry.flag, entry.replacement]),
    [
      ['--max-old-space-size-percentage=60', '--max-old-space-size=60%, carried'],
      // Not a memory flag: the profile's heap does not stand in for it.
      ['--stack-size=2000', 'nothing'],
    ],
  );
  assert.match(plan.dropped[1]!.reason, /node v20\.20\.2 does not accept it in NODE_OPTIONS/);
});

test('a heap size memtune cannot read is dropped with the message memtune run would give', () => {
  const plan = rewrite('build', 'NODE_OPTIONS=--max-old-space-size=4gb tsc -b');
  assert.deepEqual(plan.flags, []);
  assert.match(plan.dropped[0]!.reason, /"--max-old-space-size=4gb" is not a size memtune accepts/);
});

test('heap sizes stay as written, and become the nearest whole percent of the memory limit with --relative', () => {
  assert.deepEqual(rewrite('typecheck', 'NODE_OPTIONS=--max-old-space-size=3072 tsc --noEmit').flags, [{ name: '--max-old-space-size', value: '3072' }]);
  const relative = { bytes: 8 * GiB, detail: 'MEMTUNE_MEMORY_LIMIT' };
  const table: Array<[string, string, string]> = [
    ['--max-old-space-size=3072', '38%', '3072 MiB is 37.5% of the 8 GiB memory limit (MEMTUNE_MEMORY_LIMIT)'],
    ['--max-old-space-size=4096', '50%', '4096 MiB is 50.0% of the 8 GiB memory limit (MEMTUNE_MEMORY_LIMIT)'],
    ['--max-old-space-size=16', '1%', '16 MiB is 0.2% of the 8 GiB memory limit (MEMTUNE_MEMORY_LIMIT)'],
    ['--max-old-space-size=12288', '100%', '12288 MiB is 150.0% of the 8 GiB memory limit (MEMTUNE_MEMORY_LIMIT), above the limit: capped'],
    ['--max-old-space-size=60%', '60%', ''],
  ];
  for (const [flag, value, basis] of table) {
    const [carried] = rewrite('typecheck', `NODE_OPTIONS=${flag} tsc --noEmit`, { relative }).flags;
    assert.equal(carried?.value, value, flag);
    assert.equal(carried?.basis ?? '', basis, flag);
  }
  // The semi-space has no percent form: it stays in MB.
  assert.deepEqual(rewrite('build', 'NODE_OPTIONS=--max-semi-space-size=32 tsc -b', { relative }).flags, [{ name: '--max-semi-space-size', value: '32' }]);
});

test('for the native compiler, V8 heap flags are reported as doing nothing, the profile GOMEMLIMIT named instead', () => {
  const plan = rewrite('build', "NODE_OPTIONS='--max-old-space-size=4096 --require ./trace.cjs' tsc -b", { nativeCompiler: true });
  assert.deepEqual(plan.flags, [{ name: '--require', value: './trace.cjs' }]);
  assert.deepEqual(plan.dropped, [
    {
      flag: '--max-old-space-size=4096',
      reason: 'tsc is the native compiler (TypeScript 7): V8 heap flags reach only its small node launcher.',
      replacement: 'GOMEMLIMIT, 75% of the memory limit (the build profile)',
    },
  ]);
  // A JavaScript program in the same package keeps its heap.
  assert.deepEqual(rewrite('test', 'NODE_OPTIONS=--max-old-space-size=2048 vitest run', { nativeCompiler: true }).flags, [{ name: '--max-old-space-size', value: '2048' }]);
});

test('the allowed flags are an input: a flag that node accepts is carried, the same flag is dropped for a node that does not', () => {
  const script = "NODE_OPTIONS='--max-old-space-size=4096 --enable-source-maps' node dist/main.js";
  assert.deepEqual(row(rewrite('start', script)).slice(2), [['--max-old-space-size=4096', '--enable-source-maps'], []]);
  const older = allowedFlagsOf('node', 'v12.0.0', ['--max-old-space-size']);
  assert.deepEqual(row(rewrite('start', script, { allowed: older })).slice(2), [['--max-old-space-size=4096'], ['--enable-source-maps']]);
});

test('node keeps the flags that work only on its command line; a bin stays node <flags> <bin> when one of them is there', () => {
  const table: Array<[string, string, ReturnType<typeof row>]> = [
    // node refuses --optimize-for-size and --stack-size in NODE_OPTIONS: moved there, they would be lost.
    [
      'start',
      'node --optimize-for-size --max-old-space-size=512 dist/main.js',
      ['start', 'memtune run start -- node --optimize-for-size dist/main.js', ['--max-old-space-size=512'], []],
    ],
    [
      'typecheck',
      'node --stack-size=8000 --max-old-space-size=4096 node_modules/typescript/bin/tsc --noEmit',
      ['typecheck', 'memtune run typecheck -- node --stack-size=8000 node_modules/typescript/bin/tsc --noEmit', ['--max-old-space-size=4096'], []],
    ],
    [
      'build',
      'node --env-file=.env --max-old-space-size=4096 node_modules/.bin/tsc -b',
      ['build', 'memtune run build -- node --env-file=.env node_modules/.bin/tsc -b', ['--max-old-space-size=4096'], []],
    ],
    // In NODE_OPTIONS --inspect would reach every node process the command starts (jest's workers).
    [
      'test',
      'node --inspect --max-old-space-size=4096 ./node_modules/.bin/jest',
      ['test', 'memtune run test -- node --inspect ./node_modules/.bin/jest', ['--max-old-space-size=4096'], []],
    ],
    // A flag with its value in the next word moves as one flag, under the name node accepts in NODE_OPTIONS.
    [
      'test',
      'node -r dotenv/config --max-old-space-size=4096 node_modules/.bin/jest',
      ['test', 'memtune run test -- jest', ['--max-old-space-size=4096', '--require=dotenv/config'], []],
    ],
    [
      'test',
      'node --max-old-space-size=4096 node_modules/jest/bin/jest.js -i',
      ['test', 'memtune run test -- node node_modules/jest/bin/jest.js -i', ['--max-old-space-size=4096'], []],
    ],
  ];
  for (const [name, script, expected] of table) assert.deepEqual(row(rewrite(name, script)), expected, script);
  assert.deepEqual(rewrite('start', 'node --optimize-for-size --max-old-space-size=512 dist/main.js').notes, [
    "--optimize-for-size stays on node's command line: node v20.20.2 refuses it in NODE_OPTIONS.",
  ]);
  assert.deepEqual(rewrite('test', 'node --inspect --max-old-space-size=4096 ./node_modules/.bin/jest').notes, [
    "node ./node_modules/.bin/jest stays as it is, since node's --inspect (in NODE_OPTIONS it would reach every node process the command starts) must stay on its command line.",
  ]);
  // jest.js under node_modules/jest/bin says what runs, where the name does not.
  assert.equal(rewrite('ci', 'node --max-old-space-size=4096 node_modules/jest/bin/jest.js').why, 'runs node node_modules/jest/bin/jest.js (a test runner)');
  assert.equal(rewrite('ci', 'node --env-file=.env --max-old-space-size=4096 node_modules/.bin/tsc --noEmit').profile, 'typecheck');
});

test('-r with its value in NODE_OPTIONS is carried as --require=…, which node accepts there (it refuses -r=…)', () => {
  const plan = rewrite('dev', 'NODE_OPTIONS="-r dotenv/config --max-old-space-size=2048" tsx watch src/main.ts');
  assert.deepEqual(plan.flags, [
    { name: '--require', value: 'dotenv/config' },
    { name: '--max-old-space-size', value: '2048' },
  ]);
});

test('a size after a space, which node refuses, is carried with = and said so', () => {
  for (const script of ["NODE_OPTIONS='--max-old-space-size 4096' tsc --noEmit", 'node --max-old-space-size 4096 node_modules/.bin/tsc --noEmit']) {
    const plan = rewrite('typecheck', script);
    assert.deepEqual(plan.flags, [{ name: '--max-old-space-size', value: '4096' }], script);
    assert.ok(
      plan.notes.includes(
        'node refuses --max-old-space-size 4096 (a V8 flag takes its value after =, not after a space: the script did not start); carried as --max-old-space-size=4096.',
      ),
      plan.notes.join('\n'),
    );
  }
});

test("npx --node-options replaces NODE_OPTIONS for its command: its flags go to the profile, npx's other options stay", () => {
  const table: Array<[string, string, string[]]> = [
    ['npx --node-options=--max-old-space-size=4096 tsc -b', 'memtune run build -- npx tsc -b', ['--max-old-space-size=4096']],
    [
      "npx --yes --node-options '--max-old-space-size=4096 --experimental-vm-modules' -p typescript tsc -b",
      'memtune run build -- npx --yes -p typescript tsc -b',
      ['--max-old-space-size=4096', '--experimental-vm-modules'],
    ],
  ];
  for (const [script, expected, flags] of table) {
    const plan = rewrite('build', script);
    assert.deepEqual([plan.script, plan.flags.map((flag) => `${flag.name}=${flag.value}`.replace(/=undefined$/, ''))], [expected, flags], script);
    assert.match(plan.notes.join('\n'), /replaced NODE_OPTIONS for the command/);
  }
  const both = planScriptRewrite('build', 'NODE_OPTIONS=--max-old-space-size=8192 npx --node-options=--max-old-space-size=4096 tsc -b', CONTEXT);
  assert.equal(both.kind, 'unparsable');
});

test('memory flags inside the command (another program, a quoted command) are left there: alone, the line is left with why', () => {
  for (const script of [
    'tsx --max-old-space-size=4096 src/x.ts',
    'nodemon --exec "node --max-old-space-size=2048 dist/main.js"',
    'dotenv -e .env.production -- cross-env NODE_OPTIONS=--max-old-space-size=4096 next build',
    'pm2-runtime start ecosystem.config.js --node-args="--max-old-space-size=2048"',
  ]) {
    const plan = planScriptRewrite('start', script, CONTEXT);
    assert.equal(plan.kind, 'unparsable', script);
    assert.match(plan.kind === 'unparsable' ? plan.reason : '', /^its memory settings are inside the command \(.+\), which memtune does not take apart/, script);
  }
  const plan = rewrite('start', 'NODE_OPTIONS=--require=./otel.cjs tsx --max-old-space-size=4096 src/x.ts');
  assert.deepEqual(row(plan), ['start', 'memtune run start -- tsx --max-old-space-size=4096 src/x.ts', ['--require=./otel.cjs'], []]);
  assert.deepEqual(plan.notes, [
    "--max-old-space-size=4096 stays on the tsx command line, as it was: memtune moves only NODE_OPTIONS and node's own flags; where tsx hands it to node, it wins over the profile.",
  ]);
});

test('Windows set NODE_OPTIONS=… && is left as it is, with why', () => {
  const plan = planScriptRewrite('build', 'set NODE_OPTIONS=--max-old-space-size=4096 && react-scripts build', CONTEXT);
  assert.equal(plan.kind, 'unparsable');
  assert.match(plan.kind === 'unparsable' ? plan.reason : '', /^set NODE_OPTIONS=… is Windows cmd syntax \(under sh, set changes no variable\)/);
});

test('a second NODE_OPTIONS= on the line replaces the first, as the shell does, unless it adds to it with $NODE_OPTIONS', () => {
  const replaced = rewrite('build', 'NODE_OPTIONS=--require=./a.cjs cross-env NODE_OPTIONS=--max-old-space-size=8192 vite build');
  assert.deepEqual(row(replaced), ['build', 'memtune run build -- vite build', ['--max-old-space-size=8192'], []]);
  assert.deepEqual(replaced.notes, [
    'NODE_OPTIONS=--require=./a.cjs is replaced by NODE_OPTIONS=--max-old-space-size=8192 later on the line: the command never saw it, so its flags are not carried.',
  ]);
  const added = rewrite('build', 'export NODE_OPTIONS=--require=./a.cjs && NODE_OPTIONS="$NODE_OPTIONS --max-old-space-size=8192" vite build');
  assert.deepEqual(row(added), ['build', 'memtune run build -- vite build', ['--require=./a.cjs', '--max-old-space-size=8192'], []]);
});

test('a backslash before a newline joins the lines, as sh reads them, in quotes or not', () => {
  const plan = rewrite('build', 'NODE_OPTIONS="--max-old-space-size=4096 \\\n--max-semi-space-size=16" \\\n  node \\\n  --enable-source-maps node_modules/.bin/tsc -b');
  assert.deepEqual(row(plan), ['build', 'memtune run build -- tsc -b', ['--max-old-space-size=4096', '--max-semi-space-size=16', '--enable-source-maps'], []]);
});

test('--expose-gc is carried for jest --logHeapUsage, which calls gc() before it reads each heap', () => {
  for (const script of [
    'node --expose-gc --max-old-space-size=4096 ./node_modules/.bin/jest --logHeapUsage',
    'node --expose-gc --max-old-space-size=4096 node_modules/jest/bin/jest.js --logHeapUsage',
    "NODE_OPTIONS='--expose-gc --max-old-space-size=4096' npx jest --runInBand --logHeapUsage",
  ]) {
    assert.deepEqual(rewrite('test', script).flags, [{ name: '--expose-gc' }, { name: '--max-old-space-size', value: '4096' }], script);
  }
  assert.deepEqual(
    rewrite('test', "NODE_OPTIONS='--expose-gc --max-old-space-size=4096' jest").dropped.map((entry) => entry.flag),
    ['--expose-gc'],
  );
});
