import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globRegExp } from '../../src/shared/glob.js';

test('globs: * stays within a directory, ** crosses them, and a whole ** segment may stand for none', () => {
  const cases: Array<[string, string, boolean]> = [
    ['apps/*', 'apps/api', true],
    ['apps/*', 'apps/api/src', false],
    ['@acme/*', '@acme/ui', true],
    ['packages/**', 'packages/ui/button', true],
    ['packages/**', 'packages', true],
    ['**/api', 'apps/api', true],
    ['**/api', 'api', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/xb', false],
    ['a.b/*', 'axb/c', false],
    ['**', '', true],
    ['ap*', 'apps', true],
  ];
  for (const [glob, path, expected] of cases) assert.equal(globRegExp(glob).test(path), expected, `${glob} ~ ${path}`);
});
