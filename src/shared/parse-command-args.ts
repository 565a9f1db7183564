import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

/** A command's own arguments, parsed strictly; an unknown or malformed option is a usage error that says where the options are listed. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T, help: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError({ message: (error as Error).message, fix: help });
  }
}
