import { type Problem, UsageError, quote } from '../shared/errors.js';
import { parseByteSize } from '../shared/size.js';

/** Where a value came from; `label` is what `--explain` and error messages show. */
export interface Origin {
  kind: 'preset' | 'file' | 'env' | 'flag';
  label: string;
}

export interface FlagSetting {
  /** As written, e.g. `--max_old_space_size` or `-r`. */
  name: string;
  value?: string;
  origin: Origin;
}

export interface EnvSetting {
  key: string;
  value: string;
  origin: Origin;
}

export interface NodeOptionsFile {
  path: string;
  /** `section` is undefined for lines before any `[profile]` header: they apply to every profile. */
  flags: Array<FlagSetting & { section: string | undefined }>;
  env: Array<EnvSetting & { section: string | undefined }>;
  sections: Array<{ name: string; line: number }>;
}

/** Flags naming a directory node writes reports or snapshots into: memtune run creates them, memtune docker too. */
export const DIRECTORY_FLAGS: ReadonlySet<string> = new Set(['--diagnostic-dir', '--report-directory', '--report-dir', '--heapsnapshot-signal-dir']);

/** Variables a `.node-options` line may set: the native compiler's Go runtime settings. */
const FILE_ENV_KEYS = ['GOMEMLIMIT', 'GOGC'];

const SHORT_FLAGS: Record<string, string> = { '-r': '--require', '-C': '--conditions' };

/** Flags node lets appear several times, each adding to the others; the rest resolve last-wins. */
const REPEATABLE = new Set([
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '--conditions',
  '--disable-warning',
  '--allow-fs-read',
  '--allow-fs-write',
  '--watch-path',
]);

/** The key two spellings of one flag share: V8 reads `_` and `-` alike, `-r` is `--require`. */
export function flagKey(name: string): string {
  const long = SHORT_FLAGS[name] ?? name;
  return long.startsWith('--') ? `--${long.slice(2).replaceAll('_', '-')}` : long;
}

export function isRepeatable(name: string): boolean {
  return REPEATABLE.has(flagKey(name));
}

/** Flags whose value is a heap size in MB: memtune also accepts `NN%` of the memory limit for the old space. */
export const SIZE_FLAGS: Record<string, { percent: boolean }> = {
  '--max-old-space-size': { percent: true },
  '--max-semi-space-size': { percent: false },
};

export type HeapSize = { mib: number } | { percent: number };

/** Reads `2048` (MB) or `60%`; undefined when the text is neither (the caller names the input). */
export function parseHeapSize(text: string, allowPercent: boolean): HeapSize | undefined {
  const percent = /^(\d{1,3})%$/.exec(text);
  if (percent) {
    const value = Number(percent[1]);
    return allowPercent && value >= 1 && value <= 100 ? { percent: value } : undefined;
  }
  if (!/^\d+$/.test(text)) return undefined;
  const mib = Number(text);
  return mib >= 1 && Number.isSafeInteger(mib) ? { mib } : undefined;
}

export function heapSizeProblem(name: string, value: string | undefined): string | undefined {
  const rule = SIZE_FLAGS[flagKey(name)];
  if (!rule) return undefined;
  const shown = value === undefined ? name : `${name}=${value}`;
  const accepted = rule.percent ? 'a whole number of MB (4096) or a share of the memory limit from 1% to 100% (60%)' : 'a whole number of MB (16)';
  if (value === undefined) return `${quote(shown)} needs a size: write ${accepted}.`;
  if (parseHeapSize(value, rule.percent) !== undefined) return undefined;
  const percent = /^(\d+)%$/.exec(value);
  if (percent && rule.percent) return `${quote(shown)}: ${percent[1]}% is more than the memory limit; write ${accepted}.`;
  return `${quote(shown)} is not a size memtune accepts; write ${accepted}.`;
}

function goEnvProblem(key: string, value: string): string | undefined {
  if (key === 'GOGC') {
    return value === 'off' || (/^\d+$/.test(value) && Number(value) >= 1) ? undefined : `GOGC=${quote(value)} must be a whole number of percent (100 is Go's default) or off.`;
  }
  const percent = /^(\d{1,3})%$/.exec(value);
  if (percent) return Number(percent[1]) >= 1 && Number(percent[1]) <= 100 ? undefined : `GOMEMLIMIT=${quote(value)} must be a share from 1% to 100% of the memory limit.`;
  return parseByteSize(value) === undefined ? `GOMEMLIMIT=${quote(value)} must be NN% of the memory limit or a size such as 1536MiB.` : undefined;
}

/**
 * Parses a `.node-options` file: one Node flag per line (`--name`, `--name=value` or `--name value`),
 * `GOMEMLIMIT=` / `GOGC=` lines for the native compiler, `#` comments, `[profile]` sections.
 * Throws every problem together, each naming its `file:line`.
 */
export function parseNodeOptionsFile(text: string, path: string, profiles: readonly string[]): NodeOptionsFile {
  const { file, problems } = scanNodeOptionsFile(text, path, profiles);
  if (problems.length > 0) throw nodeOptionsFileError(path, problems);
  return file;
}

export function nodeOptionsFileError(path: string, problems: Problem[]): UsageError {
  return new UsageError({ problems, fix: `Fix ${path} (memtune doctor checks it without running anything).` });
}

/** The flags and settings of a `.node-options` file, and every problem in it, without stopping at the first. */
export function scanNodeOptionsFile(text: string, path: string, profiles: readonly string[]): { file: NodeOptionsFile; problems: Problem[] } {
  const result: NodeOptionsFile = { path, flags: [], env: [], sections: [] };
  const problems: Problem[] = [];
  let section: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const where = `${path}:${line}`;
    const origin: Origin = { kind: 'file', label: where };
    const content = raw.replace(/(^|\s)#.*$/, '').trim();
    if (content === '') return;
    const header = /^\[(.*)\]$/.exec(content);
    if (header) {
      const name = (header[1] ?? '').trim();
      if (!profiles.includes(name)) {
        problems.push({ where, message: `unknown profile section [${name}]; the profiles are ${profiles.join(', ')}.` });
      }
      section = name;
      result.sections.push({ name, line });
      return;
    }
    const envMatch = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(content);
    if (envMatch) {
      const key = envMatch[1]!;
      const value = envMatch[2]!.trim();
      if (key === 'NODE_OPTIONS') {
        problems.push({ where, message: 'write each flag of NODE_OPTIONS on its own line, without NODE_OPTIONS=.' });
        for (const token of tokenizeNodeOptions(value.replace(/^'(.*)'$/, '$1'))) checkToken(token, where, problems);
        return;
      }
      if (!FILE_ENV_KEYS.includes(key)) {
        problems.push({ where, message: `${key}= cannot be set here; a line is a Node flag (--name=value) or one of ${FILE_ENV_KEYS.join(', ')}.` });
        return;
      }
      const problem = goEnvProblem(key, value);
      if (problem) problems.push({ where, message: problem });
      else result.env.push({ key, value, origin, section });
      return;
    }
    const tokens = content.split(/\s+/);
    const first = tokens[0]!;
    if (!first.startsWith('-')) {
      problems.push({ where, message: `${quote(content)} is not a flag; a line is one Node flag such as --max-old-space-size=60%.` });
      return;
    }
    const extra = tokens.slice(1).filter((token) => token.startsWith('-'));
    if (extra.length > 0) {
      problems.push({ where, message: `one flag per line; put ${extra.map(quote).join(', ')} on a line of its own.` });
      for (const token of tokens) checkToken(token, where, problems);
      return;
    }
    const flag = splitFlag(tokens.length > 1 ? `${first}=${tokens.slice(1).join(' ')}` : first);
    const problem = heapSizeProblem(flag.name, flag.value);
    if (problem) problems.push({ where, message: problem });
    else result.flags.push({ ...flag, origin, section });
  });
  return { file: result, problems };
}

/** A pasted NODE_OPTIONS line is refused as a whole, but each of its flags is still checked so the message names them all. */
function checkToken(token: string, where: string, problems: Problem[]): void {
  if (!token.startsWith('-')) return;
  const flag = splitFlag(token);
  const problem = heapSizeProblem(flag.name, flag.value);
  if (problem) problems.push({ where, message: problem });
  const key = flagKey(flag.name);
  const refused = key === '--max-old-space-size-percentage' ? undefined : REFUSED_REASONS[key];
  if (refused) problems.push({ where, message: `${key} is not allowed in NODE_OPTIONS: ${refused}` });
}

export function splitFlag(token: string): { name: string; value?: string } {
  const eq = token.indexOf('=');
  return eq < 0 ? { name: token } : { name: token.slice(0, eq), value: token.slice(eq + 1) };
}

/** Splits NODE_OPTIONS the way node does: on whitespace, with double quotes and backslash escapes inside them. */
export function tokenizeNodeOptions(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '\\' && i + 1 < text.length) current += text[++i];
      else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"') {
      quoted = true;
      inToken = true;
    } else if (/\s/.test(char)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += char;
      inToken = true;
    }
  }
  if (inToken) tokens.push(current);
  return tokens;
}

/** Reads NODE_OPTIONS into flags; a token that does not start with `-` is the value of the flag before it (`--require x`). */
export function parseNodeOptionsEnv(text: string, origin: Origin): FlagSetting[] {
  const flags: FlagSetting[] = [];
  for (const token of tokenizeNodeOptions(text)) {
    const last = flags.at(-1);
    if (!token.startsWith('-') && last && last.value === undefined) last.value = token;
    else flags.push({ ...splitFlag(token), origin });
  }
  return flags;
}

/** `-r x` is written `--require=x`: node refuses `-r=x` (exit 9), and one token per flag keeps the quoting simple. */
export function formatFlag(flag: { name: string; value?: string }): string {
  const text = flag.value === undefined ? flag.name : `${SHORT_FLAGS[flag.name] ?? flag.name}=${flag.value}`;
  return /[\s"\\]/.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : text;
}

export function formatNodeOptions(flags: Array<{ name: string; value?: string }>): string {
  return flags.map(formatFlag).join(' ');
}

/**
 * Why node refuses some flags people paste into NODE_OPTIONS. Node allows only the flags in
 * `process.allowedNodeEnvironmentFlags` there; these V8 options may still go on node's own command line.
 */
export const REFUSED_REASONS: Record<string, string> = {
  '--gc-interval': 'it is a V8 debugging flag (a garbage collection every N allocations): it slows everything down and saves no memory.',
  '--optimize-for-size': 'it is a V8 tuning flag; if you measured a gain, put it on the node command line itself (node --optimize-for-size app.js).',
  '--trace-gc': 'it is a V8 tracing flag; put it on the node command line itself (node --trace-gc app.js) while you investigate.',
  '--expose-gc-as': 'it is a V8 debugging flag.',
  '--max-old-space-size-percentage': "it is Node's own percent flag, known from Node 24.6 and 22.21 only; write --max-old-space-size=NN%, which memtune computes for any Node.",
};
