import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, quote } from '../errors.js';

export interface PackageEnv {
  /** The real environment plus the variables of the package's `.env` it does not set. */
  env: NodeJS.ProcessEnv;
  /** For each variable taken from the file, the file's path. */
  origins: Record<string, string>;
  /** The `.env` read, when there is one. */
  path?: string;
}

/**
 * The environment `memtune run` gives a package's commands before its own flags: `./.env` of the package
 * loaded without overriding the real environment, read as run's loadEnvFiles (src/run/effects/session.ts)
 * reads it, so that `memtune doctor` judges the memory limit the scripts will get.
 * An unreadable `.env` (not a missing one) is a UsageError naming it, as it stops `memtune run`.
 */
export async function loadPackageEnv(env: NodeJS.ProcessEnv, packageDir: string): Promise<PackageEnv> {
  const path = join(packageDir, '.env');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { env: { ...env }, origins: {} };
    throw new UsageError({ where: quote(path), message: `cannot be read (${code ?? (error as Error).message}).`, fix: 'Make it a readable env file, or remove it.' });
  }
  // Loaded only when a file exists, as run does: dotenv is not on the path of a package without one.
  const { parse } = await import('dotenv');
  const merged: NodeJS.ProcessEnv = { ...env };
  const origins: Record<string, string> = {};
  for (const [key, value] of Object.entries(parse(text))) {
    if (env[key] !== undefined) continue;
    merged[key] = value;
    origins[key] = path;
  }
  return { env: merged, origins, path };
}
