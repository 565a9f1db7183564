import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import type { DryRun } from '../../src/bench/types.js';
import { runMemtune, tempDir, writeTree } from '../helpers.js';
import { fourPackageFiles } from './workspace-fixture.js';

/**
 * Four packages of different sizes (b the largest), d referencing c, and a compiler that appends each tsconfig it is
 * asked about to `log` and each other call as `check`: what a bench reads, builds and runs shows in the log.
 */
function loggedWorkspace(root: string): { compiler: string; log: string } {
  const log = join(root, 'compiler.log');
  const files = fourPackageFiles();
  files['fake-typescript/package.json'] = { name: 'typescript', version: '6.0.0' };
  files['fake-typescript/bin/tsc'] = [
    "const fs = require('node:fs');",
    "const path = require('node:path');",
    "if (process.argv.includes('--showConfig')) {",
    "  const config = path.resolve(process.argv[process.argv.indexOf('-p') + 1]);",
    `  fs.appendFileSync(${JSON.stringify(log)}, 'read ' + path.relative(${JSON.stringify(root)}, config) + '\\n');`,
    "  const references = config.includes('packages/d') ? [{ path: '../c' }] : [];",
    "  console.log(JSON.stringify({ files: ['src/index.ts'], references }));",
    '  process.exit(0);',
    '}',
    `fs.appendFileSync(${JSON.stringify(log)}, 'check ' + process.argv.slice(2).join(' ') + '\\n');`,
  ].join('\n');
  writeTree(root, files);
  return { compiler: join(root, 'fake-typescript'), log };
}

const logOf = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

test('bench --dry-run prints each package with its task, compiler and expected peak, reads the tsconfigs, and builds, runs and writes nothing', (t) => {
  const root = tempDir(t);
  const { compiler, log } = loggedWorkspace(root);
  const before = readdirSync(root).sort();
  const result = runMemtune(['bench', '--dry-run', '--compiler', compiler], { cwd: root });
  assert.equal(result.status, 0, result.stderr);
  for (const name of ['a', 'b', 'c', 'd']) {
    assert.match(result.stdout, new RegExp(`\\| @s/${name} \\| \`packages/${name}\` \\| 6\\.0\\.0 \\| typecheck \\| \\d+ MiB \\| \`tsc -p tsconfig\\.json --noEmit\` \\|`));
  }
  assert.match(result.stdout, /^4 to measure, 1 run each; nothing built, measured or written\.$/m);
  assert.match(result.stdout, /Brought up to date first with `tsc -b`.*`packages\/c\/tsconfig\.json`/);
  assert.deepEqual(logOf(log).sort(), ['read packages/a/tsconfig.json', 'read packages/b/tsconfig.json', 'read packages/c/tsconfig.json', 'read packages/d/tsconfig.json']);
  assert.deepEqual(readdirSync(root).sort(), [...before, 'compiler.log'].sort(), 'no .memtune, nothing else');
});

test('bench --dry-run --shard reads only the tsconfigs of its own packages, and the shards together plan every package once', (t) => {
  const root = tempDir(t);
  const { compiler, log } = loggedWorkspace(root);
  const shards = ['1/2', '2/2'].map((shard) => {
    const start = logOf(log).length;
    const result = runMemtune(['bench', '--dry-run', '--json', '--shard', shard, '--compiler', compiler], { cwd: root });
    assert.equal(result.status, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as DryRun;
    const dirs = plan.targets.map((target) => target.dir).sort();
    assert.deepEqual(plan.shard, { index: Number(shard[0]), count: 2, packages: dirs });
    const read = logOf(log)
      .slice(start)
      .map((line) => line.replace(/^read (.*)\/tsconfig\.json$/, '$1'))
      .sort();
    assert.deepEqual(read, dirs, `shard ${shard} read only its own tsconfigs`);
    return dirs;
  });
  // By source size: b (larger than the others together) alone in shard 1.
  assert.deepEqual(shards, [['packages/b'], ['packages/a', 'packages/c', 'packages/d']]);
  assert.equal(existsSync(join(root, '.memtune')), false);
});

test('bench --dry-run refuses --resume, --write, --update-baseline and --find-min-heap, naming each, with nothing read or written', (t) => {
  const root = tempDir(t);
  const { compiler, log } = loggedWorkspace(root);
  const cases: Array<[string[], RegExp]> = [
    [['--resume'], /--dry-run and --resume cannot be combined: a resumed bench is planned from its journal/],
    [['--write'], /--dry-run and --write cannot be combined: there is no measured heap to write/],
    [['--update-baseline', 'base.json'], /--dry-run and --update-baseline cannot be combined/],
    [['--find-min-heap'], /--dry-run and --find-min-heap cannot be combined/],
    [['--format', 'github-action-benchmark'], /--dry-run has no figures for github-action-benchmark/],
  ];
  for (const [args, message] of cases) {
    const result = runMemtune(['bench', '--dry-run', '--compiler', compiler, ...args], { cwd: root });
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /\nDrop /);
  }
  assert.deepEqual(logOf(log), []);
  assert.deepEqual(
    readdirSync(root)
      .map((name) => relative(root, join(root, name)))
      .sort(),
    ['fake-typescript', 'package.json', 'packages'],
  );
});

test('bench --package --dry-run plans the one package memtune runs in', (t) => {
  const root = tempDir(t);
  const { compiler } = loggedWorkspace(root);
  const result = runMemtune(['bench', '--package', '--dry-run', '--json', '--compiler', compiler], { cwd: join(root, 'packages/d') });
  assert.equal(result.status, 0, result.stderr);
  const plan = JSON.parse(result.stdout) as DryRun;
  assert.deepEqual(
    plan.targets.map((target) => target.dir),
    ['packages/d'],
  );
  assert.deepEqual(plan.references, ['packages/c/tsconfig.json']);
  assert.equal(existsSync(join(root, 'packages/d/.memtune')), false);
});
