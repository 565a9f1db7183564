import { finished } from './stats.js';
import type { BenchReport } from './types.js';
import { flagKey, nodeOptionsFileError, parseHeapSize, scanNodeOptionsFile } from '../run/node-options.js';

const HEAP_FLAG = '--max-old-space-size';
/** The comment `--write` puts above a line it wrote; a later `--write` updates it instead of adding another. */
const COMMENT_PREFIX = '# memtune bench ';

/** One heap to put into a package's `.node-options`: `--max-old-space-size=<heapMiB>` under `[section]`. */
export interface HeapWrite {
  /** The package directory, relative to the workspace root. */
  dir: string;
  section: string;
  heapMiB: number;
  /** The comment line above the flag, `# memtune bench <date>: <basis>`. */
  comment: string;
  /** The measured targets it covers (a solution-style package has several under one section). */
  packages: string[];
}

export type HeapChange =
  | { kind: 'add'; section: string; heapMiB: number; sectionAdded: boolean }
  | { kind: 'same'; section: string; heapMiB: number; line: number }
  /** The section already sets another value (`was`, as written, at `line`): replacing it needs --force. */
  | { kind: 'replace'; section: string; heapMiB: number; line: number; was: string };

export interface NodeOptionsEdit {
  /** undefined: the file does not exist yet. */
  before: string | undefined;
  after: string;
  changes: HeapChange[];
}

/**
 * What `--write` puts where: one heap per package directory and profile (the largest of the targets measured
 * there), and every package left out with the reason. A package whose check did not finish gets no line, and
 * neither does any other target under the same section of its directory: the largest need there is unknown.
 */
export function heapWrites(report: Pick<BenchReport, 'packages' | 'recommendations' | 'generatedAt' | 'variants'>): {
  writes: HeapWrite[];
  left: Array<{ package: string; reason: string }>;
} {
  const left: Array<{ package: string; reason: string }> = [];
  const unfinished = new Set<string>();
  // With --variant, the recommendations are the first variant's: so is what may hold a write back.
  const first = report.variants?.list[0]?.name;
  for (const pkg of report.packages.filter((result) => result.variant === first)) {
    if (!finished(pkg.status)) {
      left.push({ package: pkg.name, reason: `its check ended ${pkg.status}: no figure to write` });
      unfinished.add(`${pkg.dir}\0${pkg.profile}`);
    } else if (pkg.compiler.native) {
      left.push({ package: pkg.name, reason: 'the native compiler: V8 heap flags do not reach it' });
    }
  }
  const groups = new Map<string, HeapWrite>();
  const date = report.generatedAt.slice(0, 10);
  for (const line of report.recommendations.heap) {
    if (line.section === null) {
      left.push({ package: line.package, reason: 'the profile its command runs under is not known' });
      continue;
    }
    const key = `${line.dir}\0${line.section}`;
    if (unfinished.has(key)) {
      left.push({ package: line.package, reason: `another check in ${line.dir} under [${line.section}] did not finish` });
      continue;
    }
    const group = groups.get(key);
    const comment = `${COMMENT_PREFIX}${date}: ${line.basis}`;
    if (!group) groups.set(key, { dir: line.dir, section: line.section, heapMiB: line.maxOldSpaceSizeMiB, comment, packages: [line.package] });
    else {
      group.packages.push(line.package);
      if (line.maxOldSpaceSizeMiB > group.heapMiB) Object.assign(group, { heapMiB: line.maxOldSpaceSizeMiB, comment });
    }
  }
  for (const group of groups.values()) {
    if (group.packages.length > 1) group.comment += ` (the largest of ${group.packages.join(', ')})`;
  }
  return { writes: [...groups.values()], left };
}

/**
 * The file's text with each heap put under its section, every other byte kept: comments, blank lines, line
 * endings. A section that already sets the heap to another value (any spelling, a percent too) gets its line
 * replaced, and the change says so: the caller writes that only when asked to. A file with a syntax problem is
 * refused with its `file:line`, as `memtune run` would refuse it.
 */
export function editedNodeOptions(
  before: string | undefined,
  path: string,
  heaps: ReadonlyArray<Pick<HeapWrite, 'section' | 'heapMiB' | 'comment'>>,
  profiles: readonly string[],
): NodeOptionsEdit {
  let text = before ?? '';
  const changes: HeapChange[] = [];
  for (const heap of heaps) {
    const edited = editedOnce(text, path, heap, profiles);
    text = edited.text;
    changes.push(edited.change);
  }
  return { before, after: text, changes };
}

function editedOnce(text: string, path: string, heap: Pick<HeapWrite, 'section' | 'heapMiB' | 'comment'>, profiles: readonly string[]): { text: string; change: HeapChange } {
  const { file, problems } = scanNodeOptionsFile(text, path, profiles);
  if (problems.length > 0) throw nodeOptionsFileError(path, problems);
  const cr = text.includes('\r\n') ? '\r' : '';
  const lines = text.split('\n');
  const { section, heapMiB } = heap;
  const flagText = `${HEAP_FLAG}=${heapMiB}`;
  // The scan labels each flag `path:line`.
  const lineOf = (label: string) => Number(label.slice(path.length + 1));
  const existing = file.flags.filter((flag) => flag.section === section && flagKey(flag.name) === HEAP_FLAG);
  if (existing.length > 0) {
    const differs = existing.filter((flag) => {
      const size = parseHeapSize(flag.value ?? '', true);
      return !(size && 'mib' in size && size.mib === heapMiB);
    });
    const last = existing.at(-1)!;
    if (differs.length === 0) return { text, change: { kind: 'same', section, heapMiB, line: lineOf(last.origin.label) } };
    // From the bottom up, so an added comment line does not move the lines still to rewrite.
    for (const flag of [...differs].reverse()) {
      const index = lineOf(flag.origin.label) - 1;
      lines[index] = rewrittenFlagLine(lines[index]!, flagText);
      const above = lines[index - 1];
      if (above?.trimStart().startsWith(COMMENT_PREFIX)) lines[index - 1] = heap.comment + cr;
      else lines.splice(index, 0, heap.comment + cr);
    }
    const shown = differs.at(-1)!;
    return {
      text: lines.join('\n'),
      change: { kind: 'replace', section, heapMiB, line: lineOf(shown.origin.label), was: shown.value === undefined ? shown.name : `${shown.name}=${shown.value}` },
    };
  }
  const header = file.sections.filter((entry) => entry.name === section).at(-1);
  if (header) {
    const next = file.sections.find((entry) => entry.line > header.line)?.line ?? lines.length + 1;
    // After the section's last line with content: the blank lines and comments before the next header stay with it.
    let at = header.line;
    for (let index = next - 2; index >= header.line; index--) {
      if (lineContent(lines[index]!) !== '') {
        at = index + 1;
        break;
      }
    }
    lines.splice(at, 0, heap.comment + cr, flagText + cr);
    return { text: lines.join('\n'), change: { kind: 'add', section, heapMiB, sectionAdded: false } };
  }
  const eol = `${cr}\n`;
  let head = text;
  if (head !== '' && !head.endsWith('\n')) head += eol;
  // A blank line between the file's last line and the new section.
  if (head !== '' && (head.split('\n').at(-2) ?? '').trim() !== '') head += eol;
  return { text: `${head}[${section}]${eol}${heap.comment}${eol}${flagText}${eol}`, change: { kind: 'add', section, heapMiB, sectionAdded: true } };
}

/** A line as the parser reads it: without its comment and surrounding white space. */
function lineContent(raw: string): string {
  return raw.replace(/(^|\s)#.*$/, '').trim();
}

/** The same line with its flag replaced: the indentation, a trailing comment and the line ending stay. */
function rewrittenFlagLine(raw: string, flagText: string): string {
  const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const hash = body.search(/(^|\s)#/);
  const beforeComment = hash < 0 ? body : body.slice(0, hash);
  const lead = /^\s*/.exec(beforeComment)![0];
  const content = beforeComment.trim();
  return lead + flagText + raw.slice(lead.length + content.length);
}
