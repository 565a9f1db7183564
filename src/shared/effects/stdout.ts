/**
 * A reader that stops early (`memtune doctor | head -1`) closes the pipe: what is left to print has nowhere to
 * go, which is no error of the command, so the command ends quietly with its own exit code instead of
 * node's unhandled-'error' stack trace. Any other write error still surfaces.
 */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
