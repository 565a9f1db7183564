import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, REPO, cleanEnv, tempDir } from '../helpers.js';
import { MiB, SINGLE_NPM, SINGLE_YARN, START_PROFILE, appTree, args, assertRules, copyFrom, heapLimitWith, nodeWithHeapPercentage, render, runs } from './dockerfile.js';

// Every rule of the Dockerfile, checked on the parsed renderings of the fixtures; the start commands run here.

test('single npm package on Node 26: every Dockerfile rule holds, and the CMD is node with a percentage of the limit', () => {
  assertRules(render(join(FIXTURES, 'docker-single-npm')).stdout, SINGLE_NPM);
});

test("the Node 26 CMD gives the started node the start profile's percentage of the memory node sees", (t) => {
  const { stdout } = render(join(FIXTURES, 'docker-single-npm'));
  const { cmd } = assertRules(stdout, SINGLE_NPM);
  const app = appTree(t, 'dist/server.js');
  const node = nodeWithHeapPercentage();
  if (node === undefined) {
    // Only the first CI pass on Node 20 gets here (before .ci/node is installed): the flag does not exist there,
    // which is why older majors start through memtune run start. The Node 26 pass checks the heap.
    const refused = spawnSync(process.execPath, cmd.slice(1), { cwd: app, env: cleanEnv(), encoding: 'utf8' });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /bad option: --max-old-space-size-percentage/);
    return;
  }
  const result = spawnSync(node, cmd.slice(1), { cwd: app, env: cleanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const probe = JSON.parse(result.stdout) as { heapLimit: number; total: number; constrained: number; argv: string[]; reportDirectory: string };
  assert.deepEqual(probe.argv, ['--port', '8080']);
  // A fatal-error report goes to the one directory the image makes writable for the node user.
  assert.equal(probe.reportDirectory, '.memtune/diagnostics');
  assert.match(stdout, /^RUN install -d -o node -g node \.memtune\/diagnostics$/m);
  // Node sizes from the cgroup limit when there is one (uv_get_constrained_memory), else the machine's memory.
  const seen = probe.constrained > 0 && probe.constrained < probe.total ? probe.constrained : probe.total;
  const share = (seen * START_PROFILE.percent) / 100 / MiB;
  // heap_size_limit is the old space plus the young generation (48 MiB on Node 20, 96 MiB on Node 26 here):
  // the same node with --max-old-space-size at that share is the reference.
  const reference = heapLimitWith(node, Math.floor(share));
  assert.ok(
    Math.abs(probe.heapLimit - reference) <= 2 * MiB,
    `heap limit ${probe.heapLimit / MiB} MiB = ${START_PROFILE.percent}% of ${Math.round(seen / MiB)} MiB (reference ${reference / MiB} MiB)`,
  );
});

test('single yarn package on Node 20: memtune run start in the CMD, memtune kept as a production dependency, end-of-life warned', () => {
  const { stdout, stderr } = render(join(FIXTURES, 'docker-single-yarn'));
  assertRules(stdout, SINGLE_YARN);
  assert.match(stdout, /corepack enable/);
  assert.match(stderr, /Node 20, which is end-of-life/);
});

test("the memtune run start CMD, run with MEMTUNE_MEMORY_LIMIT=512MiB, gives node the start profile's share of 512 MiB", (t) => {
  const { stdout } = render(join(FIXTURES, 'docker-single-yarn'));
  const { cmd, path } = assertRules(stdout, SINGLE_YARN);
  const app = appTree(t, 'dist/worker.js');
  // The image's ENV PATH, with /app mapped to this directory: `memtune` is found exactly as in the container.
  const PATH = path.replaceAll('/app', app).replace(/\$PATH$/, process.env.PATH ?? '');
  const result = spawnSync(cmd[0]!, cmd.slice(1), {
    cwd: app,
    env: cleanEnv({ PATH: `${join(process.execPath, '..')}:${PATH}`, MEMTUNE_MEMORY_LIMIT: '512MiB' }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, `memtune run start failed: ${result.stderr}`);
  const probe = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as { heapLimit: number };
  let share = (512 * START_PROFILE.percent) / 100;
  if (START_PROFILE.minMiB !== null) share = Math.max(share, START_PROFILE.minMiB);
  if (START_PROFILE.maxMiB !== null) share = Math.min(share, START_PROFILE.maxMiB);
  // memtune passes --max-old-space-size in whole MiB; heap_size_limit adds the young generation on top.
  const reference = heapLimitWith(process.execPath, Math.floor(share));
  assert.ok(
    Math.abs(probe.heapLimit - reference) <= 1 * MiB,
    `heap limit ${probe.heapLimit / MiB} MiB = the start profile's ${share} MiB of 512 MiB (reference ${reference / MiB} MiB)`,
  );
  assert.ok(probe.heapLimit < 512 * MiB, 'the heap fits in the 512 MiB limit');
});

for (const fixture of [
  {
    name: 'npm',
    dir: 'docker-monorepo-npm',
    nodeTag: '26',
    install: /^npm ci$/,
    prune: /^npm prune --omit=dev$/,
    cmd: [
      'node',
      `--max-old-space-size-percentage=${START_PROFILE.percent}`,
      '--report-on-fatalerror',
      '--diagnostic-dir=.memtune/diagnostics',
      '--report-directory=.memtune/diagnostics',
      '--enable-source-maps',
      'dist/server.js',
    ],
  },
  {
    name: 'pnpm',
    dir: 'docker-monorepo-pnpm',
    nodeTag: '22',
    install: /^pnpm install --frozen-lockfile/,
    prune: /pnpm install --prod --frozen-lockfile/,
    cmd: ['memtune', 'run', 'start', '--', 'node', 'dist/server.js'],
  },
]) {
  test(`app inside a ${fixture.name} monorepo: every rule holds and the turbo prune --docker layout exists when turbo really prunes`, (t) => {
    const { stdout } = render(join(FIXTURES, fixture.dir), ['--app', 'apps/api']);
    const { stages, runtime } = assertRules(stdout, { nodeTag: fixture.nodeTag, install: fixture.install, prune: fixture.prune, monorepo: true, cmd: fixture.cmd });
    assert.equal(args(runtime.instructions.filter((i) => i.getKeyword() === 'WORKDIR').at(-1)!), '/app/apps/api');
    assert.match(stdout, /RUN memtune run build -- turbo run build --filter=@acme\/api\n/);
    const rootCopy = /^COPY \.node-options \.\/$/m;
    if (fixture.name === 'pnpm') assert.match(stdout, rootCopy, 'the root .node-options, which turbo prune leaves out, is copied for memtune run');
    else assert.doesNotMatch(stdout, rootCopy);

    // Run the prune stage's own command with the real turbo on a copy of the repository.
    const repo = tempDir(t, 'memtune-docker-prune-');
    cpSync(join(FIXTURES, fixture.dir), repo, { recursive: true });
    const prune = stages.find((stage) => stage.name === 'prune')!;
    const words = args(runs(prune).find((instruction) => args(instruction).startsWith('turbo prune'))!).split(' ');
    const result = spawnSync(join(REPO, 'node_modules/.bin/turbo'), words.slice(1), {
      cwd: repo,
      env: cleanEnv({ TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' }),
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const lockfile = fixture.name === 'npm' ? 'package-lock.json' : 'pnpm-lock.yaml';
    assert.ok(existsSync(join(repo, 'out/json', lockfile)), `out/json has the pruned ${lockfile}`);
    assert.ok(existsSync(join(repo, 'out/json/apps/api/package.json')));
    assert.ok(existsSync(join(repo, 'out/full/packages/util/package.json')), 'the workspace dependency is kept');
    const build = stages.find((stage) => stage.name === 'build')!;
    for (const copy of build.instructions.filter((i) => copyFrom(i) === 'prune')) {
      const source = args(copy).split(/\s+/)[0]!;
      assert.ok(existsSync(join(repo, source.replace(/^\/app\//, ''))), `COPY --from=prune ${source} exists after turbo prune`);
    }
  });
}

test('the rule checks have teeth: each classic mistake written into a rendering fails them', () => {
  const good = render(join(FIXTURES, 'docker-single-npm')).stdout;
  const expect = SINGLE_NPM;
  assertRules(good, expect);
  const cmdLine = /^CMD .*$/m;
  const mistakes: Array<[string, (text: string) => string]> = [
    ['a token in ARG', (text) => text.replace('FROM base AS build\n', 'FROM base AS build\nARG NPM_TOKEN\n')],
    ['a token in ENV', (text) => text.replace('FROM base AS build\n', 'FROM base AS build\nENV NPM_AUTH=abc\n')],
    ['no secret mount', (text) => text.replaceAll(' --mount=type=secret,id=npmrc,target=/root/.npmrc', '')],
    ['no cache mount', (text) => text.replaceAll('--mount=type=cache,target=/root/.npm ', '')],
    ['a fixed heap', (text) => text.replace('--max-old-space-size-percentage=60', '--max-old-space-size=4096')],
    ['NODE_OPTIONS baked in', (text) => text.replace('ENV NODE_ENV=production', 'ENV NODE_ENV=production NODE_OPTIONS=--max-old-space-size=4096')],
    ['shell-form CMD', (text) => text.replace(cmdLine, 'CMD node dist/server.js')],
    ['running as root', (text) => text.replace('USER node', 'USER root')],
    ['no init process', (text) => text.replace(/^ENTRYPOINT .*\n/m, '')],
    ['no NODE_ENV', (text) => text.replace('ENV NODE_ENV=production\n', '')],
    ['a full image', (text) => text.replace('node:26-slim', 'node:26')],
    ['another major', (text) => text.replace('node:26-slim', 'node:20-slim')],
    ['single stage', (text) => text.replace(/FROM base AS runtime\n/, '')],
    ['dev dependencies kept', (text) => text.replace('npm prune --omit=dev', 'true')],
    ['built without the build profile', (text) => text.replace('memtune run build -- npm run build', 'npm run build')],
    ['install without the lockfile', (text) => text.replace('npm ci', 'npm install')],
  ];
  for (const [name, mutate] of mistakes) {
    const bad = mutate(good);
    assert.notEqual(bad, good, `${name}: the mutation applies`);
    assert.throws(() => assertRules(bad, expect), assert.AssertionError, name);
  }
});
