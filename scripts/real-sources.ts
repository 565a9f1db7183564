/**
 * A scratch workspace of real npm sources to measure compilers on, in
 * node_modules/.cache/memtune-real-sources/<RECIPE_VERSION>/:
 * - packages/zod: zod 4.6.7's src/ as one `tsc -p` project (TS 5.9.3: ~11.5 s, ~535 MB peak RSS);
 * - packages/query-core + packages/react-query: TanStack Query 5.108.4's src/ as two composite
 *   projects, the second referencing the first; the root tsconfig.json references both (`tsc -b`).
 * TypeScript 5.9.3 (`typescript`), 6.0.3 (`typescript-6`) and 7.0.2 (`typescript-7`, native) are installed
 * beside them, with the @types packages a React + Node monorepo with Jest typically hoists (TypeScript 5.9
 * loads every one of them into a project that does not set `types`; the packages here all set it).
 * Idempotent: each step is skipped when its output is there; a finished workspace is stamped.
 * Writes nothing outside the cache dir (npm keeps its own download cache as usual).
 *
 * Usage: node --import tsx scripts/real-sources.ts   (prints the paths as JSON)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Bump when anything below changes: a new version builds a new workspace beside the old one. */
const RECIPE_VERSION = 'v2';
// MEMTUNE_REAL_SOURCES_CACHE: another place for it (node_modules may be shared and read-only).
const CACHE = process.env.MEMTUNE_REAL_SOURCES_CACHE ?? resolve(import.meta.dirname, '..', 'node_modules', '.cache', 'memtune-real-sources');

const SOURCES = {
  zod: 'zod@4.6.7',
  'query-core': '@tanstack/query-core@5.108.4',
  'react-query': '@tanstack/react-query@5.108.4',
} as const;
type SourceName = keyof typeof SOURCES;

/** What the workspace holds, for a report's text. */
export const REAL_SOURCES_TEXT =
  `${SOURCES.zod} \`src/\` as one project; ${SOURCES['query-core']} and ${SOURCES['react-query']} \`src/\` as composite projects, ` +
  `react-query referencing query-core (scripts/real-sources.ts, recipe ${RECIPE_VERSION})`;

const DEV_DEPENDENCIES = {
  typescript: 'npm:typescript@5.9.3',
  'typescript-6': 'npm:typescript@6.0.3',
  'typescript-7': 'npm:typescript@7.0.2',
  '@types/node': '20.19.43',
  '@types/react': '19.2.2',
  '@types/react-dom': '19.2.7',
  '@types/jest': '30.0.0',
  react: '19.2.0',
};

export interface RealSources {
  /** The workspace root: `tsc -b` here builds query-core and react-query. */
  root: string;
  /** packages/zod: one `tsc -p tsconfig.json` project. */
  zod: string;
  queryCore: string;
  reactQuery: string;
  /** lib/tsc.js of TypeScript 5.9.3 and 6.0.3. */
  tsc59: string;
  tsc60: string;
  /** The package directories of TypeScript 6.0.3 and 7.0.2 (native), for `memtune bench --compiler`/`--variant compiler:`. */
  typescript6: string;
  typescript7: string;
}

const TANSTACK_OPTIONS = {
  composite: true,
  target: 'es2022',
  module: 'esnext',
  moduleResolution: 'bundler',
  strict: true,
  skipLibCheck: true,
  declaration: true,
  emitDeclarationOnly: true,
  outDir: 'dist',
  rootDir: 'src',
  types: ['node'],
  lib: ['es2022', 'dom'],
};

const PACKAGE_FILES: Record<SourceName, { packageJson: object; tsconfig: object }> = {
  zod: {
    packageJson: { name: '@real/zod', private: true, type: 'module' },
    tsconfig: {
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
        rootDir: 'src',
        paths: { zod: ['./src/index.ts'], 'zod/*': ['./src/*/index.ts'] },
      },
      include: ['src'],
      exclude: ['src/v3/benchmarks', 'src/**/%*', 'src/**/tests/**'],
    },
  },
  'query-core': {
    packageJson: { name: '@real/query-core', private: true },
    tsconfig: { compilerOptions: TANSTACK_OPTIONS, include: ['src'], exclude: ['src/__tests__'] },
  },
  'react-query': {
    packageJson: { name: '@real/react-query', private: true },
    tsconfig: {
      compilerOptions: { ...TANSTACK_OPTIONS, jsx: 'react-jsx', paths: { '@tanstack/query-core': ['../query-core/src/index.ts'] } },
      include: ['src'],
      exclude: ['src/__tests__'],
      references: [{ path: '../query-core' }],
    },
  },
};

/** The environment for npm and tar: no NODE_OPTIONS, and no npm_* variables of an enclosing `npm run`. */
function toolEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key !== 'NODE_OPTIONS' && !key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  return env;
}

/** Runs a tool to completion and returns its stdout; throws with the command and its output on failure. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, env: toolEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { status?: number | null; signal?: string | null; stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().slice(-3000);
    throw new Error(`real-sources: \`${command} ${args.join(' ')}\` in ${cwd} failed (${e.status ?? e.signal ?? e.message}):\n${output}`);
  }
}

const writeJson = (path: string, value: unknown) => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);

/** The unpacked package of each source, packed with `npm pack` and extracted under <root>/.sources/. */
function unpackedSources(root: string): Record<SourceName, string> {
  const sources = join(root, '.sources');
  const unpacked = Object.fromEntries((Object.keys(SOURCES) as SourceName[]).map((name) => [name, join(sources, name)])) as Record<SourceName, string>;
  if (Object.values(unpacked).every((dir) => existsSync(join(dir, 'package.json')))) return unpacked;
  rmSync(sources, { recursive: true, force: true });
  mkdirSync(sources, { recursive: true });
  const packed = JSON.parse(run('npm', ['pack', '--json', ...Object.values(SOURCES)], sources)) as Array<{ filename: string }>;
  (Object.keys(SOURCES) as SourceName[]).forEach((name, i) => {
    const tarball = packed[i]?.filename;
    if (!tarball) throw new Error(`real-sources: npm pack printed no file name for ${SOURCES[name]}`);
    mkdirSync(unpacked[name]);
    run('tar', ['-xzf', join(sources, tarball), '-C', unpacked[name], '--strip-components=1'], sources);
  });
  return unpacked;
}

/** Builds (or finds) the workspace and returns its paths. */
export async function prepareRealSources(): Promise<RealSources> {
  const root = join(CACHE, RECIPE_VERSION);
  const paths: RealSources = {
    root,
    zod: join(root, 'packages', 'zod'),
    queryCore: join(root, 'packages', 'query-core'),
    reactQuery: join(root, 'packages', 'react-query'),
    tsc59: join(root, 'node_modules', 'typescript', 'lib', 'tsc.js'),
    tsc60: join(root, 'node_modules', 'typescript-6', 'lib', 'tsc.js'),
    typescript6: join(root, 'node_modules', 'typescript-6'),
    typescript7: join(root, 'node_modules', 'typescript-7'),
  };
  const installed = [paths.tsc59, paths.tsc60, join(paths.typescript7, 'bin', 'tsc')];
  const stamp = join(root, '.ready');
  const recipe = JSON.stringify({ RECIPE_VERSION, SOURCES, DEV_DEPENDENCIES });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === recipe && installed.every((file) => existsSync(file))) return paths;

  mkdirSync(root, { recursive: true });
  const unpacked = unpackedSources(root);
  for (const name of Object.keys(SOURCES) as SourceName[]) {
    const dir = join(root, 'packages', name);
    if (!existsSync(join(dir, 'src'))) {
      mkdirSync(dir, { recursive: true });
      cpSync(join(unpacked[name], 'src'), join(dir, 'src'), { recursive: true });
    }
    writeJson(join(dir, 'package.json'), { version: '0.0.0', ...PACKAGE_FILES[name].packageJson });
    writeJson(join(dir, 'tsconfig.json'), PACKAGE_FILES[name].tsconfig);
  }
  writeJson(join(root, 'package.json'), { name: 'memtune-real-sources', private: true, workspaces: ['packages/*'], devDependencies: DEV_DEPENDENCIES });
  writeJson(join(root, 'tsconfig.json'), { files: [], references: [{ path: 'packages/query-core' }, { path: 'packages/react-query' }] });
  if (!installed.every((file) => existsSync(file))) run('npm', ['install', '--no-audit', '--no-fund'], root);
  for (const file of installed) if (!existsSync(file)) throw new Error(`real-sources: ${file} is missing after npm install`);
  writeFileSync(stamp, recipe);
  return paths;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    console.log(JSON.stringify(await prepareRealSources(), null, 2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
