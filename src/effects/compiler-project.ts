import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CompilerInfo } from '../core/bench-types.js';
import { UsageError } from '../core/errors.js';
import { outputTail } from '../core/bench-parse.js';

export interface ProjectConfig {
  tsconfig: string;
  incremental: boolean;
  /** The build info file a build of this project writes (absolute). */
  buildInfo: string | undefined;
  /** Referenced projects' tsconfig files (absolute). */
  references: string[];
  /** A solution-style config (`files: []` and references): it checks nothing of its own. */
  solution: boolean;
}

function tsconfigOf(path: string): string {
  return path.endsWith('.json') ? path : join(path, 'tsconfig.json');
}

/** The project as its own compiler resolves it (`--showConfig`): the only parser that knows every major's rules. */
export async function readProjectConfig(compiler: CompilerInfo, tsconfig: string, env: NodeJS.ProcessEnv): Promise<ProjectConfig> {
  const child = spawn(process.execPath, [compiler.path, '--showConfig', '-p', tsconfig], { cwd: dirname(tsconfig), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  let shown: {
    compilerOptions?: { composite?: boolean; incremental?: boolean; tsBuildInfoFile?: string; outDir?: string };
    references?: Array<{ path: string }>;
    files?: string[];
    include?: string[];
  } | undefined;
  try {
    shown = code === 0 ? JSON.parse(stdout) : undefined;
  } catch {
    shown = undefined;
  }
  if (!shown) {
    throw new UsageError(
      `memtune: TypeScript ${compiler.version} cannot read ${tsconfig} (exit ${code ?? signal}):\n${outputTail(`${stdout}${stderr}`)}\n` +
        'Fix the tsconfig (tsc --showConfig -p <dir> shows the same error), or leave the package out with --filter.',
    );
  }
  const options = shown.compilerOptions ?? {};
  const dir = dirname(tsconfig);
  const incremental = options.composite === true || options.incremental === true;
  const buildInfo = !incremental
    ? undefined
    : options.tsBuildInfoFile
      ? resolve(dir, options.tsBuildInfoFile)
      : options.outDir
        ? resolve(dir, options.outDir, 'tsconfig.tsbuildinfo')
        : join(dir, 'tsconfig.tsbuildinfo');
  const references = (shown.references ?? []).map((ref) => tsconfigOf(resolve(dir, ref.path)));
  // A solution-style config (`files: []`, no include) shows neither; any project with sources shows one of them.
  const solution = (shown.files ?? []).length === 0 && (shown.include ?? []).length === 0 && references.length > 0;
  return { tsconfig, incremental, buildInfo, references, solution };
}

/** Whether a referenced project has been built: its build info exists. */
export function isBuilt(project: ProjectConfig): boolean {
  return project.buildInfo !== undefined && existsSync(project.buildInfo);
}

/** Builds a referenced project (and what it references) with `tsc -b`, outside any measurement. */
export function buildProject(compiler: CompilerInfo, tsconfig: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync(process.execPath, [compiler.path, '-b', tsconfig], { cwd: dirname(tsconfig), env, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new UsageError(
      `memtune: building the referenced project ${tsconfig} first failed: tsc -b exited ${result.status ?? result.signal}:\n${outputTail(`${result.stdout}${result.stderr}`)}\n` +
        'A package cannot be checked alone until the projects it references are built; fix that build, or leave the package out with --filter.',
      1,
    );
  }
}
