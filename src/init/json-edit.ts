import { applyEdits, type FormattingOptions, modify } from 'jsonc-parser';

/** The file's own indentation (tabs, or the width of its first indented line), so that an edit looks hand-made; none for a one-line file. */
export function formattingOf(text: string): FormattingOptions | undefined {
  // A file on one line stays on one line: formatting options would lay the whole object out anew.
  if (!text.trim().includes('\n')) return undefined;
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return indent.startsWith('\t') ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent.length, eol };
}

/** jsonc-parser's options for an edit of `text`: its own layout, or none for a one-line file (inserted as is). */
export function editOptions(text: string): { formattingOptions?: FormattingOptions } {
  const formattingOptions = formattingOf(text);
  return formattingOptions ? { formattingOptions } : {};
}

/** package.json with each of `scripts` set to its new text, everything else (order, spacing, other keys) as it was. */
export function withScripts(text: string, scripts: ReadonlyArray<{ name: string; script: string }>): string {
  let out = text;
  for (const { name, script } of scripts) out = applyEdits(out, modify(out, ['scripts', name], script, editOptions(out)));
  return out;
}

/** The pattern that lets every `MEMTUNE_*` variable through turbo's strict env mode. */
export const PASS_THROUGH = 'MEMTUNE_*';

/**
 * turbo.json(c) with `MEMTUNE_*` added to `globalPassThroughEnv` (`present`: the list there, made when there is
 * none), comments and layout kept. Whether it is needed is missingPassThrough's to say.
 */
export function withPassThrough(text: string, present: readonly string[] | undefined): string {
  const path = present === undefined ? ['globalPassThroughEnv'] : ['globalPassThroughEnv', present.length];
  const value = present === undefined ? [PASS_THROUGH] : PASS_THROUGH;
  return applyEdits(text, modify(text, path, value, { ...editOptions(text), isArrayInsertion: present !== undefined }));
}

/** What init may add to `.gitignore`, each with the comment that says why. */
export const IGNORED = {
  memtune: { pattern: '.memtune/', comment: 'memtune bench reports, journals and diagnostics: machine-specific output' },
  turbo: { pattern: '.turbo/', comment: "turbo's cache and task logs: not ignored, the logs are inputs of the next run and tasks miss the cache" },
} as const;

/** `.gitignore` with each of `entries` appended on a line of its own after its comment (the file made when there is none). */
export function withGitIgnore(text: string | undefined, entries: ReadonlyArray<{ pattern: string; comment: string }> = [IGNORED.memtune]): string {
  const before = text ?? '';
  const eol = before.includes('\r\n') ? '\r\n' : '\n';
  const separator = before === '' || before.endsWith('\n') ? '' : eol;
  return `${before}${separator}${entries.map((entry) => `# ${entry.comment}${eol}${entry.pattern}${eol}`).join('')}`;
}
