import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { editedNodeOptions, heapWrites, type NodeOptionsEdit } from '../node-options-edit.js';
import type { BenchReport } from '../types.js';
import { UsageError } from '../../shared/errors.js';
import type { Profiles } from '../../shared/profiles.js';
import { writeFileAtomic } from '../../shared/effects/write-file-atomic.js';

export interface PlannedFile extends NodeOptionsEdit {
  path: string;
  /** Relative to where the bench was started. */
  shown: string;
}

function readIfThere(path: string, shown: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new UsageError({ where: shown, message: `cannot be read (${code ?? (error as Error).message}).`, fix: 'Make it a readable file of Node flags, or remove it.' });
  }
}

/** Every `.node-options` edit `--write` would make, planned before any is written; a file with a syntax problem stops it all. */
export function planHeapWrites(report: BenchReport, cwd: string, profiles: Profiles): { files: PlannedFile[]; left: Array<{ package: string; reason: string }> } {
  const { writes, left } = heapWrites(report);
  const byDir = new Map<string, typeof writes>();
  for (const write of writes) byDir.set(write.dir, [...(byDir.get(write.dir) ?? []), write]);
  const files: PlannedFile[] = [];
  for (const [dir, heaps] of byDir) {
    const path = join(report.root, dir, '.node-options');
    const shown = relative(cwd, path) || path;
    files.push({ path, shown, ...editedNodeOptions(readIfThere(path, shown), shown, heaps, Object.keys(profiles)) });
  }
  return { files, left };
}

/** Writes each planned file that changes, atomically; a file that appeared since it was planned is not replaced. */
export function writeHeapFiles(files: PlannedFile[]): PlannedFile[] {
  const changed = files.filter((file) => file.after !== (file.before ?? ''));
  for (const file of changed) {
    if (!writeFileAtomic(file.path, file.after, file.before !== undefined)) {
      throw new UsageError({ where: file.shown, message: 'appeared while the bench ran; not replaced.', fix: 'Run memtune bench --resume --write to plan again against it.' });
    }
  }
  return changed;
}
