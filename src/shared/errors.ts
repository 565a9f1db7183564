/**
 * An error a user can act on: `message` is the whole text shown to them
 * (it starts with `memtune:` and puts the fix on its own line).
 * `exitCode` is what the CLI exits with; 2 for bad input unless a command says otherwise.
 */
export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = exitCode;
  }
}

export function quote(value: string): string {
  return JSON.stringify(value);
}
