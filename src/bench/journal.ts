import { SCHEMA_VERSION, type JournalEntry } from './types.js';
import { UsageError } from '../shared/errors.js';

export const JOURNAL_FILE = 'memtune-journal.jsonl';

/** What identifies "the same measurement" across an interrupted bench and its --resume. */
export function runKey(dir: string, task: string, compilerPath: string): string {
  return JSON.stringify([dir, task, compilerPath]);
}

export function formatJournalLine(entry: JournalEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

export interface ParsedJournal {
  entries: JournalEntry[];
  /** Set when the last line was cut off by an interrupted write and left out. */
  note?: string;
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

/**
 * Reads a journal for --resume. A bench killed mid-write leaves at most its last line cut short (no
 * newline after it): that line is dropped and its run measured again. Anything else unreadable is an
 * error naming file:line, because guessing would mix figures from different benches.
 */
export function parseJournal(text: string, file: string): ParsedJournal {
  const lines = text.split('\n');
  const entries: JournalEntry[] = [];
  let note: string | undefined;
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const isCutOff = index === lines.length - 1;
    let value: unknown;
    let problem: string | undefined;
    try {
      value = JSON.parse(line);
      if (!isEntry(value)) {
        const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
        problem = version !== undefined && version !== SCHEMA_VERSION ? `schemaVersion ${JSON.stringify(version)}, expected ${SCHEMA_VERSION}` : 'not a memtune journal entry';
      }
    } catch (error) {
      problem = `not JSON: ${(error as Error).message}`;
    }
    if (problem === undefined) {
      entries.push(value as JournalEntry);
    } else if (isCutOff) {
      note = `${file}:${index + 1} was cut off by an interrupted write; that run is measured again`;
    } else {
      throw new UsageError({
        where: `${file}:${index + 1}`,
        message: `${problem}.`,
        fix: `Delete ${file} to measure everything again, or run without --resume to start a new journal.`,
      });
    }
  }
  return note === undefined ? { entries } : { entries, note };
}
