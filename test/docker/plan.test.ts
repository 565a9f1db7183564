import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError, formatError, formatWarning } from '../../src/shared/errors.js';
import { detectPackageManager, resolveNodeVersion } from '../../src/docker/effects/plan.js';
import { parseNvmrc } from '../../src/docker/node-version.js';
import type { DockerPlan } from '../../src/docker/plan.js';
import { parseStartScript } from '../../src/docker/start-script.js';
import { jsonArray, renderDockerfile, runtimeDirectories, startCommand } from '../../src/docker/render.js';
import { readPreset } from '../../src/docker/effects/presets.js';
import { renderTemplate } from '../../src/docker/template.js';
import { findWorkspacePackage, listWorkspacePackages } from '../../src/shared/effects/workspace.js';
import { tempDir, writeTree } from '../helpers.js';

test('.nvmrc values become an image tag, a major and whether --max-old-space-size-percentage exists', () => {
  const cases: Array<[string, string, number, boolean, RegExp | null]> = [
    ['26\n', '26', 26, true, null],
    ['v26', '26', 26, true, null],
    ['24', '24', 24, true, null],
    ['24.11.0', '24.11.0', 24, true, null],
    ['v24.5.0', '24.5.0', 24, false, null],
    ['24.6', '24.6', 24, true, null],
    ['22', '22', 22, false, null],
    ['22.21.0', '22.21.0', 22, false, null],
    ['20', '20', 20, false, /Node 20, which is end-of-life/],
    ['25', '25', 25, true, /Node 25, which is end-of-life/],
    ['lts/*', '26', 26, true, /says "lts\/\*", which moves with each release; the Dockerfile pins Node 26/],
    ['node', '26', 26, true, /moves with each release/],
    ['lts/jod', '22', 22, false, null],
    ['lts/Krypton', '24', 24, true, null],
  ];
  for (const [text, tag, major, flag, warning] of cases) {
    const { version, warnings } = parseNvmrc(text);
    assert.equal(version.tag, tag, text);
    assert.equal(version.major, major, text);
    assert.equal(version.heapPercentageFlag, flag, text);
    if (warning) assert.match(warnings.map(formatWarning).join('\n'), warning, text);
    else assert.deepEqual(warnings, [], text);
  }
});

test('an .nvmrc that names no version is refused with the forms it accepts', () => {
  for (const text of ['', 'banana', 'lts/argonaut', '>=20']) {
    assert.throws(
      () => parseNvmrc(text, 'apps/api/.nvmrc'),
      (error: unknown) => error instanceof UsageError && /^memtune: apps\/api\/\.nvmrc says ".*", which is not a Node version .*\nWrite a major \(26\)/.test(formatError(error)),
      text,
    );
  }
});

test('start scripts: node flags, entry and arguments are read; heap flags are dropped; anything else is not guessed', () => {
  assert.deepEqual(parseStartScript('node dist/server.js'), { nodeFlags: [], entry: 'dist/server.js', args: [], dropped: [] });
  assert.deepEqual(parseStartScript('memtune run start -- node --enable-source-maps dist/server.js --port 8080'), {
    nodeFlags: ['--enable-source-maps'],
    entry: 'dist/server.js',
    args: ['--port', '8080'],
    dropped: [],
  });
  assert.deepEqual(parseStartScript('node -r dotenv/config --import ./otel.js build/main.mjs'), {
    nodeFlags: ['-r', 'dotenv/config', '--import', './otel.js'],
    entry: 'build/main.mjs',
    args: [],
    dropped: [],
  });
  assert.deepEqual(parseStartScript('node --max-old-space-size=4096 --max_old_space_size 2048 server.js'), {
    nodeFlags: [],
    entry: 'server.js',
    args: [],
    dropped: ['--max-old-space-size=4096', '--max_old_space_size 2048'],
  });
  for (const script of ['next start', 'NODE_ENV=production node server.js', 'node server.js && echo done', 'node', 'memtune run start node x.js', 'node "my app.js"']) {
    assert.equal(parseStartScript(script), undefined, script);
  }
});

/** An npm service at the root of its repository, on Node 26 (with the heap percentage flag) or 22. */
const plan = (heapPercentageFlag: boolean): DockerPlan => ({
  node: { tag: heapPercentageFlag ? '26' : '22', major: heapPercentageFlag ? 26 : 22, source: '.nvmrc', heapPercentageFlag },
  packageManager: { name: 'npm', berry: false, lockfile: 'package-lock.json' },
  app: { dir: '', name: 'svc' },
  start: { nodeFlags: ['--enable-source-maps'], entry: 'dist/server.js', args: ['--port', '8080'], source: 'start' },
  manifests: ['package.json', 'package-lock.json'],
  rootFiles: [],
  startNodeOptions: [],
  warnings: [],
});

test('the CMD is node with the percentage flag on Node >= 24 and memtune run start before it', () => {
  const profile = { heapPercent: 60, nodeFlags: ['--report-on-fatalerror'] };
  assert.deepEqual(startCommand(plan(true), profile), [
    'node',
    '--max-old-space-size-percentage=60',
    '--report-on-fatalerror',
    '--enable-source-maps',
    'dist/server.js',
    '--port',
    '8080',
  ]);
  // Reports follow the diagnostics directory, as memtune run makes them do.
  assert.deepEqual(startCommand(plan(true), { heapPercent: 50, nodeFlags: ['--report-on-fatalerror', '--diagnostic-dir=diag'] }).slice(1, 5), [
    '--max-old-space-size-percentage=50',
    '--report-on-fatalerror',
    '--diagnostic-dir=diag',
    '--report-directory=diag',
  ]);
  assert.deepEqual(startCommand(plan(false), profile), ['memtune', 'run', 'start', '--', 'node', '--enable-source-maps', 'dist/server.js', '--port', '8080']);
  assert.equal(jsonArray(['node', 'a "b".js']), '["node", "a \\"b\\".js"]');
});

test('the Dockerfile header builds with plain docker build; the registry secret is offered for private packages only', () => {
  const header = renderDockerfile(plan(false), readPreset('docker/Dockerfile'), { heapPercent: 60, nodeFlags: [] }).split('\n').slice(0, 8).join('\n');
  // BuildKit fails a --secret whose source file is missing: a public project's build must not need ~/.npmrc.
  assert.match(header, /^# {3}build: {2}docker build -t svc \.$/m);
  assert.match(header, /^# +\(private packages: add --secret id=npmrc,src=\$HOME\/\.npmrc; without it the install reads no token\)$/m);
});

test('runtime directories: relative to the working directory inside it, absolute elsewhere in /app, shell-quoted, each once', () => {
  const plan: DockerPlan = {
    node: { tag: '22', major: 22, source: '.nvmrc', heapPercentageFlag: false },
    packageManager: { name: 'npm', berry: false, lockfile: 'package-lock.json' },
    app: { dir: 'apps/api', name: 'api' },
    start: { nodeFlags: [], entry: 'dist/server.js', args: [], source: 'start' },
    manifests: ['package.json', 'package-lock.json'],
    rootFiles: ['.node-options'],
    startNodeOptions: [
      { where: '.node-options:1', dir: '', name: '--report-directory', value: 'apps/api/diag' },
      { where: '.node-options:2', dir: '', name: '--diagnostic_dir', value: "it's $HOME" },
      { where: 'apps/api/.node-options:1', dir: 'apps/api', name: '--report-dir', value: '../../shared' },
      { where: 'apps/api/.node-options:2', dir: 'apps/api', name: '--trace-gc' },
    ],
    warnings: [],
  };
  const profile = { heapPercent: 60, nodeFlags: ['--report-on-fatalerror', '--diagnostic-dir=diag'] };
  const { dirs, warnings } = runtimeDirectories(plan, profile);
  assert.deepEqual(dirs, ['diag', "/app/it's $HOME", '/app/shared']);
  assert.deepEqual(warnings, []);
  assert.match(renderDockerfile(plan, readPreset('docker/Dockerfile'), profile), /^RUN install -d -o node -g node diag '\/app\/it'\\''s \$HOME' \/app\/shared$/m);
});

test('the template keeps blocks by their flag, drops notes, and refuses unknown names and unclosed blocks', () => {
  const template = '{{! a note with {{braces}} }}\nFROM {{image}}\n{{#mono}}\nRUN turbo\n{{/mono}}\n{{^mono}}\nCOPY . .\n{{/mono}}\n\n\n\nCMD {{cmd}}\n';
  assert.equal(renderTemplate(template, { image: 'node:26-slim', mono: true, cmd: '["node"]' }), 'FROM node:26-slim\nRUN turbo\n\nCMD ["node"]\n');
  assert.equal(renderTemplate(template, { image: 'node:26-slim', mono: false, cmd: '["node"]' }), 'FROM node:26-slim\nCOPY . .\n\nCMD ["node"]\n');
  assert.throws(() => renderTemplate('FROM {{image}}\n', {}), /no value for \{\{image\}\}/);
  assert.throws(() => renderTemplate('{{#a}}\nx\n', { a: true }), /\{\{#a\}\} is never closed/);
  assert.throws(() => renderTemplate('{{#a}}\nx\n{{/b}}\n', { a: true }), /\{\{\/b\}\} closes \{\{#a\}\}/);
});

test('workspace globs: *, ** and ! exclusions find the packages; --app matches a directory or a package name', (t) => {
  const root = tempDir(t);
  writeTree(root, {
    'apps/api/package.json': { name: '@acme/api' },
    'apps/web/package.json': { name: '@acme/web' },
    'apps/docs/README.md': 'no package here',
    'packages/ui/button/package.json': { name: '@acme/button' },
    'packages/ui/node_modules/x/package.json': { name: 'x' },
    'packages/internal/package.json': { name: '@acme/internal' },
  });
  const packages = listWorkspacePackages(root, ['apps/*', './packages/**', '!packages/internal']);
  assert.deepEqual(
    packages.map((pkg) => `${pkg.dir}=${pkg.name}`),
    ['apps/api=@acme/api', 'apps/web=@acme/web', 'packages/ui/button=@acme/button'],
  );
  assert.equal(findWorkspacePackage(packages, './apps/web/').name, '@acme/web');
  assert.equal(findWorkspacePackage(packages, '@acme/button').dir, 'packages/ui/button');
  assert.throws(() => findWorkspacePackage(packages, 'apps/admin'), /--app "apps\/admin": not a package of this workspace; the packages are: apps\/api \(@acme\/api\), apps\/web/);
});

test('lockfiles: package.json "packageManager" settles two of them, Yarn 2+ is told from Yarn 1, Plug\'n\'Play is refused', (t) => {
  const root = tempDir(t);
  writeTree(root, { 'package-lock.json': '{}', 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" });
  assert.throws(() => detectPackageManager(root, {}), /more than one lockfile \(package-lock\.json, pnpm-lock\.yaml\) and no package\.json "packageManager"/);
  const picked = detectPackageManager(root, { packageManager: 'pnpm@10.20.0' });
  assert.deepEqual(picked.packageManager, { name: 'pnpm', berry: false, lockfile: 'pnpm-lock.yaml', pinned: 'pnpm@10.20.0' });
  assert.deepEqual(picked.warnings, []);

  const berry = tempDir(t);
  writeTree(berry, { 'yarn.lock': '__metadata:\n  version: 8\n' });
  const detected = detectPackageManager(berry, {});
  assert.equal(detected.packageManager.berry, true);
  assert.match(detected.warnings.map(formatWarning).join('\n'), /no "packageManager" for yarn; corepack in the image will pick its own default version/);
  writeTree(berry, { '.pnp.cjs': '' });
  assert.throws(() => detectPackageManager(berry, {}), /uses Yarn Plug'n'Play \(\.pnp\.cjs\)/);
});

test('the nearest .nvmrc from the app upwards wins, as with nvm, up to the repository root and never above it', (t) => {
  const root = tempDir(t);
  writeTree(root, { '.git/HEAD': 'ref: refs/heads/main\n', '.nvmrc': '26\n', 'apps/api/.nvmrc': '24\n', 'apps/web/package.json': {} });
  assert.equal(resolveNodeVersion(root, 'apps/api').version.source, 'apps/api/.nvmrc says 24');
  assert.equal(resolveNodeVersion(root, 'apps/web').version.source, '.nvmrc says 26');
  assert.equal(resolveNodeVersion(join(root, 'apps/web'), '').version.source, '../../.nvmrc says 26');

  // A pin outside the repository (a home directory, a parent checkout) is not the project's.
  const outside = tempDir(t);
  writeTree(outside, { '.nvmrc': '20\n', 'repo/.git/HEAD': 'ref: refs/heads/main\n', 'repo/package.json': {} });
  const { version, warnings } = resolveNodeVersion(join(outside, 'repo'), '');
  assert.equal(version.source, 'no .nvmrc: the active LTS');
  assert.match(warnings.map(formatWarning).join('\n'), /no \.nvmrc in .*repo or above it in the repository; rendering for Node 26/);
});
