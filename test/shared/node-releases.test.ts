import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTIVE_LTS_MAJOR, NODE_RELEASES, SUPPORTED_MAJORS, hasHeapPercentageFlag, isEndOfLife, supportedMajorsText } from '../../src/shared/node-releases.js';

test('the Node release table says where it comes from and when it was checked', () => {
  assert.match(NODE_RELEASES.source, /nodejs\.org/);
  assert.match(NODE_RELEASES.checked, /^\d{4}-\d{2}-\d{2}$/);
  assert.equal(ACTIVE_LTS_MAJOR, 26);
  assert.deepEqual(SUPPORTED_MAJORS, [22, 24, 26]);
  assert.equal(supportedMajorsText(), '22, 24 or 26');
});

test('end-of-life: every known major that is not an LTS in maintenance or active; newer majors are assumed supported', () => {
  for (const major of [4, 8, 10, 16, 18, 19, 20, 21, 23, 25]) assert.equal(isEndOfLife(major), true, String(major));
  for (const major of [22, 24, 26, 27, 28]) assert.equal(isEndOfLife(major), false, String(major));
});

test('--max-old-space-size-percentage from 24.6 on; a bare major is its newest release', () => {
  const cases: Array<[number, number | undefined, boolean]> = [
    [24, 5, false],
    [24, 6, true],
    [24, undefined, true],
    [22, 21, false],
    [26, 0, true],
    [20, undefined, false],
  ];
  for (const [major, minor, expected] of cases) assert.equal(hasHeapPercentageFlag(major, minor), expected, `${major}.${minor}`);
});
