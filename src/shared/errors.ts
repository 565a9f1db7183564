/** One thing wrong: `where` names the input, file:line or package it is about; `message` says what is wrong. */
export interface Problem {
  where?: string;
  message: string;
}

export type ErrorInit = (Problem | { problems: readonly Problem[] }) & { fix?: string };

/**
 * An error a user can act on: what is wrong (one or more problems) and, on its own line, what to do.
 * Thrown by the core as data; the CLI alone turns it into text (formatError), so `memtune:` is added in one place
 * and doctor reads `where` and `message` instead of taking text apart.
 * `exitCode` is what the CLI exits with; 2 for bad input unless a command says otherwise.
 */
export class UsageError extends Error {
  readonly problems: readonly Problem[];
  readonly fix: string | undefined;
  readonly exitCode: number;

  /** One problem (`{ where, message, fix }`), or several found in one pass (all the bad lines of a file) with one fix. */
  constructor(init: ErrorInit, exitCode = 2) {
    const problems = 'problems' in init ? init.problems : [init.where === undefined ? { message: init.message } : { where: init.where, message: init.message }];
    super([...problems.map(problemText), ...(init.fix ? [init.fix] : [])].join('\n'));
    this.name = 'UsageError';
    this.problems = problems;
    this.fix = init.fix;
    this.exitCode = exitCode;
  }
}

export function problemText(problem: Problem): string {
  return problem.where === undefined ? problem.message : `${problem.where}: ${problem.message}`;
}

/** The text a user sees: each problem on a `memtune:` line, then the fix on its own line. */
export function formatError(error: UsageError): string {
  return [...error.problems.map((problem) => `memtune: ${problemText(problem)}`), ...(error.fix ? [error.fix] : [])].join('\n');
}

/** Something a user should know but that does not stop the command; printed as a `memtune: warning:` line. */
export type Notice = Problem & { fix?: string };

export function formatWarning(notice: Notice): string {
  return [`memtune: warning: ${problemText(notice)}`, ...(notice.fix ? [notice.fix] : [])].join('\n');
}

/** What a failed file operation says in a message: its code (ENOENT, EACCES), else its message. */
export function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

export function quote(value: string): string {
  return JSON.stringify(value);
}
