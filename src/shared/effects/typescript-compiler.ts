import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { CompilerInfo } from '../compiler-info.js';
import { UsageError, quote } from '../errors.js';

/**
 * The one detector of "which TypeScript compiler is this" for `memtune run`, `bench` and `doctor`: the
 * compiler a package uses is the package's own resolution of it (as Node resolves it from the package's
 * package.json), never the realpath of a `node_modules/.bin` entry, which under pnpm is a shell script.
 * It reads files and prints nothing.
 */

/** What a manifest says, read leniently: a broken package.json is "no compiler here", never an error. */
interface Manifest {
  name?: unknown;
  version?: unknown;
  bin?: unknown;
  dependencies?: unknown;
  devDependencies?: unknown;
  optionalDependencies?: unknown;
}

function readJson(path: string): Manifest | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Manifest) : undefined;
  } catch {
    return undefined;
  }
}

/** Packages that are a TypeScript compiler, by their real name (an npm alias keeps that name in package.json). */
export function isCompilerPackage(name: string): boolean {
  return name === 'typescript' || name === '@typescript/native-preview' || /^@typescript\/typescript\d+$/.test(name);
}

/** The Go compiler: the native preview, or `typescript` from major 7 on (`@typescript/typescript6` is TS 6). */
export function isNativeCompiler(name: string, version: string): boolean {
  if (name === '@typescript/native-preview') return true;
  return name === 'typescript' && Number(version.split('.')[0]) >= 7;
}

/** The bins a manifest declares, name → path relative to the package (`"bin": "x.js"` is named after the package). */
function binsOf(manifest: Manifest): Map<string, string> {
  const bins = new Map<string, string>();
  if (typeof manifest.bin === 'string' && typeof manifest.name === 'string') bins.set(manifest.name.replace(/^@[^/]+\//, ''), manifest.bin);
  else if (typeof manifest.bin === 'object' && manifest.bin !== null) {
    for (const [name, path] of Object.entries(manifest.bin)) if (typeof path === 'string') bins.set(name, path);
  }
  return bins;
}

/**
 * The compiler in a package directory, run through its bin `bin` (default: `tsc` when it has one, else its
 * first bin). A package without a `bin` field (a hand-made stand-in) still counts when `bin/tsc` exists.
 * `tsserver` is the language server, not a compiler.
 */
export function compilerAt(packageDir: string, bin?: string): CompilerInfo | undefined {
  if (bin === 'tsserver') return undefined;
  const manifest = readJson(join(packageDir, 'package.json'));
  if (!manifest || typeof manifest.name !== 'string' || typeof manifest.version !== 'string' || !isCompilerPackage(manifest.name)) return undefined;
  const bins = binsOf(manifest);
  bins.delete('tsserver');
  const wanted = bin ?? (bins.has('tsc') || bins.size === 0 ? 'tsc' : [...bins.keys()][0]!);
  const relative = bins.get(wanted) ?? (bins.size === 0 && wanted === 'tsc' ? join('bin', 'tsc') : undefined);
  if (relative === undefined) return undefined;
  const path = resolve(packageDir, relative);
  if (!existsSync(path)) return undefined;
  return { name: 'typescript', version: manifest.version, native: isNativeCompiler(manifest.name, manifest.version), path };
}

/** The directory of package `name` as Node resolves it from `fromDir`'s package.json, or undefined. */
export function resolvePackageDir(fromDir: string, name: string): string | undefined {
  const require = createRequire(join(fromDir, 'package.json'));
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined;
  }
  // Its `exports` hide package.json: the same lookup, by hand over the directories Node would search.
  for (const dir of require.resolve.paths(name) ?? []) {
    if (existsSync(join(dir, name, 'package.json'))) return realpathSync(join(dir, name));
  }
  return undefined;
}

/** The compiler that dependency `name` of the package in `fromDir` is, as that package resolves it. */
export function compilerOfDependency(fromDir: string, name: string, bin?: string): CompilerInfo | undefined {
  const dir = resolvePackageDir(fromDir, name);
  return dir === undefined ? undefined : compilerAt(dir, bin);
}

/** The `typescript` that the package in `fromDir` resolves: the compiler it type-checks with. */
export function resolveCompiler(fromDir: string): CompilerInfo | undefined {
  return compilerOfDependency(fromDir, 'typescript');
}

/** `--compiler` accepts a TypeScript compiler package directory or one of its bins (`bin/tsc`). */
export function compilerFromOverride(path: string, cwd: string): CompilerInfo {
  const absolute = resolve(cwd, path);
  const isDir = existsSync(absolute) && statSync(absolute).isDirectory();
  const packageDir = isDir ? absolute : basename(dirname(absolute)) === 'bin' ? dirname(dirname(absolute)) : dirname(absolute);
  const compiler = isDir ? compilerAt(packageDir) : (compilerAt(packageDir, binName(absolute)) ?? compilerAt(packageDir));
  if (!compiler) {
    throw new UsageError({
      where: `--compiler ${quote(path)}`,
      message: `not a TypeScript compiler (no package.json of typescript with a version and bin/tsc at ${packageDir}).`,
      fix: 'Pass a typescript package directory or its bin/tsc, e.g. --compiler node_modules/typescript',
    });
  }
  return compiler;
}

/** A dependency of a manifest that is a TypeScript compiler, by name or through an npm alias. */
export interface CompilerDependency {
  /** The name it is installed and resolved under: `typescript`, `typescript-6`, `@typescript/typescript6`. */
  name: string;
  /** The version range in the manifest. */
  spec: string;
  /** The real package: `typescript` for the alias `typescript-6: npm:typescript@6.0.3`. */
  target: string;
}

/** The compiler dependencies of the package in `dir`: dependencies, devDependencies, optionalDependencies. */
export function compilerDependencies(dir: string): CompilerDependency[] {
  const manifest = readJson(join(dir, 'package.json'));
  if (!manifest) return [];
  const found = new Map<string, CompilerDependency>();
  for (const field of [manifest.dependencies, manifest.devDependencies, manifest.optionalDependencies]) {
    if (typeof field !== 'object' || field === null) continue;
    for (const [name, spec] of Object.entries(field)) {
      if (typeof spec !== 'string' || found.has(name)) continue;
      const target = /^npm:((?:@[^/@]+\/)?[^@]+)@/.exec(spec)?.[1] ?? name;
      if (isCompilerPackage(target)) found.set(name, { name, spec, target });
    }
  }
  return [...found.values()];
}

/** `tsc` for `.../tsc`, `tsc.cmd`, `tsc.ps1`, `tsc.exe`. */
function binName(command: string): string {
  return basename(command).replace(/\.(cmd|ps1|exe)$/i, '');
}

/** Whether a path is an entry of a `node_modules/.bin` directory, i.e. a bin a package manager linked or shimmed. */
function inBinDir(path: string): boolean {
  const dir = dirname(path);
  return basename(dir) === '.bin' && basename(dirname(dir)) === 'node_modules';
}

/**
 * What TypeScript compiler a command of `memtune run` is. `command` is as typed, `resolvedPath` where it was
 * found on PATH (the packages' `node_modules/.bin` first). A bin that a package manager put into
 * `node_modules/.bin` is looked up as the package that provides it: the compiler dependencies of the package
 * and then of the workspace root whose `bin` has that name, each resolved from the package directory. Only
 * when that finds nothing (a bin outside node_modules, a global install, a hoisted dependency nobody here
 * declares) is the real path of the command followed up to its package.json. Undefined for anything that is
 * not a TypeScript compiler.
 */
export function detectCommandCompiler(command: string, resolvedPath: string, dirs: { packageDir: string; repoRoot: string }): CompilerInfo | undefined {
  const bin = binName(command);
  if (inBinDir(resolvedPath)) {
    const found = compilerProvidingBin(bin, resolvedPath, dirs);
    if (found) return found;
  }
  return compilerByRealPath(bin, resolvedPath);
}

function compilerProvidingBin(bin: string, resolvedPath: string, dirs: { packageDir: string; repoRoot: string }): CompilerInfo | undefined {
  const owners = dirs.repoRoot === dirs.packageDir ? [dirs.packageDir] : [dirs.packageDir, dirs.repoRoot];
  let real: string | undefined;
  try {
    real = realpathSync(resolvedPath);
  } catch {
    real = undefined;
  }
  for (const owner of owners) {
    const candidates: Array<{ dir: string; compiler: CompilerInfo }> = [];
    for (const dependency of compilerDependencies(owner)) {
      const dir = resolvePackageDir(dirs.packageDir, dependency.name);
      const compiler = dir === undefined ? undefined : compilerAt(dir, bin);
      if (dir !== undefined && compiler) candidates.push({ dir, compiler });
    }
    if (candidates.length === 0) continue;
    // Two dependencies with the same bin (typescript and an alias typescript-6): a symlinked bin says which won.
    const linked = real === undefined ? undefined : candidates.find((candidate) => real.startsWith(candidate.dir + sep));
    return (linked ?? candidates[0]!).compiler;
  }
  return undefined;
}

/** The package.json above the real path of the command, when it is a compiler package that has this bin. */
function compilerByRealPath(bin: string, resolvedPath: string): CompilerInfo | undefined {
  let real: string;
  try {
    real = realpathSync(resolvedPath);
  } catch {
    return undefined;
  }
  for (let dir = dirname(real); dirname(dir) !== dir; dir = dirname(dir)) {
    // The nearest package.json with a name is the package; `{"type": "module"}` markers inside one are not.
    if (typeof readJson(join(dir, 'package.json'))?.name !== 'string') continue;
    return compilerAt(dir, bin);
  }
  return undefined;
}

/** Whether the compiler's arguments already set an option, in any of its spellings. */
export function hasCompilerOption(args: string[], ...names: string[]): boolean {
  const wanted = names.map((name) => name.toLowerCase());
  return args.some((arg) => wanted.includes(arg.toLowerCase().split('=')[0]!));
}
