import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { UsageError, quote } from '../errors.js';

/**
 * Loads `./.env` of the package, then each --dotenv file (not --env-file: Node 20 reads that flag even after the script name), into `env`. Variables already in the real
 * environment stay unless `override`. Returns, for each variable set, the file it came from.
 */
export function loadEnvFiles(env: NodeJS.ProcessEnv, packageDir: string, extra: string[], override: boolean): Record<string, string> {
  const origins: Record<string, string> = {};
  const sources: Array<{ path: string; required: boolean }> = [
    { path: join(packageDir, '.env'), required: false },
    ...extra.map((path) => ({ path: resolve(path), required: true })),
  ];
  const outer = { ...env };
  for (const source of sources) {
    let text: string;
    try {
      text = readFileSync(source.path, 'utf8');
    } catch (error) {
      if (!source.required && (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new UsageError({
        where: source.required ? `--dotenv ${quote(source.path)}` : quote(source.path),
        message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
        fix: source.required ? 'Check the path given to --dotenv.' : 'Make it a readable env file, or remove it.',
      });
    }
    // Loaded only when a file exists: most runs have none, and run's start-up is on every script's path. Required,
    // not imported: the bin compiles run's bundle with vm.Script, which has no import().
    const { parse } = createRequire(import.meta.filename)('dotenv') as typeof import('dotenv');
    for (const [key, value] of Object.entries(parse(text))) {
      if (outer[key] !== undefined && !override) continue;
      env[key] = value;
      origins[key] = source.path;
    }
  }
  return origins;
}
