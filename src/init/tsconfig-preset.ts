import { applyEdits, findNodeAtLocation, modify, parseTree } from 'jsonc-parser';
import { parseJsonc } from '../shared/jsonc.js';
import { editOptions } from './json-edit.js';

/**
 * Which memtune tsconfig preset fits a package (issue 16, point 3), what adopting it would change, and the
 * tsconfig text with the `extends` added. Pure: the facts come from effects (the package's manifest, its
 * compiler's `--showConfig`, the other packages' references), and whether the compiler still gives the same
 * result is init/effects/tsconfig-check.ts's question.
 */

export type PresetName = 'library' | 'check' | 'node' | 'solution';

export const PRESET_PREFIX = 'memtune/tsconfig/';

/** What a tsconfig `extends` names to adopt a preset: the package export of memtune. */
export function presetSpecifier(name: PresetName | 'base'): string {
  return `${PRESET_PREFIX}${name}.json`;
}

export interface PresetFacts {
  /** The tsconfig's own `extends`, as written (a string becomes one entry). */
  extends: readonly string[];
  /** The config compiles nothing itself and lists references (`files: []` or none, no `include`): a solution. */
  onlyReferences: boolean;
  /** `composite` as its compiler shows it. */
  composite: boolean;
  /** `noEmit` as its compiler shows it. */
  noEmit: boolean;
  /** The other tsconfig files whose `references` name this one (a solution root counts). */
  referencedBy: readonly string[];
  /** `@types/node` is among the package's dependencies or devDependencies. */
  nodeTypes: boolean;
}

/** `extends` lists what to add, in order; `preset` is the main one (`library` for library + node). */
export type PresetChoice = { preset: PresetName; extends: string[]; why: string } | { preset: null; why: string };

/**
 * The preset for a package. `node` combines with `library` and `check` rather than competing with them: all
 * three extend base.json, and node.json only adds `types: ["node"]`. It goes last in the `extends` array,
 * because every preset re-applies base.json's `types: []` and the later entry wins: `[library, node]` gives
 * library's options with Node's types, `[node, library]` would lose them. A solution compiles nothing, so Node's
 * types mean nothing to it.
 */
export function choosePreset(facts: PresetFacts): PresetChoice {
  const adopted = facts.extends.find((entry) => entry.startsWith(PRESET_PREFIX));
  if (adopted !== undefined) return { preset: null, why: `already extends ${adopted}` };
  if (facts.onlyReferences) return { preset: 'solution', extends: [presetSpecifier('solution')], why: 'compiles nothing itself and only lists references' };
  const main = mainPreset(facts);
  if (main === undefined) {
    return {
      preset: null,
      why: 'emits output, is neither composite nor referenced, and has no @types/node: library, check and node do not fit (memtune/tsconfig/base.json is their common base)',
    };
  }
  if (main.preset === 'node' || !facts.nodeTypes) return { preset: main.preset, extends: [presetSpecifier(main.preset)], why: main.why };
  return {
    preset: main.preset,
    extends: [presetSpecifier(main.preset), presetSpecifier('node')],
    why: `${main.why}; @types/node is among its dependencies (node.json goes last: its types: ["node"] must win over base.json's types: [])`,
  };
}

function mainPreset(facts: PresetFacts): { preset: PresetName; why: string } | undefined {
  const referenced = facts.referencedBy.length > 0 ? `referenced by ${facts.referencedBy.join(', ')}` : undefined;
  if (facts.composite && referenced) return { preset: 'library', why: `composite and ${referenced}` };
  if (referenced) return { preset: 'library', why: `${referenced} but not composite, which tsc -b needs and library sets` };
  if (facts.composite) return { preset: 'library', why: 'composite (built with tsc -b)' };
  if (facts.noEmit) return { preset: 'check', why: 'emits nothing (noEmit)' };
  if (facts.nodeTypes) return { preset: 'node', why: '@types/node is among its dependencies' };
  return undefined;
}

export type Options = Readonly<Record<string, unknown>>;

/** A preset file as memtune ships it: `extends` is relative to it (`./base.json`). */
export interface PresetFile {
  extends?: string;
  compilerOptions?: Options;
}

/** The compiler options a list of presets sets together, the later winning (as `extends` arrays merge). */
export function presetOptionsOf(specifiers: readonly string[], read: (name: string) => PresetFile): Options {
  const merged: Record<string, unknown> = {};
  const apply = (name: string): void => {
    const file = read(name);
    if (file.extends !== undefined) apply(file.extends.replace(/^\.\//, '').replace(/\.json$/, ''));
    Object.assign(merged, file.compilerOptions);
  };
  for (const specifier of specifiers) apply(specifier.slice(PRESET_PREFIX.length).replace(/\.json$/, ''));
  return merged;
}

/**
 * Defaults of the options the presets set, where they are certain for a compiler major: an option the package
 * does not set and `--showConfig` does not show has this value. Others (target, module, lib, ...) changed
 * between majors or depend on other options: their "before" stays unknown (undefined).
 */
export function knownDefaults(compilerVersion: string): Options {
  const major = Number(compilerVersion.split('.')[0]);
  return {
    noUncheckedIndexedAccess: false,
    noImplicitOverride: false,
    noFallthroughCasesInSwitch: false,
    verbatimModuleSyntax: false,
    isolatedModules: false,
    skipLibCheck: false,
    sourceMap: false,
    composite: false,
    declaration: false,
    declarationMap: false,
    incremental: false,
    noEmit: false,
    forceConsistentCasingInFileNames: true,
    moduleDetection: 'auto',
    // TS 6 and 7 turned strict on and stopped loading every @types package (NOTES.md).
    strict: major >= 6,
    ...(major >= 6 ? { types: [] } : {}),
  };
}

export interface OptionChange {
  option: string;
  /** The effective value now; undefined when the compiler's default applies and is not known here. */
  before: unknown;
  after: unknown;
}

const PATH_OPTIONS = new Set(['rootDir', 'outDir', 'declarationDir', 'tsBuildInfoFile', 'baseUrl', 'rootDirs', 'typeRoots']);

/**
 * The options a preset would change: those it sets, the package does not set itself (its own file, or its own
 * base, which keeps precedence after the preset), and whose effective value (`shown`, else `defaults`) differs.
 * Paths compare as `--showConfig` writes them (`${configDir}/dist` and `dist` are `./dist`), names case-blind.
 */
export function presetChanges(preset: Options, own: Options, shown: Options, defaults: Options = {}): OptionChange[] {
  const changes: OptionChange[] = [];
  for (const [option, after] of Object.entries(preset)) {
    if (option in own) continue;
    const before = option in shown ? shown[option] : defaults[option];
    if (before !== undefined && comparable(option, before) === comparable(option, after)) continue;
    changes.push({ option, before, after });
  }
  return changes;
}

function comparable(option: string, value: unknown): string {
  const one = (item: unknown): unknown => {
    if (typeof item !== 'string') return item;
    if (!PATH_OPTIONS.has(option)) return item.toLowerCase();
    const path = item
      .replace(/^\$\{configDir\}\/?/, '')
      .replace(/^\.\/?/, '')
      .replace(/\/$/, '');
    return `./${path}`;
  };
  return JSON.stringify(Array.isArray(value) ? value.map(one) : one(value));
}

export type ExtendsEdit = { text: string } | { refused: string };

/**
 * The tsconfig text with `specifiers` added to `extends`, comments and formatting kept. A tsconfig that already
 * extends something keeps it last (`[preset, "./own-base.json"]`): the package's own base keeps precedence over
 * the preset. The presets resolve paths with `${configDir}` (TypeScript 5.5) and two of them need an `extends`
 * array (5.0): an older compiler is refused with the reason. Throws a SyntaxError on text that is not JSONC.
 */
export function withExtends(text: string, specifiers: readonly string[], compilerVersion: string): ExtendsEdit {
  const parsed = parseJsonc(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError('a tsconfig must be an object');
  const existing = extendsOf(parsed);
  const list = [...specifiers, ...existing.filter((entry) => !specifiers.includes(entry))];
  const [major = 0, minor = 0] = compilerVersion.split('.').map(Number);
  if (major < 5 || (major === 5 && minor < 5)) {
    const arrays = list.length > 1 ? ', and this tsconfig would need an extends array (TypeScript 5.0+)' : '';
    return { refused: `TypeScript ${compilerVersion}: the memtune presets resolve their paths with \${configDir} (TypeScript 5.5+)${arrays}` };
  }
  const value: string | string[] = list.length === 1 ? list[0]! : list;
  const node = findNodeAtLocation(parseTree(text)!, ['extends']);
  if (node)
    return {
      text: replaceExtends(
        text,
        node.offset,
        node.length,
        node.type === 'array' ? node.children?.[0]?.offset : undefined,
        specifiers.filter((entry) => !existing.includes(entry)),
        value,
      ),
    };
  return { text: insertExtends(text, value) };
}

function extendsOf(config: object): string[] {
  const value = (config as { extends?: unknown }).extends;
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

/** An array written over several lines gets the presets as lines of their own before its first entry; anything else is rewritten on one line. */
function replaceExtends(text: string, offset: number, length: number, firstEntry: number | undefined, added: readonly string[], value: string | string[]): string {
  const old = text.slice(offset, offset + length);
  if (firstEntry !== undefined && old.includes('\n')) {
    const lineStart = text.lastIndexOf('\n', firstEntry) + 1;
    const indent = text.slice(lineStart, firstEntry);
    const lines = added.map((specifier) => `${JSON.stringify(specifier)},${eolOf(text)}${indent}`).join('');
    return text.slice(0, firstEntry) + lines + text.slice(firstEntry);
  }
  return text.slice(0, offset) + oneLine(value) + text.slice(offset + length);
}

function insertExtends(text: string, value: string | string[]): string {
  // jsonc-parser formats an inserted array over several lines; a placeholder string, replaced, keeps it on one.
  const placeholder = 'memtune-init:extends';
  const edits = modify(text, ['extends'], Array.isArray(value) ? placeholder : value, {
    ...editOptions(text),
    // After `$schema`, which editors expect first; else first, where readers look for it.
    getInsertionIndex: (properties) => (properties[0] === '$schema' ? 1 : 0),
  });
  const edited = applyEdits(text, edits);
  return Array.isArray(value) ? edited.replace(JSON.stringify(placeholder), oneLine(value)) : edited;
}

function oneLine(value: string | string[]): string {
  return Array.isArray(value) ? `[${value.map((entry) => JSON.stringify(entry)).join(', ')}]` : JSON.stringify(value);
}

function eolOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** The file's own indentation: the first indented line's leading whitespace is one level. */
