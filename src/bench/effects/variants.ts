import { existsSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { UsageError, errorCode, quote } from '../../shared/errors.js';
import { loadProfiles } from '../../shared/effects/load-profiles.js';
import { compilerAt, compilerFromOverride } from '../../shared/effects/typescript-compiler.js';
import { parseJsonc } from '../../shared/jsonc.js';
import { listWorkspacePackages, readManifest, workspacePatterns } from '../../shared/effects/workspace.js';
import type { CompilerInfo, VariantSpec } from '../types.js';
import { compilerByVersion, isGeneratedConfig, variantConfigName, variantConfigText } from '../variants.js';

/**
 * Every compiler package directly in these directories' node_modules (npm aliases such as node_modules/typescript-6
 * included), each once, by the path it is installed under.
 */
export function installedCompilers(dirs: readonly string[]): Array<{ dir: string; name: string; compiler: CompilerInfo }> {
  const found = new Map<string, { dir: string; name: string; compiler: CompilerInfo }>();
  const visit = (dir: string) => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return;
    }
    const compiler = found.has(real) ? undefined : compilerAt(dir);
    if (!compiler) return;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
    found.set(real, { dir, name: manifest.name, compiler });
  };
  for (const modules of [...new Set(dirs)].map((dir) => join(dir, 'node_modules'))) {
    for (const entry of entriesOf(modules)) {
      if (entry.startsWith('@')) for (const scoped of entriesOf(join(modules, entry))) visit(join(modules, entry, scoped));
      else if (!entry.startsWith('.')) visit(join(modules, entry));
    }
  }
  return [...found.values()].sort((a, b) => a.compiler.version.localeCompare(b.compiler.version, 'en', { numeric: true }));
}

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The workspace root and its packages: where a `compiler:typescript@X.Y.Z` is looked for. */
function workspaceDirs(root: string): string[] {
  const manifest = readManifest(root);
  const patterns = manifest ? workspacePatterns(root, manifest) : undefined;
  return [root, ...(patterns ? listWorkspacePackages(root, patterns).map((pkg) => join(root, pkg.dir)) : [])];
}

/** `compiler:typescript@6.0.3`: the installed package of that name and exact version, its directory; refused with the versions there are. */
function compilerOfVersion(where: string, wanted: { name: string; version: string }, searchDirs: readonly string[], root: string): string {
  const installed = installedCompilers(searchDirs);
  const hit = installed.find((candidate) => candidate.name === wanted.name && candidate.compiler.version === wanted.version);
  if (hit) return hit.dir;
  const listed = installed.map((candidate) => `${candidate.name}@${candidate.compiler.version} (${relative(root, candidate.dir) || candidate.dir})`);
  const [major = '', minor = ''] = wanted.version.split('.');
  const alias = `${wanted.name.replace(/^@[^/]+\//, '')}-${major}.${minor}`;
  throw new UsageError({
    where,
    message: `${wanted.name}@${wanted.version} is not installed in the workspace's node_modules; installed: ${listed.join(', ') || 'no TypeScript compiler'}.`,
    fix: `Install it beside the others under an alias at the workspace root: npm i -D ${alias}@npm:${wanted.name}@${wanted.version}`,
  });
}

/** A tsconfig overlay: it must exist and be JSON with comments holding an object, as tsc reads a tsconfig. */
function checkOverlay(where: string, path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError({
      where,
      message: `tsconfig ${path} cannot be read (${errorCode(error)}).`,
      fix: "Pass a tsconfig file whose options are laid over each package's, e.g. tsconfig:overlays/skip-lib-check.json",
    });
  }
  let value: unknown;
  try {
    value = parseJsonc(text);
  } catch (error) {
    throw new UsageError({
      where,
      message: `tsconfig ${path} is not JSON (${(error as Error).message}).`,
      fix: 'Fix the file: a tsconfig is JSON, with comments and trailing commas allowed.',
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError({ where, message: `tsconfig ${path} is not a JSON object.`, fix: 'Write it as a tsconfig: { "compilerOptions": { … } }' });
  }
}

/**
 * The variants with their files and compilers looked up: the overlay and a compiler path absolute, a
 * `typescript@X.Y.Z` as the directory of that installed package, the profile checked against the profiles.
 * Throws, before anything is written or started, for anything missing.
 */
export function resolveVariants(variants: readonly VariantSpec[], cwd: string, root: string): VariantSpec[] {
  return variants.map((variant) => {
    const where = `--variant ${quote(`${variant.name}=${variant.spec}`)}`;
    const tsconfig = variant.tsconfig === null ? null : resolve(cwd, variant.tsconfig);
    if (tsconfig !== null) checkOverlay(where, tsconfig);
    let compiler: string | null = null;
    if (variant.compiler !== null) {
      const byVersion = compilerByVersion(variant.compiler);
      if (byVersion) {
        compiler = compilerOfVersion(where, byVersion, workspaceDirs(root), root);
      } else {
        compiler = resolve(cwd, variant.compiler);
        try {
          compilerFromOverride(compiler, cwd);
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          throw new UsageError({
            where,
            message: `${quote(variant.compiler)} is not a TypeScript compiler (no package.json of typescript with a version and bin/tsc there).`,
            fix: 'Write compiler:typescript@X.Y.Z (an installed version) or the path of a typescript package or its bin/tsc.',
          });
        }
      }
    }
    if (variant.profile !== null) {
      const profiles = Object.keys(loadProfiles());
      if (!profiles.includes(variant.profile)) {
        throw new UsageError({ where, message: `${quote(variant.profile)} is not a profile; the profiles are ${profiles.join(', ')}.`, fix: 'Write e.g. profile:typecheck' });
      }
    }
    return { ...variant, tsconfig, compiler };
  });
}

/** One generated tsconfig: a package's config with an overlay laid over it. */
export interface VariantConfig {
  variant: string;
  /** The package's tsconfig (absolute). */
  tsconfig: string;
  overlay: string;
  /** The projects the package's tsconfig references (absolute). */
  references: readonly string[];
}

/** Where the generated tsconfig of `config` goes: beside the package's own. */
export function variantConfigPath(config: Pick<VariantConfig, 'variant' | 'tsconfig'>): string {
  return join(dirname(config.tsconfig), variantConfigName(basename(config.tsconfig), config.variant));
}

function relativeReference(from: string, to: string): string {
  const path = relative(from, to).replaceAll('\\', '/');
  return path.startsWith('../') ? path : `./${path}`;
}

/**
 * Writes each generated tsconfig beside its package's and returns the files written; they are removed with
 * removeVariantConfigs. A file already there that a bench did not write is the user's: refused, before any is written.
 */
export function writeVariantConfigs(configs: readonly VariantConfig[]): string[] {
  const planned = configs.map((config) => {
    const file = variantConfigPath(config);
    const dir = dirname(file);
    const text = variantConfigText(
      config.variant,
      relativeReference(dir, config.tsconfig),
      relativeReference(dir, config.overlay),
      config.references.map((reference) => relativeReference(dir, reference)),
    );
    return { file, text };
  });
  for (const { file } of planned) {
    if (existsSync(file) && !isGeneratedConfig(readFileSync(file, 'utf8'))) {
      throw new UsageError({
        where: file,
        message: 'is in the way: a variant writes its generated tsconfig there, and this one was not written by memtune.',
        fix: 'Rename or move that file, or give the variant another name.',
      });
    }
  }
  const written: string[] = [];
  try {
    for (const { file, text } of planned) {
      writeFileSync(file, text);
      written.push(file);
    }
  } catch (error) {
    removeVariantConfigs(written);
    throw new UsageError({
      where: planned[written.length]!.file,
      message: `cannot be written (${errorCode(error)}).`,
      fix: "Make the package directory writable: a variant's tsconfig is written beside the package's own.",
    });
  }
  return written;
}

export function removeVariantConfigs(files: readonly string[]): void {
  for (const file of files) rmSync(file, { force: true });
}
