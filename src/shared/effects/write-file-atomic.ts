import { linkSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `path` atomically: a temporary file beside it, then a rename. Without `overwrite`
 * the temporary file is hard-linked into place instead, which fails with EEXIST if the path exists by
 * then, so a file that appeared in the meantime is never replaced.
 * Returns false (and writes nothing) when the path exists and `overwrite` is false.
 */
export function writeFileAtomic(path: string, text: string, overwrite: boolean): boolean {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    // Inside the try: a write that fails halfway (a full disk) leaves no temporary file either.
    writeFileSync(temp, text, { flag: 'wx' });
    if (overwrite) {
      renameSync(temp, path);
      return true;
    }
    try {
      linkSync(temp, path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Already renamed into place, or never written.
    }
  }
}
