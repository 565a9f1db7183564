import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editedNodeOptions } from '../../src/bench/node-options-edit.js';
import { UsageError } from '../../src/shared/errors.js';
import { unifiedDiff } from '../../src/shared/unified-diff.js';

const PROFILES = ['build', 'typecheck', 'test', 'dev', 'start'];
const HEAP = { section: 'typecheck', heapMiB: 576, comment: '# memtune bench 2026-12-04: why' };

test('--write puts the heap under its section, keeping every other byte, and says what it changed', () => {
  const cases: Array<[string, string | undefined, string, string]> = [
    ['a missing file', undefined, '[typecheck]\n# memtune bench 2026-12-04: why\n--max-old-space-size=576\n', 'add'],
    ['a missing section', '# mine\n--report-on-fatalerror\n', '# mine\n--report-on-fatalerror\n\n[typecheck]\n# memtune bench 2026-12-04: why\n--max-old-space-size=576\n', 'add'],
    [
      'an existing section, before the comments of the next',
      '[typecheck]\n--expose-gc  # keep\n\n# next\n[test]\n',
      '[typecheck]\n--expose-gc  # keep\n# memtune bench 2026-12-04: why\n--max-old-space-size=576\n\n# next\n[test]\n',
      'add',
    ],
    ['CRLF line endings', '[typecheck]\r\n--expose-gc\r\n', '[typecheck]\r\n--expose-gc\r\n# memtune bench 2026-12-04: why\r\n--max-old-space-size=576\r\n', 'add'],
    ['an identical value', '[typecheck]\n--max_old_space_size=576\n', '[typecheck]\n--max_old_space_size=576\n', 'same'],
    ['a different value', '[typecheck]\n  --max-old-space-size 1024 # mine\n', '[typecheck]\n# memtune bench 2026-12-04: why\n  --max-old-space-size=576 # mine\n', 'replace'],
    ['a percent value', '[typecheck]\n--max_old_space_size=60%\n', '[typecheck]\n# memtune bench 2026-12-04: why\n--max-old-space-size=576\n', 'replace'],
    [
      'an earlier --write comment',
      '[typecheck]\n# memtune bench 2026-01-01: old\n--max-old-space-size=256\n',
      '[typecheck]\n# memtune bench 2026-12-04: why\n--max-old-space-size=576\n',
      'replace',
    ],
    [
      'another section only',
      '[test]\n--max-old-space-size=999\n',
      '[test]\n--max-old-space-size=999\n\n[typecheck]\n# memtune bench 2026-12-04: why\n--max-old-space-size=576\n',
      'add',
    ],
  ];
  for (const [what, before, after, kind] of cases) {
    const edit = editedNodeOptions(before, 'pkg/.node-options', [HEAP], PROFILES);
    assert.equal(edit.after, after, what);
    assert.equal(edit.changes[0]?.kind, kind, what);
  }
  const replaced = editedNodeOptions('[typecheck]\n--max_old_space_size=60%\n', 'p', [HEAP], PROFILES).changes[0];
  assert.deepEqual(replaced, { kind: 'replace', section: 'typecheck', heapMiB: 576, line: 2, was: '--max_old_space_size=60%' });
});

test('--write refuses a .node-options with a syntax problem, naming file:line', () => {
  assert.throws(
    () => editedNodeOptions('[typecheck]\n--max-old-space-size=4gb\n', 'pkg/.node-options', [HEAP], PROFILES),
    (error: unknown) => error instanceof UsageError && /^pkg\/\.node-options:2: /.test(error.message),
  );
});

test('the unified diff shows only the changed lines with context, and nothing for equal texts', () => {
  assert.equal(unifiedDiff('a\nb\nc\n', 'a\nx\nc\n', 'a/f', 'b/f'), '--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n');
  assert.equal(unifiedDiff('', 'x\n', '/dev/null', 'b/f'), '--- /dev/null\n+++ b/f\n@@ -0,0 +1,1 @@\n+x\n');
  assert.equal(unifiedDiff('a\n', 'a\n', 'a', 'b'), '');
});
