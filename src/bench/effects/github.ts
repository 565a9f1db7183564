import { appendFileSync } from 'node:fs';
import { formatWarning, quote } from '../../shared/errors.js';

/**
 * Appends `text` to the file a GitHub Actions variable names ($GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT): an
 * append, as GitHub expects, since earlier commands of the step may have written to it. Returns the warning
 * to print when it cannot be written; the bench's outcome does not change (its report is on disk).
 */
export function appendToGitHubFile(variable: string, path: string, text: string, reportFile: string): string | undefined {
  try {
    appendFileSync(path, text);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return formatWarning({
      where: `${variable} ${quote(path)}`,
      message: `cannot be written (${code}); the report is in ${reportFile}.`,
      fix: `Point ${variable} at a file this job can write to (GitHub Actions sets it itself).`,
    });
  }
}
