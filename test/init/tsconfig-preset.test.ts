import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonc } from '../../src/shared/jsonc.js';
import { type PresetFacts, type PresetFile, choosePreset, knownDefaults, presetChanges, presetOptionsOf, withExtends } from '../../src/init/tsconfig-preset.js';
import { readPresetOptions } from '../../src/init/effects/tsconfig-check.js';

const PLAIN: PresetFacts = { extends: [], onlyReferences: false, composite: false, noEmit: false, referencedBy: [], nodeTypes: false };

test('choosePreset picks the preset from the facts, node last beside library or check', () => {
  const table: Array<[Partial<PresetFacts>, string | null, string[] | undefined]> = [
    [{ onlyReferences: true, nodeTypes: true }, 'solution', ['memtune/tsconfig/solution.json']],
    [{ composite: true, referencedBy: ['tsconfig.json'] }, 'library', ['memtune/tsconfig/library.json']],
    [{ composite: true, referencedBy: ['apps/web/tsconfig.json'], nodeTypes: true }, 'library', ['memtune/tsconfig/library.json', 'memtune/tsconfig/node.json']],
    [{ referencedBy: ['apps/web/tsconfig.json'] }, 'library', ['memtune/tsconfig/library.json']],
    [{ composite: true }, 'library', ['memtune/tsconfig/library.json']],
    [{ noEmit: true }, 'check', ['memtune/tsconfig/check.json']],
    [{ noEmit: true, nodeTypes: true }, 'check', ['memtune/tsconfig/check.json', 'memtune/tsconfig/node.json']],
    [{ nodeTypes: true }, 'node', ['memtune/tsconfig/node.json']],
    [{}, null, undefined],
    [{ extends: ['./base.json', 'memtune/tsconfig/check.json'], noEmit: true }, null, undefined],
  ];
  for (const [facts, preset, specifiers] of table) {
    const choice = choosePreset({ ...PLAIN, ...facts });
    assert.equal(choice.preset, preset, JSON.stringify(facts));
    assert.deepEqual(choice.preset === null ? undefined : choice.extends, specifiers, JSON.stringify(facts));
    assert.ok(choice.why.length > 0);
  }
});

test('choosePreset says why: the referencing project, noEmit, an existing memtune preset', () => {
  assert.match(choosePreset({ ...PLAIN, composite: true, referencedBy: ['apps/web/tsconfig.json'] }).why, /composite and referenced by apps\/web\/tsconfig\.json/);
  assert.match(choosePreset({ ...PLAIN, noEmit: true }).why, /noEmit/);
  assert.equal(choosePreset({ ...PLAIN, extends: ['memtune/tsconfig/library.json'] }).why, 'already extends memtune/tsconfig/library.json');
  assert.match(choosePreset(PLAIN).why, /base\.json/);
});

test('presetOptionsOf merges presets as an extends array does: base first, the later preset winning', () => {
  const files: Record<string, PresetFile> = {
    base: { compilerOptions: { strict: true, types: [] } },
    library: { extends: './base.json', compilerOptions: { composite: true } },
    node: { extends: './base.json', compilerOptions: { types: ['node'] } },
  };
  const read = (name: string): PresetFile => files[name]!;
  assert.deepEqual(presetOptionsOf(['memtune/tsconfig/library.json', 'memtune/tsconfig/node.json'], read), { strict: true, types: ['node'], composite: true });
  assert.deepEqual(presetOptionsOf(['memtune/tsconfig/node.json', 'memtune/tsconfig/library.json'], read).types, []);
});

test('readPresetOptions reads the shipped presets: library + node has composite and Node types over base', () => {
  const merged = readPresetOptions(['memtune/tsconfig/library.json', 'memtune/tsconfig/node.json']);
  assert.deepEqual(merged.types, ['node']);
  assert.equal(merged.composite, true);
  assert.equal(merged.noUncheckedIndexedAccess, true);
  assert.equal(readPresetOptions(['memtune/tsconfig/check.json']).noEmit, true);
});

test('presetChanges lists what the preset sets, the package does not, and whose effective value differs', () => {
  const preset = { strict: true, noUncheckedIndexedAccess: true, target: 'es2023', outDir: '${configDir}/dist', skipLibCheck: true, types: [] };
  const own = { skipLibCheck: false };
  const shown = { strict: true, skipLibCheck: false, outDir: './dist', target: 'ES2020' };
  assert.deepEqual(presetChanges(preset, own, shown, knownDefaults('5.9.3')), [
    { option: 'noUncheckedIndexedAccess', before: false, after: true },
    { option: 'target', before: 'ES2020', after: 'es2023' },
    { option: 'types', before: undefined, after: [] },
  ]);
  // TS 6 and 7 already default types to []: no change there.
  assert.deepEqual(
    presetChanges(preset, own, shown, knownDefaults('7.0.2')).map((change) => change.option),
    ['noUncheckedIndexedAccess', 'target'],
  );
  assert.deepEqual(presetChanges({ strict: true }, {}, {}, knownDefaults('6.0.3')), []);
  assert.deepEqual(presetChanges({ strict: true }, {}, {}, knownDefaults('5.9.3')), [{ option: 'strict', before: false, after: true }]);
});

test('withExtends adds extends first (after $schema), keeping comments, trailing commas and indentation', () => {
  const table: Array<[string, string[], string]> = [
    [
      '{\n  // my app\n  "compilerOptions": {\n    "strict": true, // why\n  },\n}\n',
      ['memtune/tsconfig/check.json'],
      '{\n  "extends": "memtune/tsconfig/check.json",\n  // my app\n  "compilerOptions": {\n    "strict": true, // why\n  },\n}\n',
    ],
    [
      '{\n    "$schema": "https://json.schemastore.org/tsconfig",\n    "include": ["src"]\n}\n',
      ['memtune/tsconfig/library.json', 'memtune/tsconfig/node.json'],
      '{\n    "$schema": "https://json.schemastore.org/tsconfig",\n    "extends": ["memtune/tsconfig/library.json", "memtune/tsconfig/node.json"],\n    "include": ["src"]\n}\n',
    ],
    ['{\n\t"include": ["src"]\n}\n', ['memtune/tsconfig/node.json'], '{\n\t"extends": "memtune/tsconfig/node.json",\n\t"include": ["src"]\n}\n'],
    ['{"compilerOptions":{"strict":true}}', ['memtune/tsconfig/check.json'], '{"extends": "memtune/tsconfig/check.json","compilerOptions":{"strict":true}}'],
    ['{\r\n  "include": ["src"]\r\n}\r\n', ['memtune/tsconfig/node.json'], '{\r\n  "extends": "memtune/tsconfig/node.json",\r\n  "include": ["src"]\r\n}\r\n'],
  ];
  for (const [text, specifiers, expected] of table) {
    const edit = withExtends(text, specifiers, '5.9.3');
    assert.deepEqual(edit, { text: expected });
  }
});

test('withExtends puts the presets before an existing extends, so the package base keeps precedence', () => {
  assert.deepEqual(withExtends('{\n  "extends": "./tsconfig.base.json", /* shared */\n  "include": ["src"]\n}\n', ['memtune/tsconfig/check.json'], '7.0.2'), {
    text: '{\n  "extends": ["memtune/tsconfig/check.json", "./tsconfig.base.json"], /* shared */\n  "include": ["src"]\n}\n',
  });
  assert.deepEqual(withExtends('{ "extends": ["./a.json", "./b.json"] }', ['memtune/tsconfig/node.json'], '6.0.3'), {
    text: '{ "extends": ["memtune/tsconfig/node.json", "./a.json", "./b.json"] }',
  });
  assert.deepEqual(withExtends('{\n  "extends": [\n    "./a.json", // first\n    "./b.json"\n  ]\n}\n', ['memtune/tsconfig/library.json', 'memtune/tsconfig/node.json'], '5.9.3'), {
    text: '{\n  "extends": [\n    "memtune/tsconfig/library.json",\n    "memtune/tsconfig/node.json",\n    "./a.json", // first\n    "./b.json"\n  ]\n}\n',
  });
});

test('withExtends refuses compilers older than 5.5 with the reason, and throws a SyntaxError on broken JSONC', () => {
  const refused = withExtends('{\n  "extends": "./base.json"\n}\n', ['memtune/tsconfig/check.json'], '4.9.5');
  assert.ok('refused' in refused);
  assert.match(refused.refused, /^TypeScript 4\.9\.5: .*\$\{configDir\} \(TypeScript 5\.5\+\).*extends array \(TypeScript 5\.0\+\)/);
  const single = withExtends('{}', ['memtune/tsconfig/check.json'], '5.4.5');
  assert.ok('refused' in single && !single.refused.includes('array'));
  assert.ok('text' in withExtends('{}', ['memtune/tsconfig/check.json'], '5.5.0'));
  assert.throws(() => withExtends('{ "compilerOptions": { "strict": true }', ['memtune/tsconfig/check.json'], '5.9.3'), SyntaxError);
});

test('the text withExtends writes parses to the config with the preset added and every option kept', () => {
  const text = '{\n  // c\n  "extends": "./base.json",\n  "compilerOptions": { "strict": false },\n}\n';
  const edit = withExtends(text, ['memtune/tsconfig/check.json', 'memtune/tsconfig/node.json'], '5.9.3');
  assert.ok('text' in edit);
  assert.deepEqual(parseJsonc(edit.text), { extends: ['memtune/tsconfig/check.json', 'memtune/tsconfig/node.json', './base.json'], compilerOptions: { strict: false } });
});
