import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface TypeScriptCompiler {
  version: string;
  /** TypeScript 7+ (or the native preview): a Go binary that V8 flags do not reach. */
  native: boolean;
  packageDir: string;
}

const COMPILER_NAMES = new Set(['tsc', 'tsc.cmd', 'tsgo', 'tsgo.cmd']);

/**
 * What TypeScript compiler a resolved command is, found from the package.json beside the real path
 * of its bin (`node_modules/.bin/tsc` links to `typescript/bin/tsc`). Undefined for anything else.
 */
export function detectTypeScriptCompiler(command: string, resolvedPath: string): TypeScriptCompiler | undefined {
  if (!COMPILER_NAMES.has(basename(command))) return undefined;
  let real: string;
  try {
    real = realpathSync(resolvedPath);
  } catch {
    return undefined;
  }
  for (let dir = dirname(real); dirname(dir) !== dir; dir = dirname(dir)) {
    let pkg: { name?: string; version?: string };
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
    } catch {
      continue;
    }
    if (typeof pkg.version !== 'string') return undefined;
    const major = Number(pkg.version.split('.')[0]);
    if (pkg.name === '@typescript/native-preview') return { version: pkg.version, native: true, packageDir: dir };
    // npm aliases (typescript-6 → typescript@6) keep the real name in package.json.
    if (pkg.name !== 'typescript') return undefined;
    return { version: pkg.version, native: major >= 7, packageDir: dir };
  }
  return undefined;
}

/** Whether the compiler's arguments already set an option, in any of its spellings. */
export function hasCompilerOption(args: string[], ...names: string[]): boolean {
  const wanted = names.map((name) => name.toLowerCase());
  return args.some((arg) => wanted.includes(arg.toLowerCase().split('=')[0]!));
}
