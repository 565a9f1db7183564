/** A TypeScript compiler as the one detector (shared/effects/typescript-compiler.ts) found it; run, bench and doctor share it. */
export interface CompilerInfo {
  name: 'typescript';
  version: string;
  /** TypeScript >= 7: the Go compiler; V8 heap figures do not apply. */
  native: boolean;
  /** The `bin/tsc` that ran. */
  path: string;
}
