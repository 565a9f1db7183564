import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { RunOutput } from '../parse.js';
import type { CompilerInfo } from '../types.js';

export interface ProjectConfig {
  tsconfig: string;
  incremental: boolean;
  /** Referenced projects' tsconfig files (absolute). */
  references: string[];
  /** A solution-style config (`files: []` and references): it checks nothing of its own. */
  solution: boolean;
}

/** A tsconfig its compiler cannot read: the compiler's own messages say why. */
export interface UnreadableConfig {
  tsconfig: string;
  unreadable: string;
}

export function isUnreadable(config: ProjectConfig | UnreadableConfig): config is UnreadableConfig {
  return 'unreadable' in config;
}

function tsconfigOf(path: string): string {
  return path.endsWith('.json') ? path : join(path, 'tsconfig.json');
}

/** The compiler's messages of a finished helper process, first lines first, without GC or diagnostics lines. */
function messagesOf(stdout: string, stderr: string): string {
  const output = new RunOutput();
  output.write('stdout', stdout);
  output.write('stderr', stderr);
  output.end();
  return output.messages('first');
}

/** The project as its own compiler resolves it (`--showConfig`): the only parser that knows every major's rules. */
export async function readProjectConfig(compiler: CompilerInfo, tsconfig: string, env: NodeJS.ProcessEnv): Promise<ProjectConfig | UnreadableConfig> {
  const child = spawn(process.execPath, [compiler.path, '--showConfig', '-p', tsconfig], { cwd: dirname(tsconfig), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  let shown:
    | {
        compilerOptions?: { composite?: boolean; incremental?: boolean };
        references?: Array<{ path: string }>;
        files?: string[];
        include?: string[];
      }
    | undefined;
  try {
    shown = code === 0 ? JSON.parse(stdout) : undefined;
  } catch {
    shown = undefined;
  }
  if (!shown) {
    return { tsconfig, unreadable: `TypeScript ${compiler.version} cannot read ${tsconfig} (tsc --showConfig exited ${code ?? signal}):\n${messagesOf(stdout, stderr)}` };
  }
  const options = shown.compilerOptions ?? {};
  const dir = dirname(tsconfig);
  const references = (shown.references ?? []).map((ref) => tsconfigOf(resolve(dir, ref.path)));
  // A solution-style config (`files: []`, no include) shows neither; any project with sources shows one of them.
  const solution = (shown.files ?? []).length === 0 && (shown.include ?? []).length === 0 && references.length > 0;
  return { tsconfig, incremental: options.composite === true || options.incremental === true, references, solution };
}

/**
 * Brings referenced projects up to date, as the user's `tsc -b` would: `tsc -b` decides itself what is
 * stale (its up-to-date check compares sources, outputs and build info) and rebuilds only that. One
 * process per run of projects that share a compiler, in the order given (references first). A build
 * with errors still writes its declarations (tsc emits on error unless told otherwise), so it is no
 * reason to stop: its messages are returned for the user, and the checks that depend on it show what
 * it costs them.
 */
export function buildProjects(compiler: CompilerInfo, tsconfigs: string[], cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  const result = spawnSync(process.execPath, [compiler.path, '-b', ...tsconfigs], { cwd, env, encoding: 'utf8' });
  if (result.status === 0) return undefined;
  return `TypeScript ${compiler.version} tsc -b ${tsconfigs.join(' ')} exited ${result.status ?? result.signal}:\n${messagesOf(result.stdout, result.stderr)}`;
}
