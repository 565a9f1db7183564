import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, quote } from './errors.js';

/** A command's own arguments, parsed strictly; an unknown or malformed option is a usage error that says where the options are listed. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T, help: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    // Node's own wording for an unknown option advises `-- "-e"`, which is not how memtune commands are written.
    const unknown = (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /'([^']+)'/.exec((error as Error).message);
    throw new UsageError({ message: unknown ? `unknown option ${quote(unknown[1]!)}.` : (error as Error).message, fix: help });
  }
}
