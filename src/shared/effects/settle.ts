import { UsageError, formatError } from '../errors.js';

/**
 * Runs a command and sets the exit code it returns. A UsageError is the user's to fix: its text alone
 * (formatError), without a stack, and its exit code. Shared by cli.ts and the bundled `memtune run` (src/run/entry.ts).
 */
export async function settle(command: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${formatError(error)}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}
