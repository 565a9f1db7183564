import { UsageError } from '../core/errors.js';

export async function run(_argv: string[]): Promise<number> {
  throw new UsageError('memtune: `memtune bench` is not built yet.\nSee the README for what this version can do.', 1);
}
