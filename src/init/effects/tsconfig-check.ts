import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { CompilerInfo } from '../../shared/compiler-info.js';
import { parseJsonc } from '../../shared/jsonc.js';
import { type Options, type PresetFile, presetOptionsOf } from '../tsconfig-preset.js';

/** One side of the comparison: what the package's compiler says about one tsconfig. */
export interface CheckRun {
  /** Exit code of the check, or the signal that ended it. */
  exit: number | string;
  /** Its diagnostics, normalised (see sameResultWithPreset) and sorted. */
  diagnostics: string[];
  /** `compilerOptions` as `tsc --showConfig` shows them (empty when it could not read the config). */
  options: Options;
  /** The root files the project checks (`--showConfig`'s `files`). */
  files: string[];
}

export type PresetCheck = { skipped: string } | { same: boolean; before: CheckRun; after: CheckRun; difference: string[] };

/**
 * Options that shape the files a compile writes. A project that emits is not "the same" when one of them
 * changes, even if the check says nothing: its output (module format, target, layout, maps, declarations)
 * would differ.
 */
const EMIT_OPTIONS = [
  'noEmit',
  'emitDeclarationOnly',
  'target',
  'module',
  'moduleDetection',
  'outDir',
  'outFile',
  'rootDir',
  'declaration',
  'declarationDir',
  'declarationMap',
  'sourceMap',
  'inlineSourceMap',
  'inlineSources',
  'sourceRoot',
  'mapRoot',
  'removeComments',
  'importHelpers',
  'noEmitHelpers',
  'downlevelIteration',
  'esModuleInterop',
  'verbatimModuleSyntax',
  'preserveConstEnums',
  'useDefineForClassFields',
  'experimentalDecorators',
  'emitDecoratorMetadata',
  'jsx',
  'jsxFactory',
  'jsxFragmentFactory',
  'jsxImportSource',
  'newLine',
  'emitBOM',
  'stripInternal',
  'rewriteRelativeImportExtensions',
  'composite',
  'incremental',
  'tsBuildInfoFile',
  'allowJs',
];

/**
 * Whether the package's own compiler gives the same result with `newText` as its tsconfig as with the file it
 * has. "The same result" means all of:
 * - the same exit status and the same diagnostics: the minimum, since an error the preset's stricter options add
 *   (or one it removes) is a change the user must see. Diagnostics are compared as text after normalising what
 *   must differ: the temporary file's name becomes the tsconfig's, the package directory becomes `.`, and
 *   positions inside the tsconfig itself are dropped (adding `extends` moves its lines);
 * - the same root files: a preset's `include` that checks fewer files would pass by checking less;
 * - for a project that emits (either side without `noEmit`), the same effective value of every option that
 *   shapes its output (EMIT_OPTIONS): a clean check that now writes ES2023 instead of ES5, or `.d.ts` files, or
 *   into another directory, is not the same build.
 * The configs are compared first (`--showConfig`); only when they match are both checked. Both sides run `tsc -p <config> --noEmit --pretty false --tsBuildInfoFile <fresh temp file>`: `--noEmit` so no
 * output is written, and the temporary build info because a composite or incremental project writes its
 * `.tsbuildinfo` even under `--noEmit` (TS 5.9, 6.0 and 7.0; `--incremental false` is refused for composite
 * projects with TS6379). `--noEmit` still reports declaration errors when declarations are on.
 * `newText` goes into a sibling file (`tsconfig.memtune-init.json`) so its relative paths resolve as the real
 * one's; it is removed afterwards, on error, and on SIGINT/SIGTERM/SIGHUP. A tsconfig that is not valid JSONC is
 * skipped, named with the parser's message; so is one whose references are not built (TS6305 on both sides
 * would compare nothing: build them first, e.g. bench's buildProjects).
 */
export async function sameResultWithPreset(
  pkgDir: string,
  tsconfigPath: string,
  newText: string,
  compiler: CompilerInfo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PresetCheck> {
  try {
    parseJsonc(readFileSync(tsconfigPath, 'utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return { skipped: `${tsconfigPath} is not valid JSON with comments (${error.message}): skipped; fix it and run memtune init again` };
  }
  const temp = writeSibling(tsconfigPath, newText);
  const removeTemp = removeOnSignal(temp);
  try {
    // The configs first: when the root files or the output options differ, the checks cannot make it the same, and
    // two full checks (seconds each with a JS compiler) are spared.
    const [shownBefore, shownAfter] = await Promise.all([shownConfig(compiler, tsconfigPath, env), shownConfig(compiler, temp, env)]);
    if (!('unreadable' in shownBefore) && !('unreadable' in shownAfter)) {
      const unchecked = (shown: ShownConfig): CheckRun => ({ exit: 'not run', diagnostics: [], options: shown.options, files: shown.files });
      const difference = differenceOf(unchecked(shownBefore), unchecked(shownAfter), undefined);
      if (difference.length > 0) return { same: false, before: unchecked(shownBefore), after: unchecked(shownAfter), difference };
    }
    const [before, after] = await Promise.all([inspect(compiler, pkgDir, tsconfigPath, env), inspect(compiler, pkgDir, temp, env)]);
    if (before.unreadable !== undefined) return { skipped: `TypeScript ${compiler.version} cannot read ${tsconfigPath}: skipped\n${before.unreadable}` };
    const normalise = (run: CheckRun, config: string): CheckRun => ({ ...run, diagnostics: normaliseDiagnostics(run.diagnostics, pkgDir, config, tsconfigPath) });
    const was = normalise(before.run, tsconfigPath);
    const now = normalise(after.run, temp);
    if (was.diagnostics.some((line) => /\berror TS6305\b/.test(line))) {
      return { skipped: `${tsconfigPath}: its references are not built (TS6305), so a check compares nothing: build them (tsc -b) first` };
    }
    const difference = differenceOf(was, now, after.unreadable);
    return { same: difference.length === 0, before: was, after: now, difference };
  } finally {
    removeTemp();
  }
}

/** The preset files memtune ships (presets/tsconfig/), merged as an `extends` array of `specifiers` would merge them. */
export function readPresetOptions(specifiers: readonly string[]): Options {
  const dir = new URL('../../../presets/tsconfig/', import.meta.url);
  return presetOptionsOf(specifiers, (name) => parseJsonc(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as PresetFile);
}

/** `tsconfig.memtune-init.json` beside the tsconfig, never over a file that is there: then a name with a suffix. */
function writeSibling(tsconfigPath: string, text: string): string {
  const stem = join(dirname(tsconfigPath), basename(tsconfigPath).replace(/\.json$/, ''));
  for (let attempt = 0; ; attempt++) {
    const path = `${stem}.memtune-init${attempt === 0 ? '' : `-${process.pid}-${attempt}`}.json`;
    try {
      writeFileSync(path, text, { flag: 'wx' });
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 20) throw error;
    }
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Removes `path` if the process is interrupted (then re-raises the signal); the returned function removes it now. */
function removeOnSignal(path: string): () => void {
  const remove = (): void => rmSync(path, { force: true });
  const handlers = SIGNALS.map((signal) => {
    const handler = (): void => {
      detach();
      remove();
      process.kill(process.pid, signal);
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  process.once('exit', remove);
  function detach(): void {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    process.off('exit', remove);
  }
  return () => {
    detach();
    remove();
  };
}

interface Inspection {
  run: CheckRun;
  /** The compiler's messages when `--showConfig` failed. */
  unreadable?: string;
}

/** A tsconfig as its own compiler resolves it (`tsc --showConfig`), with what choosePreset needs from it. */
export interface ShownConfig {
  options: Options;
  /** Root files, as the compiler lists them (`./src/index.ts`). */
  files: string[];
  include: string[];
  /** The referenced projects' tsconfig files, absolute (a directory reference names its tsconfig.json). */
  references: string[];
}

/**
 * `tsc --showConfig -p <tsconfig>` with the package's compiler; `{ unreadable }` holds its messages when it cannot
 * read it. TS 7.0.2 does not say: it shows `{"compilerOptions": {}}` and exits 0 for a missing base or a bad
 * option value, which only its check (TS5083, TS6046) reports.
 */
export async function shownConfig(compiler: CompilerInfo, tsconfig: string, env: NodeJS.ProcessEnv = process.env): Promise<ShownConfig | { unreadable: string }> {
  const shown = await runTsc(compiler, ['--showConfig', '-p', tsconfig], dirname(tsconfig), env);
  let parsed: { compilerOptions?: Options; files?: string[]; include?: string[]; references?: Array<{ path: string }> } | undefined;
  try {
    parsed = shown.exit === 0 ? JSON.parse(shown.stdout) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed) return { unreadable: `${shown.stdout}${shown.stderr}`.trim() };
  return {
    options: parsed.compilerOptions ?? {},
    files: parsed.files ?? [],
    include: parsed.include ?? [],
    references: (parsed.references ?? []).map((ref) => referencedConfig(resolve(dirname(tsconfig), ref.path))),
  };
}

function referencedConfig(path: string): string {
  return path.endsWith('.json') ? path : join(path, 'tsconfig.json');
}

async function inspect(compiler: CompilerInfo, cwd: string, config: string, env: NodeJS.ProcessEnv): Promise<Inspection> {
  const buildInfo = mkdtempSync(join(tmpdir(), 'memtune-init-'));
  try {
    const [shown, check] = await Promise.all([
      shownConfig(compiler, config, env),
      runTsc(compiler, ['-p', config, '--noEmit', '--pretty', 'false', '--tsBuildInfoFile', join(buildInfo, 'check.tsbuildinfo')], cwd, env),
    ]);
    const diagnostics = diagnosticsOf(`${check.stdout}\n${check.stderr}`);
    if ('unreadable' in shown) return { run: { exit: check.exit, diagnostics, options: {}, files: [] }, unreadable: shown.unreadable };
    return { run: { exit: check.exit, diagnostics, options: shown.options, files: shown.files } };
  } finally {
    rmSync(buildInfo, { recursive: true, force: true });
  }
}

async function runTsc(compiler: CompilerInfo, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ exit: number | string; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [compiler.path, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  return { exit: code ?? signal ?? 'unknown', stdout, stderr };
}

/** Diagnostics as blocks: a line at the margin starts one, indented lines continue it (elaborations). */
function diagnosticsOf(output: string): string[] {
  const blocks: string[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === '' || /^Found \d+ errors?/.test(line)) continue;
    if (/^\s/.test(line) && blocks.length > 0) blocks[blocks.length - 1] += `\n${line}`;
    else blocks.push(line);
  }
  return blocks;
}

function normaliseDiagnostics(diagnostics: string[], pkgDir: string, config: string, tsconfigPath: string): string[] {
  const name = basename(config);
  const original = basename(tsconfigPath);
  const shownAs = relative(pkgDir, tsconfigPath);
  return diagnostics
    .map((block) => {
      const text = block.split(pkgDir).join('.').split(name).join(original);
      return text.startsWith(`${shownAs}(`) ? shownAs + text.slice(text.indexOf(')') + 1) : text;
    })
    .sort();
}

function differenceOf(before: CheckRun, after: CheckRun, unreadable: string | undefined): string[] {
  const difference: string[] = [];
  if (unreadable !== undefined) difference.push(`with the preset, the compiler cannot read the tsconfig:\n${unreadable}`);
  if (before.exit !== after.exit) difference.push(`exit status ${before.exit} → ${after.exit}`);
  for (const line of after.diagnostics.filter((line) => !before.diagnostics.includes(line))) difference.push(`new: ${line}`);
  for (const line of before.diagnostics.filter((line) => !after.diagnostics.includes(line))) difference.push(`gone: ${line}`);
  const added = after.files.filter((file) => !before.files.includes(file));
  const dropped = before.files.filter((file) => !after.files.includes(file));
  if (unreadable === undefined && (added.length > 0 || dropped.length > 0)) {
    difference.push(`checks other files: ${[...added.map((file) => `+${file}`), ...dropped.map((file) => `-${file}`)].join(' ')}`);
  }
  const emits = before.options.noEmit !== true || after.options.noEmit !== true;
  if (emits && unreadable === undefined) {
    const changed: string[] = [];
    for (const option of EMIT_OPTIONS) {
      const was = JSON.stringify(before.options[option]);
      const now = JSON.stringify(after.options[option]);
      if (was !== now) changed.push(`${option} ${was ?? '(not set)'} → ${now ?? '(not set)'}`);
    }
    if (changed.length > 0) difference.push(`emits differently: ${changed.join(', ')}`);
  }
  return difference;
}
