import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { REPO, cleanEnv, runMemtune } from './helpers.js';

test('memtune --help lists every command and exits 0', () => {
  const result = runMemtune(['--help']);
  assert.equal(result.status, 0);
  for (const command of ['run', 'doctor', 'bench', 'docker']) assert.match(result.stdout, new RegExp(`^  ${command} `, 'm'));
});

test('memtune without a command prints the usage and exits 2', () => {
  const result = runMemtune([]);
  assert.equal(result.status, 2);
  assert.match(result.stdout, /^Usage: memtune <command>/);
});

test('an unknown command is named, the valid ones listed, exit 2', () => {
  const result = runMemtune(['bild']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: unknown command "bild"; the commands are run, doctor, bench, init, docker\.\n/);
});

test('npm pack ships the presets and the compiled bin, and nothing of the tests or examples', () => {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, env: cleanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const [pack] = JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>;
  const files = pack!.files.map((file) => file.path);
  for (const required of [
    'bin/memtune.js',
    'bin/package.json',
    'dist/cli.js',
    'dist/bundle/run.cjs',
    'presets/tsconfig/base.json',
    'presets/tsconfig/README.md',
    'package.json',
    'README.md',
    'LICENSE',
  ]) {
    assert.ok(files.includes(required), `${required} is in the package`);
  }
  const unwanted = files.filter((file) => /^(test|examples|scripts|src|\.ci)\/|tsbuildinfo$|\.test\.js$|\.cache$/.test(file));
  assert.deepEqual(unwanted, []);
});
