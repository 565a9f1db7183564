import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { test } from 'node:test';
import { BIN, FIXTURES, REPO, cleanEnv, tempDir, writeTree } from '../helpers.js';
import {
  MiB,
  SINGLE_NPM,
  SINGLE_YARN,
  START_PROFILE,
  nodeStartCmd,
  appTree,
  args,
  assertRules,
  copyFrom,
  heapLimitWith,
  nodeWithHeapPercentage,
  render,
  runs,
  writableDirs,
} from './dockerfile.js';

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
    cmd: nodeStartCmd('dist/server.js'),
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
    ['the report directory left to root', (text) => text.replace(/^RUN install -d -o node -g node .*\n/m, '')],
    ['the report directory made before the app is copied over it', (text) => text.replace(/^(COPY --from=build .*\n)((?:.*\n)*?)(RUN install -d .*\n)/m, '$3$1$2')],
  ];
  for (const [name, mutate] of mistakes) {
    const bad = mutate(good);
    assert.notEqual(bad, good, `${name}: the mutation applies`);
    assert.throws(() => assertRules(bad, expect), assert.AssertionError, name);
  }
});

// ---------- directories the app writes into (issue 12) ----------

/** The directories in NODE_OPTIONS that `memtune run start --print` gives in `cwd`, as image paths (`repo` mapped to /app). */
function runStartDirs(repo: string, cwd: string): string[] {
  const result = spawnSync(process.execPath, [BIN, 'run', 'start', '--print'], { cwd, env: cleanEnv({ MEMTUNE_MEMORY_LIMIT: '512MiB' }), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const nodeOptions = /^NODE_OPTIONS=(.*)$/m.exec(result.stdout)?.[1] ?? '';
  return [...nodeOptions.matchAll(/--(?:diagnostic-dir|report-directory|report-dir|heapsnapshot-signal-dir)=(\S+)/g)].map((match) => posix.join('/app', relative(repo, match[1]!)));
}

/** The runtime stage's node-owned directories as absolute image paths. */
function createdDirs(dockerfile: string, expect: Parameters<typeof assertRules>[1]): string[] {
  const { runtime } = assertRules(dockerfile, expect);
  const { workdir, dirs } = writableDirs(runtime);
  return dirs.map((dir) => posix.resolve(workdir, dir));
}

const NODE22_SINGLE = {
  'package.json': { name: 'svc', version: '1.0.0', scripts: { build: 'tsc', start: 'node dist/index.js' }, dependencies: { memtune: '0.1.0' } },
  'package-lock.json': { name: 'svc', lockfileVersion: 3, packages: {} },
  '.nvmrc': '22\n',
};
const NODE22_EXPECT = { nodeTag: '22', install: /^npm ci$/, prune: /^npm prune --omit=dev$/, monorepo: false, cmd: ['memtune', 'run', 'start', '--', 'node', 'dist/index.js'] };

test('memtune run start in the image: the runtime stage gives the node user every directory the start profile and .node-options name, as memtune run start would use them', (t) => {
  const repo = tempDir(t);
  writeTree(repo, {
    ...NODE22_SINGLE,
    // As this repository's own .node-options: every profile, so the build stage (root) creates it first.
    '.node-options': '--report-on-fatalerror\n--report-directory=.memtune/reports\n[start]\n--diagnostic-dir=var/snapshots\n[build]\n--diagnostic-dir=build-only\n',
  });
  const { stdout, stderr } = render(repo);
  const created = createdDirs(stdout, NODE22_EXPECT);
  // The profile's own directory is replaced by [start]'s, but memtune run start still creates it: so does the image.
  assert.deepEqual(created.sort(), ['/app/.memtune/diagnostics', '/app/.memtune/reports', '/app/var/snapshots']);
  assert.deepEqual(runStartDirs(repo, repo).sort(), ['/app/.memtune/reports', '/app/var/snapshots'], 'the directories memtune run start gives node');
  assert.doesNotMatch(stderr, /warning/);
});

test("an app in a monorepo: the root's and the app's .node-options directories are created for the node user, each relative to its file", (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-monorepo-pnpm'), repo, { recursive: true });
  writeTree(repo, {
    '.node-options': '--report-on-fatalerror\n--report-directory=.memtune/diagnostics\n',
    'apps/api/.node-options': '[start]\n--diagnostic-dir=diag\n',
  });
  const { stdout } = render(repo, ['--app', 'apps/api']);
  const created = createdDirs(stdout, {
    nodeTag: '22',
    install: /^pnpm install --frozen-lockfile/,
    prune: /pnpm install --prod --frozen-lockfile/,
    monorepo: true,
    cmd: ['memtune', 'run', 'start', '--', 'node', 'dist/server.js'],
  });
  assert.deepEqual(created.sort(), ['/app/.memtune/diagnostics', '/app/apps/api/.memtune/diagnostics', '/app/apps/api/diag']);
  for (const dir of runStartDirs(repo, join(repo, 'apps/api'))) assert.ok(created.includes(dir), `${dir}, used by memtune run start, is created`);
  assert.match(stdout, /^RUN install -d -o node -g node \.memtune\/diagnostics \/app\/\.memtune\/diagnostics diag$/m, 'paths relative to WORKDIR where they are inside it');
});

test('a .node-options directory the image cannot or does not use is named in a warning that says why', (t) => {
  // Outside the app: the image does not create (or chown) a system directory.
  const repo = tempDir(t);
  writeTree(repo, { ...NODE22_SINGLE, '.node-options': '[start]\n--report-directory=/var/reports\n' });
  const outside = render(repo);
  assert.deepEqual(createdDirs(outside.stdout, NODE22_EXPECT), ['/app/.memtune/diagnostics']);
  assert.match(
    outside.stderr,
    /^memtune: warning: \.node-options:2: --report-directory=\/var\/reports is outside the app \(\/app\); the image does not create it, so the node user may not be able to write there\.\nUse a directory relative to the app/m,
  );

  // Node >= 24: the CMD is node itself, which does not read .node-options.
  const node26 = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), node26, { recursive: true });
  writeTree(node26, { '.node-options': '--report-directory=.memtune/diagnostics\n[start]\n--report-directory=reports\n' });
  const direct = render(node26);
  assert.deepEqual(createdDirs(direct.stdout, SINGLE_NPM), ['/app/.memtune/diagnostics']);
  assert.match(
    direct.stderr,
    /^memtune: warning: \.node-options:3: --report-directory=reports is not used in the image: its CMD starts Node 26 directly, which does not read \.node-options; reports go to \.memtune\/diagnostics\.\n/m,
  );
  assert.doesNotMatch(direct.stderr, /\.node-options:1/, 'a directory the CMD uses as well needs no warning');
});
