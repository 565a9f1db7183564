type Op = { kind: ' ' | '-' | '+'; text: string };

function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/** The line operations that turn `a` into `b`, from their longest common subsequence (files here are small). */
function lineOps(a: string[], b: string[]): Op[] {
  const common: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i++]! });
      j++;
    } else if (i < a.length && (j === b.length || common[i + 1]![j]! >= common[i]![j + 1]!)) {
      // Removals before additions, as diff -u shows a changed line.
      ops.push({ kind: '-', text: a[i++]! });
    } else {
      ops.push({ kind: '+', text: b[j++]! });
    }
  }
  return ops;
}

/**
 * A unified diff (`diff -u`) of two texts, `context` lines around each change; empty when they are the same.
 * Line endings are not shown: a CRLF file's lines read as any other's.
 */
export function unifiedDiff(before: string, after: string, from: string, to: string, context = 3): string {
  const ops = lineOps(linesOf(before), linesOf(after));
  const changed = ops.flatMap((op, index) => (op.kind === ' ' ? [] : [index]));
  if (changed.length === 0) return '';
  const out = [`--- ${from}`, `+++ ${to}`];
  let first = 0;
  while (first < changed.length) {
    let last = first;
    while (last + 1 < changed.length && changed[last + 1]! - changed[last]! <= 2 * context) last++;
    const start = Math.max(0, changed[first]! - context);
    const end = Math.min(ops.length, changed[last]! + context + 1);
    const before = ops.slice(0, start);
    const aBefore = before.filter((op) => op.kind !== '+').length;
    const bBefore = before.filter((op) => op.kind !== '-').length;
    const hunk = ops.slice(start, end);
    const aLength = hunk.filter((op) => op.kind !== '+').length;
    const bLength = hunk.filter((op) => op.kind !== '-').length;
    const range = (lineBefore: number, length: number) => `${length === 0 ? lineBefore : lineBefore + 1},${length}`;
    out.push(`@@ -${range(aBefore, aLength)} +${range(bBefore, bLength)} @@`, ...hunk.map((op) => `${op.kind}${op.text}`));
    first = last + 1;
  }
  return `${out.join('\n')}\n`;
}
