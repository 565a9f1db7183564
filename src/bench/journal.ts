import { SCHEMA_VERSION, type JournalEntry, type JournalHeader, type RecordedOptions, type VariantSpec } from './types.js';
import { UsageError } from '../shared/errors.js';

export const JOURNAL_FILE = 'memtune-journal.jsonl';

/** What identifies "the same measurement" across an interrupted bench and its --resume. */
export function runKey(dir: string, task: string, compilerPath: string, variant?: string): string {
  return JSON.stringify(variant === undefined ? [dir, task, compilerPath] : [dir, task, compilerPath, variant]);
}

export function formatJournalLine(entry: JournalEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

/** The journal's first line: the options its bench was started with. */
export function formatJournalHeader(options: RecordedOptions): string {
  const header: JournalHeader = { schemaVersion: SCHEMA_VERSION, options };
  return `${JSON.stringify(header)}\n`;
}

export interface ParsedJournal {
  entries: JournalEntry[];
  /** From its first line; absent in a journal an older memtune wrote. */
  options?: RecordedOptions;
  /** Set when the last line was cut off by an interrupted write and left out. */
  note?: string;
  /**
   * Set when the text does not end with a whole line (a write cut off by a kill): what the journal must
   * be before anything is appended to it, its whole lines only. Appending after a cut-off line would
   * join the next run onto it.
   */
  repaired?: string;
}

function isEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<JournalEntry>;
  return (
    entry.schemaVersion === SCHEMA_VERSION &&
    typeof entry.key === 'string' &&
    typeof entry.name === 'string' &&
    typeof entry.dir === 'string' &&
    typeof entry.run === 'number' &&
    typeof entry.task === 'string' &&
    typeof entry.compiler === 'object' &&
    typeof entry.figures === 'object' &&
    entry.figures !== null &&
    typeof entry.figures.status === 'string'
  );
}

const isStringOrNull = (value: unknown) => value === null || typeof value === 'string';
const isPositive = (value: unknown) => typeof value === 'number' && value > 0;

function isVariant(value: unknown): boolean {
  const variant = value as Partial<VariantSpec> | null;
  return (
    typeof variant === 'object' &&
    variant !== null &&
    typeof variant.name === 'string' &&
    typeof variant.spec === 'string' &&
    isStringOrNull(variant.tsconfig) &&
    isStringOrNull(variant.compiler) &&
    isStringOrNull(variant.profile)
  );
}

function isHeader(value: unknown): value is JournalHeader {
  if (typeof value !== 'object' || value === null || (value as Partial<JournalHeader>).schemaVersion !== SCHEMA_VERSION) return false;
  const options = (value as Partial<JournalHeader>).options as Partial<RecordedOptions> | undefined;
  return (
    typeof options === 'object' &&
    options !== null &&
    typeof options.dir === 'string' &&
    Array.isArray(options.filters) &&
    options.filters.every((filter) => typeof filter === 'string') &&
    isStringOrNull(options.compiler) &&
    Number.isInteger(options.runs) &&
    isPositive(options.runs) &&
    typeof options.warm === 'boolean' &&
    isStringOrNull(options.script) &&
    typeof options.solution === 'boolean' &&
    isPositive(options.timeoutMs) &&
    isStringOrNull(options.baseline) &&
    isPositive(options.maxGrowth) &&
    // Absent in a journal written before --profile: such a bench ran with node's default heap.
    (options.profile === undefined || isStringOrNull(options.profile)) &&
    // Absent in a journal written before --variant.
    (options.variants === undefined || (Array.isArray(options.variants) && options.variants.every(isVariant))) &&
    (options.findMinHeap === undefined || typeof options.findMinHeap === 'boolean') &&
    // Absent in a journal written before --shard: such a bench measured every package.
    (options.shard === undefined || isStringOrNull(options.shard))
  );
}

/**
 * Reads a journal for --resume: the options line first, then one line per run. A bench killed mid-write
 * leaves at most its last line cut short (no newline after it): that line is dropped, its run measured
 * again, and `repaired` is the journal without it. Anything else unreadable is an error naming
 * file:line, because guessing would mix figures from different benches.
 */
export function parseJournal(text: string, file: string): ParsedJournal {
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  let options: RecordedOptions | undefined;
  let note: string | undefined;
  let kept = 0;
  for (const [index, line] of lines.entries()) {
    const isLast = index === lines.length - 1;
    if (line.trim() === '') {
      if (!isLast) kept += line.length + 1;
      continue;
    }
    let value: unknown;
    let problem: string | undefined;
    try {
      value = JSON.parse(line);
      if (index === 0 && isHeader(value)) {
        options = {
          ...value.options,
          profile: value.options.profile ?? null,
          variants: value.options.variants ?? [],
          // A journal of a bench before --find-min-heap existed did not search.
          findMinHeap: value.options.findMinHeap ?? false,
          shard: value.options.shard ?? null,
        };
      } else if (!isEntry(value)) {
        const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
        problem = version !== undefined && version !== SCHEMA_VERSION ? `schemaVersion ${JSON.stringify(version)}, expected ${SCHEMA_VERSION}` : 'not a memtune journal entry';
      } else {
        entries.push(value);
      }
    } catch (error) {
      problem = `not JSON: ${(error as Error).message}`;
    }
    if (problem === undefined) {
      kept += line.length + 1;
    } else if (isLast) {
      note = `${file}:${index + 1} was cut off by an interrupted write; that run is measured again`;
    } else {
      throw new UsageError({
        where: `${file}:${index + 1}`,
        message: `${problem}.`,
        fix: `Delete ${file} to measure everything again, or run without --resume to start a new journal.`,
      });
    }
  }
  // `kept` counts a newline after every kept line; the text may lack the last one.
  const whole = text.slice(0, kept).replace(/[^\n]$/, (last) => `${last}\n`);
  return { entries, ...(options ? { options } : {}), ...(note ? { note } : {}), ...(whole !== text ? { repaired: whole } : {}) };
}

/** The command-line text of an option as recorded: what a user would type, or "without --x". */
export function optionText(name: keyof RecordedOptions, options: RecordedOptions): string {
  switch (name) {
    case 'dir':
      return `started in ${options.dir}`;
    case 'filters':
      return options.filters.length === 0 ? 'without --filter' : options.filters.map((filter) => `--filter ${filter}`).join(' ');
    case 'runs':
      return `--runs ${options.runs}`;
    case 'timeoutMs':
      return `--timeout ${options.timeoutMs / 1000}`;
    case 'maxGrowth':
      return `--max-growth ${Math.round(options.maxGrowth * 1000) / 10}%`;
    case 'warm':
    case 'solution':
      return options[name] ? `--${name}` : `without --${name}`;
    case 'findMinHeap':
      return options.findMinHeap ? '--find-min-heap' : 'without --find-min-heap';
    case 'compiler':
    case 'script':
    case 'baseline':
    case 'profile':
    case 'shard':
      return options[name] === null ? `without --${name}` : `--${name} ${options[name]}`;
    case 'variants':
      return options.variants.length === 0 ? 'without --variant' : options.variants.map((variant) => `--variant ${variant.name}=${variant.spec}`).join(' ');
  }
}

/** What a bench measures when no option says otherwise. */
export const DEFAULT_OPTIONS: RecordedOptions = {
  dir: '.',
  filters: [],
  compiler: null,
  runs: 1,
  warm: false,
  script: null,
  solution: false,
  timeoutMs: 600_000,
  baseline: null,
  maxGrowth: 0.1,
  profile: null,
  variants: [],
  findMinHeap: false,
  shard: null,
};

/** The options as the command line that starts such a bench, defaults left out. */
export function describeOptions(options: RecordedOptions): string {
  const names = (Object.keys(options) as Array<keyof RecordedOptions>).filter((name) => name !== 'dir' && !sameOption(name, options, DEFAULT_OPTIONS));
  const text = names.map((name) => optionText(name, options)).join(' ');
  return [text || 'the default options', ...(options.dir === '.' ? [] : [`(started in ${options.dir})`])].join(' ');
}

function sameOption(name: keyof RecordedOptions, a: RecordedOptions, b: RecordedOptions): boolean {
  // The order of --filter does not change which packages are measured.
  if (name === 'filters') return JSON.stringify([...a.filters].sort()) === JSON.stringify([...b.filters].sort());
  // Variants as looked up (the same overlay and compiler), in their order: the first is what the others are compared with.
  if (name === 'variants') return JSON.stringify(a.variants) === JSON.stringify(b.variants);
  return a[name] === b[name];
}

/**
 * A --resume continues the bench its journal records: options it is not given come from there, and one
 * given with another value is refused, naming both, since the journal's runs would not be of the bench asked for.
 */
export function resumeOptions(recorded: RecordedOptions, given: Partial<RecordedOptions>, file: string): RecordedOptions {
  const merged: RecordedOptions = { ...recorded };
  const flag = (name: keyof RecordedOptions) =>
    name === 'filters'
      ? '--filter'
      : name === 'variants'
        ? '--variant'
        : name === 'timeoutMs'
          ? '--timeout'
          : name === 'maxGrowth'
            ? '--max-growth'
            : name === 'findMinHeap'
              ? '--find-min-heap'
              : `--${name}`;
  for (const name of Object.keys(given) as Array<keyof RecordedOptions>) {
    const asked = { ...recorded, ...{ [name]: given[name] } } as RecordedOptions;
    if (given[name] === undefined || sameOption(name, asked, recorded)) continue;
    throw new UsageError({
      where: optionText(name, asked),
      message: `this bench was started ${optionText(name, recorded).replace(/^(?!without )/, 'with ')} (${file}).`,
      fix: `Leave ${flag(name)} out to resume it, or run without --resume to start a new bench.`,
    });
  }
  return merged;
}
