import { mibText as mib } from '../recommend.js';
import { runnerText } from '../runner-fit.js';
import { shownName } from './report.js';
import type { BaselineComparison, BaselineDelta, BaselineField, BenchReport, DryRun, PackageResult, Spread, SummaryField, VariantSpec, VariantsReport } from '../types.js';
import type { VARIANT_FIELDS } from '../variants.js';
import type { RunnerRecommendation } from '../types.js';
import { formatBytes } from '../../shared/size.js';

const NONE = '—';
const NATIVE = 'n/a (native)';
const DAGGER = '†';

/** Prose text: names come from package.json files, so markup in them must stay text. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

/** A table cell: besides markup, a `|` would end the cell. */
function escapeCell(text: string): string {
  return escapeText(text).replace(/\|/g, '\\|');
}

/** A code span shows its text literally (entities too), so it only needs a fence the text does not contain. */
function code(text: string): string {
  const flat = text.replace(/\r?\n/g, ' ');
  return flat.includes('`') ? `\`\` ${flat} \`\`` : `\`${flat}\``;
}

function grouped(value: number): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

const UNSTEADY = '‡';

/**
 * The median, and with several runs the min–max beside it (the max is what to size for), marked when the runs
 * spread more than ±3 %. `spread: false` shows the median alone.
 */
function figure(result: PackageResult, field: SummaryField, format: (value: number) => string, withSpread = true): string {
  const median = result[field];
  if (median === null) return NONE;
  const spread = result.spread[field];
  if (!withSpread || result.runs.length <= 1 || !spread) return format(median);
  return `${format(median)} (${format(spread.min)}–${format(spread.max)})${spread.unsteady ? ` ${UNSTEADY}` : ''}`;
}

export function statusText(result: PackageResult): string {
  const run = result.runs.find((figures) => figures.status === result.status);
  const signal = run?.signal ?? null;
  const exitCode = result.exitCode ?? run?.exitCode ?? null;
  switch (result.status) {
    case 'failed':
      return exitCode === null ? 'failed' : `failed (exit ${exitCode})`;
    case 'killed':
    case 'crashed':
      if (signal) return `${result.status} (${signal})`;
      return exitCode === null ? result.status : `${result.status} (exit ${exitCode})`;
    default:
      return result.status;
  }
}

function compilerText(result: PackageResult): string {
  return `TS ${result.compiler.version}${result.compiler.native ? ' (native)' : ''}`;
}

function tableRow(result: PackageResult): string {
  const native = result.compiler.native;
  // The native compiler has no V8 heap; its Go heap (peak before a GC, live after) stands in those columns.
  const goHeap = (field: 'goHeapPeakBytes' | 'goHeapLiveBytes', label: string): string => {
    const text = figure(result, field, mib);
    return text === NONE ? NATIVE : `${text} ${label}`;
  };
  const cells = [
    shownName(result),
    compilerText(result),
    statusText(result),
    figure(result, 'peakRssBytes', mib),
    native ? goHeap('goHeapPeakBytes', '(Go)') : figure(result, 'peakHeapUsedBytes', mib),
    native ? goHeap('goHeapLiveBytes', 'live (Go)') : figure(result, 'retainedHeapBytes', mib),
    native ? NATIVE : figure(result, 'heapLimitBytes', mib, false),
    figure(result, 'wallMs', seconds) + (result.parallel ? ` ${DAGGER}` : ''),
    result.diagnostics.files === undefined ? NONE : grouped(result.diagnostics.files),
    result.diagnostics.types === undefined ? NONE : grouped(result.diagnostics.types),
  ];
  return `| ${cells.map(escapeCell).join(' | ')} |`;
}

function environmentLine(report: BenchReport): string {
  const env = report.environment;
  const compilers = env.compilers.map((c) => `${c.version}${c.native ? ' (native)' : ''}`).join(', ');
  const parts = [
    `Node ${env.node} (${env.platform}/${env.arch})`,
    `${env.cpu.count} CPU${env.cpu.count === 1 ? '' : 's'} (${env.cpu.model})`,
    `memory limit ${formatBytes(env.memoryLimit.bytes)} (${env.memoryLimit.source})`,
    `commit ${env.gitCommit ? env.gitCommit.slice(0, 7) : 'none (not a git checkout)'}`,
    `TypeScript ${compilers || 'none found'}`,
  ];
  return escapeText(parts.join(' · '));
}

function optionsLine(report: BenchReport): string {
  const o = report.options;
  const parts = [
    `${o.runs} run${o.runs === 1 ? '' : 's'} per package`,
    `concurrency ${o.concurrency}`,
    `budget ${formatBytes(o.budgetBytes)}`,
    o.script !== null
      ? `script: ${o.script}, run as it is (memtune makes it neither cold nor warm and builds none of its references)`
      : o.warm
        ? 'warm (reusing .tsbuildinfo)'
        : 'cold (build info of its own per run), references built first',
    `timeout ${Math.round(o.timeoutMs / 1000)} s`,
  ];
  return `Options: ${escapeText(parts.join(' · '))}`;
}

function solutionLine(solution: PackageResult): string {
  const parts = [
    statusText(solution),
    `peak RSS ${figure(solution, 'peakRssBytes', mib)}`,
    solution.compiler.native ? `Go heap ${figure(solution, 'goHeapPeakBytes', mib)}` : `peak heap ${figure(solution, 'peakHeapUsedBytes', mib)}`,
    `wall ${figure(solution, 'wallMs', seconds)}`,
    compilerText(solution),
  ];
  return `**Solution build** (${code(solution.task)}): ${escapeText(parts.join(' · '))}`;
}

/** With --profile: the heap each check ran under and where it came from, so an applied setting is seen at work. */
function appliedLines(report: BenchReport): string[] {
  const applied = report.packages.filter((result) => result.applied !== undefined);
  if (applied.length === 0) return [];
  const lines = [`Each check ran under what ${code(`memtune run ${applied[0]!.applied!.profile}`)} gives it in its package:`, ''];
  for (const result of applied) {
    const { heapMiB, heapFrom, env, addedArgs } = result.applied!;
    const settings = result.compiler.native
      ? [...Object.entries(env).map(([key, value]) => `${key}=${value}`), ...addedArgs]
      : heapMiB === null
        ? ['no --max-old-space-size']
        : [`--max-old-space-size=${heapMiB} (${heapFrom})`];
    lines.push(`- ${escapeText(shownName(result))}: ${escapeText(settings.join(', ') || 'nothing')}: ${statusText(result)}`);
  }
  lines.push('');
  return lines;
}

function recommendationLines(report: BenchReport): string[] {
  const advice = report.recommendations;
  const lines: string[] = ['## Recommendations', ''];
  if (advice.heap.length > 0) {
    lines.push('Heap limit per package (`--max-old-space-size`, in MiB):', '');
    for (const line of advice.heap) {
      lines.push(
        `- ${escapeText(line.package)}: ${code(`--max-old-space-size=${line.maxOldSpaceSizeMiB}`)} under ${code(`[${line.section ?? 'its profile'}]`)} (${escapeText(line.basis)})`,
      );
    }
    lines.push(
      '',
      "To apply one, put it under that section of the package's `.node-options`: `memtune run <profile>` then gives the command this heap instead of a share of the machine.",
    );
    lines.push('');
  }
  if (advice.concurrency) {
    lines.push(
      `Concurrency: at most **${advice.concurrency.value}** ${advice.concurrency.value === 1 ? 'compiler' : 'compilers'} at once: ${escapeText(advice.concurrency.basis)}.`,
      '',
    );
  }
  if (advice.notes.length > 0) {
    for (const note of advice.notes) lines.push(`- ${escapeText(note)}`);
    lines.push('');
  }
  if (advice.heap.length === 0 && !advice.concurrency && advice.notes.length === 0) {
    lines.push('None: no package has figures to base one on.', '');
  }
  if (advice.runner) lines.push(...runnerLines(advice.runner));
  return lines;
}

/** `--runner-memory`/`--runner-cpus`: the same recommendations for that runner, with the figures they come from. */
function runnerLines(runner: RunnerRecommendation): string[] {
  const lines = [`### On a runner with ${runnerText(runner)}`, ''];
  lines.push(escapeText(`Budget: ${formatBytes(runner.budgetBytes)} (${runner.budgetBasis}).`), '');
  if (runner.concurrency) {
    const { value, basis } = runner.concurrency;
    lines.push(`Concurrency: at most **${value}** ${value === 1 ? 'compiler' : 'compilers'} at once: ${escapeText(basis)}.`, '');
  }
  if (runner.profiles.length > 0) {
    lines.push('| Profile | `memtune run` heap there | Largest need | Fits |', '| --- | ---: | ---: | --- |');
    for (const line of runner.profiles) {
      const fits = line.fits
        ? 'yes'
        : `no: ${line.raise.map((pkg) => `${code(`--max-old-space-size=${pkg.maxOldSpaceSizeMiB}`)} under ${code(`[${line.profile}]`)} in ${code(`${pkg.dir}/.node-options`)}`).join(', ')}`;
      const cells = [code(line.profile), `${line.heapMiB} MiB (${escapeCell(line.heapBasis)})`, `${line.needMiB} MiB (${escapeCell(line.neededBy)})`, fits];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  for (const note of runner.notes) lines.push(`- ${escapeText(note)}`);
  if (runner.notes.length > 0) lines.push('');
  return lines;
}

const FIELD_LABELS: Record<BaselineField, string> = {
  peakRssBytes: 'peak RSS',
  peakHeapUsedBytes: 'peak heap',
};

function percent(growth: number): string {
  const value = Math.round(growth * 100);
  return `${value > 0 ? '+' : value < 0 ? '−' : '±'}${Math.abs(value)} %`;
}

/** One line per figure that can be compared: `162 → 180 MiB (+11 %)`, marked when it is a regression. */
export function deltaText(delta: BaselineDelta): string {
  const change = `${FIELD_LABELS[delta.field]} ${mib(delta.before).replace(' MiB', '')} → ${mib(delta.after)} (${percent(delta.growth)})`;
  return `${change}, allowed +${mib(delta.allowedBytes)}: ${delta.allowedBy}${delta.over ? ' ⚠' : ''}`;
}

function baselineLines(comparison: BaselineComparison): string[] {
  const commit = comparison.gitCommit ? `commit ${comparison.gitCommit.slice(0, 7)}, ` : '';
  const lines = [
    '## Compared with the baseline',
    '',
    escapeText(
      `${comparison.file} (${commit}generated ${comparison.generatedAt}): a figure regresses when it grows more than ${percent(comparison.maxGrowth)}, more than ${mib(comparison.noiseFloorBytes)} and more than the baseline's own spread (max − min of its runs). ` +
        `${comparison.regressions === 0 ? 'No regressions.' : `${comparison.regressions} package${comparison.regressions === 1 ? '' : 's'} regressed (⚠).`}`,
    ),
    '',
    ...(comparison.warnings ?? []).flatMap((warning) => [`> ⚠ ${escapeText(warning)}`, '']),
    '| Package | Change |',
    '| --- | --- |',
  ];
  for (const pkg of comparison.packages) {
    const parts =
      pkg.state === 'new'
        ? ['new: not in the baseline']
        : pkg.state === 'gone'
          ? ['gone: only in the baseline']
          : pkg.deltas.length === 0
            ? ['not comparable: a run did not finish']
            : pkg.deltas.map(deltaText);
    if (pkg.compilerChange) parts.push(`TypeScript ${pkg.compilerChange}`);
    lines.push(`| ${escapeCell(pkg.name)} | ${escapeCell(parts.join(' · '))} |`);
  }
  lines.push('');
  return lines;
}

const VARIANT_ROWS: Array<{ field: (typeof VARIANT_FIELDS)[number]; label: string; format: (value: number) => string }> = [
  { field: 'peakRssBytes', label: 'peak RSS', format: mib },
  { field: 'peakHeapUsedBytes', label: 'peak heap', format: mib },
  { field: 'goHeapPeakBytes', label: 'Go heap peak', format: mib },
  { field: 'wallMs', label: 'wall', format: seconds },
  { field: 'cpuMs', label: 'CPU', format: seconds },
  { field: 'gcMs', label: 'GC pauses', format: (ms) => `${grouped(ms)} ms` },
];

/** `×0.93 (0.91–0.95)`: the median of the per-run ratios and their spread, marked when they spread more than ±3 %. */
function ratioText(ratio: Spread): string {
  const at = (value: number) => value.toFixed(2);
  return `×${at(ratio.median)} (${at(ratio.min)}–${at(ratio.max)})${ratio.unsteady ? ` ${UNSTEADY}` : ''}`;
}

function variantText(variant: VariantSpec): string {
  return variant.spec.trim() === '' ? 'the packages as they are' : variant.spec;
}

/** --variant: per package, each figure under each variant and its ratio to the first, with the spread of the per-run ratios. */
function variantLines(report: BenchReport, variants: VariantsReport): string[] {
  const [first, ...others] = variants.list;
  if (!first) return [];
  const lines = [
    '## Variants',
    '',
    escapeText(
      `Each figure is the median over a variant's runs; beside it the ratio to ${first.name}: the median (min–max) of run i of the variant over run i of ${first.name}, which ran just before it, so the machine's drift between them is small. ×0.90 is 10 % less; a spread that includes 1.00 is no difference.`,
    ),
    '',
    ...variants.list.map((variant) => `- ${code(variant.name)}: ${escapeText(variantText(variant))}`),
    '',
    `| Package | Figure | ${variants.list.map((variant) => escapeCell(variant.name)).join(' | ')} |`,
    `| --- | --- | ${variants.list.map(() => '---:').join(' | ')} |`,
  ];
  const references = report.packages.filter((result) => result.variant === first.name);
  for (const reference of references) {
    const results = variants.list.map((variant) =>
      report.packages.find((result) => result.variant === variant.name && result.name === reference.name && result.dir === reference.dir),
    );
    const row = (label: string, cells: string[]) => lines.push(`| ${escapeCell(reference.name)} | ${escapeCell(label)} | ${cells.map(escapeCell).join(' | ')} |`);
    row(
      'compiler, status',
      results.map((result) => (result ? `${compilerText(result)}, ${statusText(result)}` : NONE)),
    );
    for (const { field, label, format } of VARIANT_ROWS) {
      if (results.every((result) => result?.[field] == null)) continue;
      row(
        label,
        results.map((result, index) => {
          const value = result?.[field];
          if (value == null) return NONE;
          const comparison = variants.comparisons.find(
            (c) => c.field === field && c.variant === variants.list[index]!.name && c.package === reference.name && c.dir === reference.dir,
          );
          return comparison ? `${format(value)} ${ratioText(comparison.ratio)}` : format(value);
        }),
      );
    }
    for (const [key, label] of [
      ['files', 'files'],
      ['types', 'types'],
    ] as const) {
      if (results.every((result) => result?.diagnostics[key] === undefined)) continue;
      row(
        label,
        results.map((result) => (result?.diagnostics[key] === undefined ? NONE : grouped(result.diagnostics[key]))),
      );
    }
  }
  lines.push('');
  if (others.length > 0 && report.packages.some((result) => result.parallel)) {
    lines.push(
      `${DAGGER} Some runs were measured while other packages ran: their wall and CPU ratios are not clean (--concurrency 1 makes them so); memory figures are each run's own.`,
      '',
    );
  }
  return lines;
}

/** --find-min-heap: each package's search, its probes in the order they ran. */
function minHeapLines(report: BenchReport): string[] {
  const searched = report.packages.filter((result) => result.minHeap !== undefined);
  if (searched.length === 0) return [];
  const lines = [
    '## Smallest heap (`--find-min-heap`)',
    '',
    '| Package | Setting | Smallest that passed | Peak RSS saved | Probes (setting: status, wall) |',
    '| --- | --- | ---: | ---: | --- |',
  ];
  for (const result of searched) {
    const search = result.minHeap!;
    const found = search.bytes !== null ? mib(search.bytes) : search.complete ? 'none up to the peak' : 'unfinished';
    const saved = search.savedRssBytes === null ? NONE : `${search.savedRssBytes < 0 ? '−' : ''}${mib(Math.abs(search.savedRssBytes))}`;
    const probes = search.probes.map((probe) => `${probe.heapMiB} MiB: ${probe.status}, ${seconds(probe.wallMs)}`).join(' · ') || NONE;
    lines.push(`| ${escapeCell(shownName(result))} | ${code(search.setting)} | ${found} | ${saved} | ${escapeCell(probes)} |`);
  }
  lines.push('');
  for (const result of searched) lines.push(`- ${escapeText(shownName(result))}: ${escapeText(result.minHeap!.basis)}`);
  lines.push('');
  return lines;
}

/** What the compiler said in every run that was not ok: its first errors, or why it stopped. */
function messageLines(report: BenchReport): string[] {
  const lines: string[] = [];
  for (const result of [...report.packages, ...(report.solution ? [report.solution] : [])]) {
    const run = result.runs.find((figures) => figures.status === result.status && figures.messages);
    if (result.status === 'ok' || !run?.messages) continue;
    if (lines.length === 0) lines.push('## Messages', '');
    const fence = run.messages.includes('```') ? '~~~~' : '```';
    lines.push(`${escapeText(shownName(result))} (${code(result.task)}), ${escapeText(statusText(result))}:`, '', `${fence}text`, run.messages, fence, '');
  }
  return lines;
}

/**
 * What the figures are taken over: each package's own runs. A bench stopped before all of them (Ctrl-C, then
 * the report of what finished) has packages with fewer runs than asked, and says which.
 */
function runCountLines(report: BenchReport): string[] {
  const results = [...report.packages, ...(report.solution ? [report.solution] : [])];
  const counts = new Set(results.map((result) => result.runs.length));
  const lines: string[] = [];
  if (Math.max(...counts) > 1) {
    lines.push(`Each figure: median (min–max) over ${counts.size === 1 ? `${[...counts][0]} runs` : "the package's runs"}; size for the max.`, '');
  }
  const short = results.filter((result) => result.runs.length < report.options.runs);
  if (short.length > 0) {
    const named = short.map((result) => `${shownName(result)} (${result.runs.length} run${result.runs.length === 1 ? '' : 's'})`).join(', ');
    lines.push(escapeText(`Fewer runs than the ${report.options.runs} asked (the bench stopped before the rest; memtune bench --resume measures them): ${named}.`), '');
  }
  return lines;
}

/** The bench report as a Markdown document for a PR or a job summary. Same report, same text. */
export function renderMarkdownReport(report: BenchReport): string {
  const lines: string[] = ['# memtune bench', '', `Generated ${escapeText(report.generatedAt)} · ${environmentLine(report)}`, '', optionsLine(report), ''];
  if (report.merged) {
    const from = report.merged.from;
    lines.push(`Merged by memtune bench merge from ${from.length} report${from.length === 1 ? '' : 's'}: ${from.map((file) => `\`${file}\``).join(', ')}`, '');
  }
  if (report.packages.length > 0) {
    lines.push(
      '| Package | Compiler | Status | Peak RSS | Peak heap | Retained heap | Heap limit | Wall | Files | Types |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const result of report.packages) lines.push(tableRow(result));
    lines.push('');
    lines.push(...runCountLines(report));
    if (report.packages.some((result) => Object.values(result.spread).some((spread) => spread.unsteady))) {
      lines.push(`${UNSTEADY} the runs spread more than ±3 % around the median: size by the max, and measure with more runs`, '');
    }
    if (report.packages.some((result) => result.parallel)) {
      lines.push(`${DAGGER} measured while other packages ran: timings are not clean`, '');
    }
  } else {
    lines.push('No package was measured.', '');
  }
  if (report.solution) lines.push(solutionLine(report.solution), '');
  if (report.packages.length === 0 && report.solution) lines.push(...runCountLines(report));
  if (report.variants) lines.push(...variantLines(report, report.variants));
  lines.push(...appliedLines(report));
  lines.push(...minHeapLines(report));
  lines.push(...messageLines(report));
  if (report.baseline) lines.push(...baselineLines(report.baseline));
  if (report.skipped.length > 0) {
    lines.push('## Skipped', '');
    for (const skipped of report.skipped) {
      lines.push(`- ${escapeText(skipped.name)} (${code(skipped.dir)}): ${escapeText(skipped.reason)}`);
    }
    lines.push('');
  }
  lines.push(...recommendationLines(report));
  return lines.join('\n').replace(/\n+$/, '\n');
}

/** `memtune bench --dry-run`: what would be measured, with which compiler, task and expected peak. */
export function renderDryRun(plan: DryRun): string {
  const share = plan.shard ? `shard ${plan.shard.index}/${plan.shard.count}: ` : '';
  const runs = `${plan.runs} run${plan.runs === 1 ? '' : 's'} each`;
  const lines = [
    '## memtune bench --dry-run',
    '',
    `${share}${plan.targets.length} to measure, ${runs}; nothing built, measured or written.`,
    '',
    '| Package | Directory | Compiler | Profile | Expected peak RSS | Task |',
    '| --- | --- | --- | --- | ---: | --- |',
    ...plan.targets.map((target) => {
      const name = escapeCell(target.variant === undefined ? target.name : `${target.name} [${target.variant}]`);
      const task = target.unreadable === undefined ? code(target.task) : `not run: ${escapeCell(target.unreadable)}`;
      return `| ${name} | ${code(target.dir)} | ${escapeCell(target.compiler)} | ${target.profile ?? NONE} | ${mib(target.expectedPeakRssBytes)} | ${task} |`;
    }),
  ];
  if (plan.references.length > 0)
    lines.push('', `Brought up to date first with \`tsc -b\`, with what they reference in turn (outside the measurement): ${plan.references.map(code).join(', ')}.`);
  if (plan.skipped.length > 0) lines.push('', 'Skipped:', ...plan.skipped.map((pkg) => `- ${escapeText(pkg.name)} (${code(pkg.dir)}): ${escapeText(pkg.reason)}`));
  return lines.join('\n');
}
