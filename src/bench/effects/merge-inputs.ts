import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseBaseline } from '../baseline.js';
import type { MergeInput } from '../merge.js';
import { UsageError, errorCode, quote } from '../../shared/errors.js';

const REPORT_FILE = 'memtune-report.json';

/** One `memtune bench merge` input: a memtune-report.json, or a directory holding one (a shard's .memtune), read and checked as a baseline is. */
export function readMergeInput(given: string, cwd: string): MergeInput {
  const where = `merge ${quote(given)}`;
  let file = resolve(cwd, given);
  let text: string;
  let real: string;
  try {
    if (statSync(file).isDirectory()) file = join(file, REPORT_FILE);
    real = realpathSync(file);
    text = readFileSync(real, 'utf8');
  } catch (error) {
    throw new UsageError({
      where,
      message: `cannot be read (${errorCode(error)}).`,
      fix: `Pass a ${REPORT_FILE} that memtune bench wrote, or the directory holding it (its --out, .memtune by default).`,
    });
  }
  return { file: given, real, report: parseBaseline(text, given, where) };
}
