import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectMemoryLimit } from '../../src/shared/effects/memory-limit.js';
import { UsageError, formatError } from '../../src/shared/errors.js';
import { GiB, MiB, parseByteSize } from '../../src/shared/size.js';
import { tempDir, writeTree } from '../helpers.js';

const MACHINE = 24 * GiB;
const noConstraint = () => 2 ** 64;

const cases: Array<{ name: string; files: Record<string, string>; env?: Record<string, string>; bytes: number; source: string; detail?: string }> = [
  {
    name: 'cgroup v2 container: memory.max at the namespace root',
    files: { 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cgroup.controllers': 'cpu memory\n', 'sys/fs/cgroup/memory.max': '536870912\n' },
    bytes: 512 * MiB,
    source: 'cgroup-v2',
    detail: '/sys/fs/cgroup/memory.max',
  },
  {
    name: 'cgroup v2 "max" is no limit',
    files: { 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cgroup.controllers': 'memory\n', 'sys/fs/cgroup/memory.max': 'max\n' },
    bytes: MACHINE,
    source: 'total-memory',
  },
  {
    name: "cgroup v2 takes the smallest limit along the process's own path",
    files: {
      'proc/self/cgroup': '0::/user.slice/ci.scope\n',
      'sys/fs/cgroup/cgroup.controllers': 'memory\n',
      'sys/fs/cgroup/user.slice/memory.max': '2147483648\n',
      'sys/fs/cgroup/user.slice/ci.scope/memory.max': 'max\n',
    },
    bytes: 2 * GiB,
    source: 'cgroup-v2',
    detail: '/sys/fs/cgroup/user.slice/memory.max',
  },
  {
    name: 'cgroup v1 memory.limit_in_bytes',
    files: { 'proc/self/cgroup': '5:cpuacct,cpu:/\n4:memory:/docker/abc\n', 'sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': '1073741824\n' },
    bytes: 1 * GiB,
    source: 'cgroup-v1',
    detail: '/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes',
  },
  {
    name: 'cgroup v1 unlimited sentinel 9223372036854771712 is no limit',
    files: { 'proc/self/cgroup': '4:memory:/\n', 'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' },
    bytes: MACHINE,
    source: 'total-memory',
  },
  {
    name: 'a cgroup limit above the machine is capped at the machine',
    files: { 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cgroup.controllers': 'memory\n', 'sys/fs/cgroup/memory.max': String(64 * GiB) },
    bytes: MACHINE,
    source: 'total-memory',
  },
  {
    name: 'MEMTUNE_MEMORY_LIMIT wins over the cgroup',
    files: { 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cgroup.controllers': 'memory\n', 'sys/fs/cgroup/memory.max': '536870912\n' },
    env: { MEMTUNE_MEMORY_LIMIT: '2GiB' },
    bytes: 2 * GiB,
    source: 'env',
  },
  {
    name: 'no cgroup files: falls back to the machine',
    files: {},
    bytes: MACHINE,
    source: 'total-memory',
  },
];

for (const c of cases) {
  test(`detectMemoryLimit: ${c.name}`, (t) => {
    const root = tempDir(t);
    writeTree(root, c.files);
    const limit = detectMemoryLimit({ root, env: c.env ?? {}, constrainedMemory: noConstraint, totalMemory: () => MACHINE });
    assert.equal(limit.bytes, c.bytes);
    assert.equal(limit.source, c.source);
    if (c.detail) assert.equal(limit.detail, c.detail);
  });
}

test("detectMemoryLimit uses process.constrainedMemory() when no cgroup file can be read, ignoring Node 20's 2^64", (t) => {
  const root = tempDir(t);
  const options = { root, env: {}, totalMemory: () => MACHINE };
  assert.equal(detectMemoryLimit({ ...options, constrainedMemory: () => 3 * GiB }).source, 'constrained-memory');
  assert.equal(detectMemoryLimit({ ...options, constrainedMemory: () => 18446744073709552000 }).source, 'total-memory');
  assert.equal(detectMemoryLimit({ ...options, constrainedMemory: () => 0 }).source, 'total-memory');
});

test('detectMemoryLimit refuses a MEMTUNE_MEMORY_LIMIT that is not a size and names it', () => {
  for (const bad of ['2GB', 'lots', '-1', '0', '1.5']) {
    assert.throws(
      () => detectMemoryLimit({ env: { MEMTUNE_MEMORY_LIMIT: bad } }),
      (error: unknown) => {
        assert.ok(error instanceof UsageError);
        const text = formatError(error);
        assert.match(text, /^memtune: MEMTUNE_MEMORY_LIMIT=".*": (not a memory size|zero is not a memory limit)\./);
        assert.ok(text.includes(JSON.stringify(bad)), text);
        assert.match(text, /\nWrite bytes/);
        return true;
      },
    );
  }
});

test('parseByteSize reads bytes and binary units only', () => {
  assert.equal(parseByteSize('2147483648'), 2 * GiB);
  assert.equal(parseByteSize('2GiB'), 2 * GiB);
  assert.equal(parseByteSize('512mib'), 512 * MiB);
  assert.equal(parseByteSize('1.5GiB'), 1.5 * GiB);
  assert.equal(parseByteSize('4gb'), undefined);
  assert.equal(parseByteSize(''), undefined);
});

test('detectMemoryLimit on this machine reads a real figure', () => {
  const limit = detectMemoryLimit({ env: {} });
  assert.ok(limit.bytes > 256 * MiB, `${limit.bytes} from ${limit.source}`);
});

test("a package under MEMTUNE_TASK_LIMITS' root takes its room there before MEMTUNE_MEMORY_LIMIT; elsewhere, or without the package, the usual order holds", () => {
  const shares = JSON.stringify({
    v: 1,
    root: '/repo',
    from: 'memtune run typecheck -- turbo run typecheck',
    concurrency: 2,
    budget: 800,
    limits: { 'packages/a': 600 },
    default: 400,
  });
  const env = { MEMTUNE_TASK_LIMITS: shares, MEMTUNE_MEMORY_LIMIT: '1000' };
  const inTask = detectMemoryLimit({ env, packageDir: '/repo/packages/a' });
  assert.deepEqual([inTask.bytes, inTask.source], [600, 'task-share']);
  assert.match(inTask.detail, /^MEMTUNE_TASK_LIMITS of "memtune run typecheck -- turbo run typecheck": room beside 1 other task in a 800 B budget$/);
  assert.equal(detectMemoryLimit({ env, packageDir: '/repo/packages/new' }).bytes, 400);
  assert.deepEqual([detectMemoryLimit({ env, packageDir: '/other' }).source, detectMemoryLimit({ env }).source], ['env', 'env']);
  assert.throws(() => detectMemoryLimit({ env: { MEMTUNE_TASK_LIMITS: 'nope' }, packageDir: '/repo' }), /^UsageError: MEMTUNE_TASK_LIMITS: not JSON/);
});
