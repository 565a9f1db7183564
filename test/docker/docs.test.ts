import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, REPO, cleanEnv } from '../helpers.js';
import { MiB, SINGLE_YARN, START_PROFILE, appTree, assertRules, heapLimitWith, nodeWithHeapPercentage, render } from './dockerfile.js';

const RULES = [
  'multi-stage',
  'install from the lockfile',
  'manifests before sources',
  'build',
  'dev dependencies dropped',
  'slim image',
  'non-root',
  'init',
  'NODE_ENV=production',
  'exec',
  'heap',
  'secret',
];

test('docs/docker.md and presets/docker/README.md give every Dockerfile rule a reason', () => {
  const doc = readFileSync(join(REPO, 'docs/docker.md'), 'utf8');
  const rows = doc
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  const header = rows.findIndex((cells) => cells.join(',') === 'rule,why,how');
  assert.ok(header >= 0, 'docs/docker.md has a rule | why | how table');
  const table = rows.slice(header + 2);
  const readme = readFileSync(join(REPO, 'presets/docker/README.md'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('- **'));
  for (const rule of RULES) {
    const row = table.find((cells) => cells[0]!.toLowerCase().includes(rule.toLowerCase()));
    assert.ok(row && row[1]!.length > 20 && row[2]!.length > 0, `docs/docker.md: a reason and a how for ${rule}`);
    const line = readme.find((item) => item.toLowerCase().includes(rule.toLowerCase()));
    assert.ok(line && /\*\*:? .{20,}/.test(line), `presets/docker/README.md: one line with a reason for ${rule}`);
  }
});

/** Splits a shell line of the docs into words: double quotes only, nothing that a shell would expand. */
function shellWords(line: string): string[] {
  assert.doesNotMatch(line, /[$\\`]/, `nothing to expand in ${line}`);
  const words: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && /\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    } else word = (word ?? '') + char;
    word ??= '';
  }
  assert.ok(!quoted, `balanced quotes in ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** The smoke-test `docker run` lines of docs/docker.md: the container's environment and its command (empty: the image's CMD). */
function smokeRuns(): Array<{ env: Record<string, string>; command: string[] }> {
  const doc = readFileSync(join(REPO, 'docs/docker.md'), 'utf8');
  assert.match(doc, /There is no Docker engine on memtune's development machines/);
  assert.match(doc, /^docker build -t my-api \./m);
  return doc
    .split('\n')
    .filter((line) => line.startsWith('docker run --rm --memory=512m '))
    .map((line) => {
      const words = shellWords(line).slice(4);
      const env: Record<string, string> = {};
      while (words[0] !== 'my-api') {
        const [flag, value] = words.splice(0, 2);
        if (flag === '-e') env[value!.slice(0, value!.indexOf('='))] = value!.slice(value!.indexOf('=') + 1);
        else assert.equal(flag, '-p', `docker run option ${flag}`);
      }
      return { env, command: words.slice(1) };
    });
}

test("the smoke test in docs/docker.md, run here without Docker under MEMTUNE_MEMORY_LIMIT=512MiB, prints the start profile's heap", (t) => {
  const runs = smokeRuns();
  assert.equal(runs.length, 3, 'the CMD flag, memtune run start, and the service itself');
  const [flagRun, memtuneRun, serviceRun] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
  assert.deepEqual(flagRun.command.slice(0, 2), ['node', `--max-old-space-size-percentage=${START_PROFILE.percent}`], "the docs use the start profile's share");
  const percentageNode = nodeWithHeapPercentage();
  if (percentageNode !== undefined) {
    // Node reads the limit itself (none here: the machine's memory), so this line is checked against that.
    const flagged = spawnSync(percentageNode, flagRun.command.slice(1), { env: cleanEnv(), encoding: 'utf8' });
    assert.equal(flagged.status, 0, flagged.stderr);
    const seen = Number(
      spawnSync(percentageNode, ['-p', 'const c = process.constrainedMemory(); c > 0 && c < os.totalmem() ? c : os.totalmem()'], { env: cleanEnv(), encoding: 'utf8' }).stdout,
    );
    const reference = heapLimitWith(percentageNode, Math.floor((seen * START_PROFILE.percent) / 100 / MiB)) / MiB;
    assert.ok(Math.abs(Number(flagged.stdout.trim()) - reference) <= 2, `${flagged.stdout.trim()} MiB, reference ${reference} MiB`);
  }

  const share = Math.floor((512 * START_PROFILE.percent) / 100);
  const expected = heapLimitWith(process.execPath, share) / MiB;
  const { stdout } = render(join(FIXTURES, 'docker-single-yarn'));
  const { cmd, path } = assertRules(stdout, SINGLE_YARN);
  const app = appTree(t, 'dist/worker.js');
  const PATH = `${join(process.execPath, '..')}:${path.replaceAll('/app', app).replace(/\$PATH$/, process.env.PATH ?? '')}`;
  const inContainer = (command: string[], env: Record<string, string>) =>
    spawnSync(command[0]!, command.slice(1), { cwd: app, env: cleanEnv({ PATH, MEMTUNE_MEMORY_LIMIT: '512MiB', ...env }), encoding: 'utf8', timeout: 60_000 });

  const viaMemtune = inContainer(memtuneRun.command, memtuneRun.env);
  assert.equal(viaMemtune.status, 0, viaMemtune.stderr);
  assert.equal(Number(viaMemtune.stdout.trim()), expected, `memtune run start -- node -e: ${viaMemtune.stdout}`);

  // The service with the image's own CMD and the docs' preload: the app's node prints last. memtune's own node
  // prints first where it stays the parent; where it replaces itself (process.execve, Node >= 22.15) it does so
  // before the preload's asynchronous print, so only the app's line is left.
  assert.deepEqual(serviceRun.command, []);
  const service = inContainer(cmd, serviceRun.env);
  assert.equal(service.status, 0, service.stderr);
  const printed = [...service.stderr.matchAll(/^heap_size_limit_MiB (\d+(?:\.\d+)?)$/gm)].map((match) => Number(match[1]));
  assert.ok(printed.length === 2 || (printed.length === 1 && 'execve' in process), service.stderr);
  assert.equal(printed.at(-1), expected);
  assert.equal((JSON.parse(service.stdout.slice(service.stdout.indexOf('{'))) as { heapLimit: number }).heapLimit / MiB, expected);
});
