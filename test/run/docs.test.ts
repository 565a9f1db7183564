import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadProfiles } from '../../src/shared/effects/load-profiles.js';
import { REPO } from '../helpers.js';

test('docs/run.md has a table row for every profile that matches its data', () => {
  const doc = readFileSync(join(REPO, 'docs', 'run.md'), 'utf8');
  for (const profile of Object.values(loadProfiles())) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${profile.name}\` |`));
    assert.ok(row, `no row for ${profile.name}`);
    const cells = row.split('|').map((cell) => cell.trim());
    assert.equal(cells[2], `${profile.heap.percent}%`, profile.name);
    const bound = (mib: number | null) => (mib === null ? 'none' : String(mib));
    assert.ok(cells[3]!.startsWith(`${bound(profile.heap.minMiB)} `) && cells[3]!.includes(`/ ${bound(profile.heap.maxMiB)}`), `${profile.name}: ${cells[3]}`);
    for (const flag of profile.nodeFlags) assert.ok(cells[4]!.includes(flag), `${profile.name}: ${flag}`);
    if (profile.go) assert.ok(cells[5]!.includes(`GOMEMLIMIT ${profile.go.memlimitPercent}%`), `${profile.name}: ${cells[5]}`);
    else assert.equal(cells[5], 'none');
  }
});
