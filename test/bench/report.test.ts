import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recommend } from '../../src/bench/recommend.js';
import { recommendHeapMiB } from '../../src/shared/heap-need.js';
import { renderMarkdownReport } from '../../src/bench/report/markdown.js';
import { renderSvgReport } from '../../src/bench/report/svg.js';
import type { PackageResult } from '../../src/bench/types.js';
import { packageOf as pkg, reportOf, runOf } from './report-fixture.js';

const MiB = 1024 * 1024;
const TS7 = { name: 'typescript', version: '7.0.2', native: true, path: '/x/typescript/bin/tsc' } as const;

function native(name: string, overrides: Partial<PackageResult> = {}): PackageResult {
  return pkg(name, {
    compiler: TS7,
    peakRssBytes: 250 * MiB,
    peakHeapUsedBytes: null,
    retainedHeapBytes: null,
    heapLimitBytes: null,
    goHeapPeakBytes: 90 * MiB,
    goHeapLiveBytes: 60 * MiB,
    ...overrides,
  });
}

/** The Markdown table row of one package, split into its cells (`\|` stays inside a cell). */
function rowCells(markdown: string, name: string): string[] {
  const row = markdown.split('\n').find((line) => line.startsWith(`| ${name} |`) || line.startsWith(`| ${name.replace(/\|/g, '\\|')} |`));
  assert.ok(row, `no table row for ${name} in:\n${markdown}`);
  return row.slice(2, -2).split(/ \| /);
}

test('the Markdown table shows one row per package with sizes in MiB and wall in seconds', () => {
  const md = renderMarkdownReport(reportOf([pkg('app')]));
  assert.ok(md.startsWith('# memtune bench\n'));
  assert.match(md, /\| Package \| Compiler \| Status \| Peak RSS \| Peak heap \| Retained heap \| Heap limit \| Wall \| Files \| Types \|/);
  assert.deepEqual(rowCells(md, 'app'), ['app', 'TS 5.9.3', 'ok', '300 MiB', '200 MiB', '120 MiB', '2048 MiB', '1.23 s', '168', '12,345']);
});

test('the Markdown header names the environment and the options', () => {
  const md = renderMarkdownReport(reportOf([pkg('app')], {}, { warm: true }));
  assert.match(
    md,
    /Generated 2026-11-22T10:00:00\.000Z · Node v20\.20\.2 \(linux\/x64\) · 4 CPUs \(Test CPU\) · memory limit 24 GiB \(cgroup\) · commit 0123456 · TypeScript 5\.9\.3, 7\.0\.2 \(native\)/,
  );
  assert.match(md, /Options: 1 run per package · concurrency 2 · budget 1000 MiB · warm \(reusing \.tsbuildinfo\) · timeout 600 s/);
  assert.match(renderMarkdownReport(reportOf([pkg('app')])), /· cold \(build info of its own per run\), references built first ·/);
  assert.match(
    renderMarkdownReport(reportOf([pkg('app')], {}, { script: 'typecheck' })),
    /· script: typecheck, run as it is \(memtune makes it neither cold nor warm and builds none of its references\) ·/,
  );
});

test("the concurrency comes from checks that finished: a config error's figures are no basis", () => {
  const report = reportOf([pkg('fine', { peakRssBytes: 100 * MiB }), pkg('broken', { status: 'config-error', peakRssBytes: 900 * MiB })]);
  assert.equal(report.recommendations.concurrency?.boundBy, 'fine');
  assert.match(renderMarkdownReport(reportOf([pkg('one', { peakRssBytes: 900 * MiB })])), /at most \*\*1\*\* compiler at once/);
});

test('native packages show their Go heap in the heap columns, n/a for the V8 heap limit', () => {
  const md = renderMarkdownReport(reportOf([native('fast'), native('untraced', { goHeapPeakBytes: null, goHeapLiveBytes: null })]));
  assert.deepEqual(rowCells(md, 'fast').slice(1, 7), ['TS 7.0.2 (native)', 'ok', '250 MiB', '90 MiB (Go)', '60 MiB live (Go)', 'n/a (native)']);
  assert.deepEqual(rowCells(md, 'untraced').slice(4, 7), ['n/a (native)', 'n/a (native)', 'n/a (native)']);
  const solution = renderMarkdownReport(reportOf([], { solution: native('solution', { task: 'tsc -b --force' }) }));
  assert.match(solution, /\*\*Solution build\*\* \(`tsc -b --force`\): ok · peak RSS 250 MiB · Go heap 90 MiB · /);
});

test('a failed package shows its exit code, a killed one its signal', () => {
  const killed = pkg('killed', { status: 'killed', exitCode: null });
  killed.runs = [runOf(killed, { signal: 'SIGKILL' })];
  const md = renderMarkdownReport(reportOf([pkg('broken', { status: 'failed', exitCode: 2 }), killed]));
  assert.equal(rowCells(md, 'broken')[2], 'failed (exit 2)');
  assert.equal(rowCells(md, 'killed')[2], 'killed (SIGKILL)');
});

test('parallel timings get a dagger and a footnote; clean ones do not', () => {
  const md = renderMarkdownReport(reportOf([pkg('crowded', { parallel: true }), pkg('alone')]));
  assert.equal(rowCells(md, 'crowded')[7], '1.23 s †');
  assert.equal(rowCells(md, 'alone')[7], '1.23 s');
  assert.match(md, /^† measured while other packages ran: timings are not clean$/m);
  assert.doesNotMatch(renderMarkdownReport(reportOf([pkg('alone')])), /†/);
});

test('with several runs, peak RSS, peak heap and wall show median (min–max)', () => {
  const spread = {
    peakRssBytes: { median: 300 * MiB, min: 290 * MiB, max: 320 * MiB, unsteady: true },
    peakHeapUsedBytes: { median: 200 * MiB, min: 198 * MiB, max: 204 * MiB, unsteady: false },
    wallMs: { median: 1234, min: 1100, max: 1500, unsteady: false },
  };
  const app = pkg('app', { spread });
  const md = renderMarkdownReport(reportOf([{ ...app, runs: [app.runs[0]!, app.runs[0]!, app.runs[0]!] }], {}, { runs: 3 }));
  const cells = rowCells(md, 'app');
  assert.equal(cells[3], '300 MiB (290 MiB–320 MiB) ‡', 'runs spread more than ±3 %: marked');
  assert.match(md, /^‡ the runs spread more than ±3 % around the median: size by the max/m);
  assert.match(md, /median \(min–max\) over 3 runs; size for the max/);
  assert.equal(cells[4], '200 MiB (198 MiB–204 MiB)');
  assert.equal(cells[5], '120 MiB');
  assert.equal(cells[7], '1.23 s (1.10 s–1.50 s)');
});

test('a package with fewer runs than asked (a bench stopped before the rest) is shown with the runs it has', () => {
  const spread = { peakRssBytes: { median: 300 * MiB, min: 290 * MiB, max: 320 * MiB, unsteady: true } };
  const two = pkg('two', { spread });
  const report = reportOf([{ ...two, runs: [two.runs[0]!, two.runs[0]!] }, pkg('one')], {}, { runs: 2 });
  const md = renderMarkdownReport(report);
  assert.doesNotMatch(md, /over 2 runs/);
  assert.match(md, /^Each figure: median \(min–max\) over the package's runs; size for the max\.$/m);
  assert.match(md, /^Fewer runs than the 2 asked \(the bench stopped before the rest; memtune bench --resume measures them\): one \(1 run\)\.$/m);
  assert.equal(rowCells(md, 'one')[3], '300 MiB', 'one run: no min–max');
  assert.match(renderSvgReport(report), /1–2 runs \(median\) of 2 asked/);
  const none = renderMarkdownReport(reportOf([pkg('one')], {}, { runs: 3 }));
  assert.doesNotMatch(none, /median \(min–max\)/, 'one run each: no median to speak of');
  assert.match(none, /Fewer runs than the 3 asked .*: one \(1 run\)\./);
});

test('package names cannot break the table or inject markup', () => {
  const md = renderMarkdownReport(reportOf([pkg('a|b<c>&d')]));
  assert.deepEqual(rowCells(md, 'a\\|b&lt;c&gt;&amp;d').slice(0, 2), ['a\\|b&lt;c&gt;&amp;d', 'TS 5.9.3']);
  assert.doesNotMatch(md, /<c>/);
});

test('the Markdown lists skipped packages, the solution build and the recommendations', () => {
  const solution = pkg('solution', { dir: '.', task: 'tsc -b --force', peakRssBytes: 1200 * MiB });
  const md = renderMarkdownReport(
    reportOf([pkg('app')], {
      skipped: [{ name: 'docs', dir: 'packages/docs', reason: 'no tsconfig.json' }],
      solution,
    }),
  );
  assert.match(md, /^\*\*Solution build\*\* \(`tsc -b --force`\): ok · peak RSS 1200 MiB · peak heap 200 MiB · wall 1\.23 s · TS 5\.9\.3$/m);
  assert.match(md, /^## Skipped\n\n- docs \(`packages\/docs`\): no tsconfig\.json$/m);
  assert.match(md, /^## Recommendations$/m);
  assert.match(md, /^- app: `--max-old-space-size=256` under `\[typecheck\]` \(peak used heap 200 MiB × 1\.25/m);
  assert.match(md, /^To apply one, put it under that section of the package's `\.node-options`/m);
  assert.match(md, /^Concurrency: at most \*\*1\*\* compiler at once: 300 MiB \(app\) ≤ 1000 MiB budget/m);
  assert.match(md, /solution build \(tsc -b --force\): peak RSS 1200 MiB does not fit the budget of 1000 MiB/);
});

test('the Markdown is the same for the same report', () => {
  const report = reportOf([pkg('app'), native('fast', { parallel: true })], { skipped: [{ name: 'x', dir: 'x', reason: 'r' }] });
  assert.equal(renderMarkdownReport(report), renderMarkdownReport(structuredClone(report)));
});

for (const [peakMiB, heapMiB] of [
  [200, 256],
  [100, 128],
  [1, 128],
  [204.8, 256],
  [205, 320],
  [800, 1024],
] as const) {
  test(`a peak used heap of ${peakMiB} MiB gives --max-old-space-size=${heapMiB}`, () => {
    assert.equal(recommendHeapMiB(peakMiB * MiB), heapMiB);
  });
}

test('the heap recommendation covers the worst run and skips native and unusable packages', () => {
  const advice = recommend(
    reportOf([
      pkg('spread', { peakHeapUsedBytes: 200 * MiB, spread: { peakHeapUsedBytes: { median: 200 * MiB, min: 150 * MiB, max: 260 * MiB, unsteady: false } } }),
      pkg('small', { peakHeapUsedBytes: 100 * MiB }),
      pkg('broken', { status: 'failed', exitCode: 2 }),
      pkg('dead', { status: 'oom', exitCode: null }),
      native('fast'),
    ]),
  );
  assert.deepEqual(
    advice.heap.map((line) => [line.package, line.maxOldSpaceSizeMiB]),
    [
      ['spread', 384],
      ['small', 128],
      ['broken', 256],
    ],
  );
  assert.equal(advice.heap[0]?.basis, 'peak used heap 260 MiB × 1.25, rounded up to a multiple of 64 MiB');
  assert.equal(recommend(reportOf([pkg('tiny', { peakHeapUsedBytes: 40 * MiB })])).heap[0]?.basis, 'peak used heap 40 MiB × 1.25, raised to the 128 MiB floor');
  assert.ok(advice.notes.includes('native TypeScript 7 packages: V8 heap flags do not reach the compiler; their peak RSS counts towards concurrency'));
  assert.ok(advice.notes.some((note) => /^dead ended with status oom: its figures are not a basis; raise the heap .*build profile/.test(note)));
});

test('timeouts point at --timeout', () => {
  const advice = recommend(reportOf([pkg('slow', { status: 'timeout', exitCode: null })]));
  assert.ok(advice.notes.some((note) => note.startsWith('slow ended with status timeout') && note.includes('--timeout')));
});

for (const [budgetMiB, peaksMiB, cores, safe] of [
  [1000, [300, 300, 300, 300], 4, 3],
  [1000, [600, 100, 100, 100], 4, 4],
  [1000, [100, 100], 1, 1],
  [200, [300, 50], 4, 1],
] as const) {
  test(`a budget of ${budgetMiB} MiB with peaks of ${peaksMiB.join(', ')} MiB on ${cores} cores runs ${safe} at once`, () => {
    const packages = peaksMiB.map((mib, index) => (index === 0 ? pkg('big', { peakRssBytes: mib * MiB }) : native(`small${index}`, { peakRssBytes: mib * MiB })));
    const report = reportOf(packages, {}, { budgetBytes: budgetMiB * MiB });
    report.environment.cpu.count = cores;
    const concurrency = recommend(report).concurrency;
    assert.equal(concurrency?.value, safe);
    assert.equal(concurrency?.peakRssBytes, peaksMiB[0] * MiB);
    assert.equal(concurrency?.boundBy, 'big');
    assert.match(concurrency?.basis ?? '', new RegExp(`^${peaksMiB[0]} MiB \\(big\\)`));
  });
}

test('safe concurrency uses the largest run, and is null without any peak RSS', () => {
  const spread = { peakRssBytes: { median: 300 * MiB, min: 280 * MiB, max: 400 * MiB, unsteady: false } };
  const advice = recommend(reportOf([pkg('app', { spread }), pkg('lib', { peakRssBytes: 500 * MiB })]));
  assert.equal(advice.concurrency?.value, 2);
  assert.equal(advice.concurrency?.sumBytes, 900 * MiB);
  assert.equal(recommend(reportOf([pkg('app', { peakRssBytes: null })])).concurrency, null);
  assert.equal(recommend(reportOf([])).concurrency, null);
});

test('the solution build is a note that says whether it fits the budget', () => {
  const fits = recommend(reportOf([], { solution: pkg('solution', { task: 'tsc -b --force', peakRssBytes: 900 * MiB }) }));
  assert.deepEqual(fits.notes, ['solution build (tsc -b --force): peak RSS 900 MiB fits the budget of 1000 MiB.']);
});

// A minimal XML tokenizer: enough to prove the SVG is well-formed without a dependency.
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const token = /<(\/?)([A-Za-z][\w.:-]*)((?:\s+[\w.:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  for (const match of xml.matchAll(token)) {
    const [whole, closing, name, attributes, selfClosing, text, stray] = match;
    assert.equal(stray, undefined, `a stray "<" at ${match.index}: ${xml.slice(match.index, match.index + 40)}`);
    const raw = text ?? attributes ?? '';
    assert.doesNotMatch(raw.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, ''), /&/, `a bare & in ${whole}`);
    if (text !== undefined) {
      assert.ok(stack.length > 0 || text.trim() === '', `text outside the root: ${text}`);
      continue;
    }
    if (name === undefined) continue;
    if (closing) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots += 1;
      stack.push(name);
    } else if (stack.length === 0) {
      roots += 1;
    }
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
}

test('the well-formedness check refuses broken XML', () => {
  assert.throws(() => assertWellFormedXml('<svg><g></svg>'));
  assert.throws(() => assertWellFormedXml('<svg><text>a < b</text></svg>'));
  assert.throws(() => assertWellFormedXml('<svg><text>a & b</text></svg>'));
  assert.throws(() => assertWellFormedXml('<svg></svg><svg></svg>'));
  assertWellFormedXml('<svg a="1"><g><rect/></g><text>a &amp; b</text></svg>');
});

const FULL = reportOf(
  [
    pkg('mid', { peakRssBytes: 300 * MiB, peakHeapUsedBytes: 200 * MiB, retainedHeapBytes: 100 * MiB }),
    native('<native & co>', { peakRssBytes: 250 * MiB }),
    pkg('big', { peakRssBytes: 600 * MiB, peakHeapUsedBytes: 450 * MiB, retainedHeapBytes: 150 * MiB, status: 'failed', exitCode: 2 }),
    pkg('no-rss', { peakRssBytes: null }),
  ],
  { solution: pkg('solution', { task: 'tsc -b --force', peakRssBytes: 700 * MiB }) },
);

test('the SVG is a self-contained, well-formed image', () => {
  const svg = renderSvgReport(FULL);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
  assert.match(svg, /<rect x="0" y="0" width="\d+" height="\d+" fill="#ffffff"\/>/);
  assert.doesNotMatch(svg, /<script|<style|href=|url\(|@import|<foreignObject/i);
  assertWellFormedXml(svg);
  assertWellFormedXml(renderSvgReport(reportOf([])));
  assertWellFormedXml(renderSvgReport(reportOf(Array.from({ length: 40 }, (_, i) => pkg(`p${i}`, { peakRssBytes: (i + 1) * 50 * MiB })))));
});

test('the SVG escapes package names', () => {
  const svg = renderSvgReport(FULL);
  assert.match(svg, />&lt;native &amp; co&gt;</);
  assert.doesNotMatch(svg, /<native/);
});

interface Bar {
  kind: string;
  width: number;
  y: number;
}

function barsOf(svg: string): Bar[][] {
  return svg
    .split('<g class="package">')
    .slice(1)
    .map((group) =>
      [...group.matchAll(/<rect class="bar ([\w-]+)" x="[\d.]+" y="([\d.]+)" width="([\d.]+)"/g)].map((m) => ({ kind: m[1] ?? '', y: Number(m[2]), width: Number(m[3]) })),
    );
}

test('the SVG sorts packages by peak RSS and draws bars proportional to their values, the Go heap for native ones', () => {
  const svg = renderSvgReport(FULL);
  const names = [...svg.matchAll(/font-weight="bold" fill="#222222">([^<]*)<\/text>/g)].map((m) => m[1]).slice(1);
  assert.deepEqual(names, ['big', 'mid', '&lt;native &amp; co&gt;', 'no-rss', 'Solution build']);
  const groups = barsOf(svg);
  assert.deepEqual(
    groups.map((bars) => bars.map((bar) => bar.kind)),
    [
      ['peak-heap', 'retained-heap', 'peak-rss'],
      ['peak-heap', 'retained-heap', 'peak-rss'],
      ['peak-heap', 'retained-heap', 'peak-rss'],
      ['peak-heap', 'retained-heap'],
      ['peak-heap', 'retained-heap', 'peak-rss'],
    ],
  );
  const widthPerMiB = (groups[0]?.[2]?.width ?? 0) / 600;
  const expected = [
    [450, 150, 600],
    [200, 100, 300],
    [90, 60, 250],
    [200, 120],
    [200, 120, 700],
  ];
  for (const [i, bars] of groups.entries()) {
    for (const [j, bar] of bars.entries()) {
      assert.ok(Math.abs(bar.width - (expected[i]?.[j] ?? 0) * widthPerMiB) < 0.02, `${bar.kind} of group ${i}: ${bar.width}`);
    }
  }
  assert.match(svg, />600 MiB<\/text>/);
  assert.match(svg, />90 MiB \(Go heap\)<\/text>/, 'a native package shows its Go heap in the heap bars');
  assert.match(svg, />60 MiB live \(Go heap\)<\/text>/);
  const untraced = renderSvgReport(reportOf([native('untraced', { goHeapPeakBytes: null, goHeapLiveBytes: null })]));
  assert.equal(untraced.match(/>n\/a \(native\)<\/text>/g)?.length, 2);
  assert.match(svg, />not measured<\/text>/);
});

test('the SVG x axis has ticks in MiB up to the largest value', () => {
  const svg = renderSvgReport(FULL);
  const ticks = [...svg.matchAll(/text-anchor="middle" font-size="10" fill="#444444">([\d.]+)<\/text>/g)].map((m) => Number(m[1]));
  assert.deepEqual(ticks, [0, 200, 400, 600, 800]);
  assert.match(svg, />MiB<\/text>/);
});
