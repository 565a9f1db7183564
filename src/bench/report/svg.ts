import { mibText } from '../recommend.js';
import type { BenchReport, PackageResult, VariantSpec } from '../types.js';
import { MiB, formatBytes } from '../../shared/size.js';

const WIDTH = 840;
const LABEL_RIGHT = 246;
const PLOT_X = 258;
const PLOT_W = 480;
const BAR_H = 10;
const BAR_GAP = 3;
const GROUP_GAP = 16;
const GROUP_H = 3 * BAR_H + 2 * BAR_GAP;
const PLOT_TOP = 92;
const NAME_MAX = 28;

const BARS = [
  { key: 'peakHeapUsedBytes', label: 'Peak heap', className: 'peak-heap', color: '#4e79a7', heap: true },
  { key: 'retainedHeapBytes', label: 'Retained heap', className: 'retained-heap', color: '#a0cbe8', heap: true },
  { key: 'peakRssBytes', label: 'Peak RSS', className: 'peak-rss', color: '#f28e2b', heap: false },
] as const;

/** The native compiler has no V8 heap: its Go heap (peak before a GC, live after) takes the heap bars. */
function barValue(result: PackageResult, bar: (typeof BARS)[number]): { bytes: number | null; suffix: string } {
  if (!bar.heap || !result.compiler.native) return { bytes: result[bar.key], suffix: '' };
  return bar.key === 'peakHeapUsedBytes' ? { bytes: result.goHeapPeakBytes, suffix: ' (Go heap)' } : { bytes: result.goHeapLiveBytes, suffix: ' live (Go heap)' };
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Whole code points, so a cut never splits a surrogate pair. */
function shortened(text: string): string {
  const chars = Array.from(text);
  return chars.length <= NAME_MAX ? text : `${chars.slice(0, NAME_MAX - 1).join('')}…`;
}

function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** A 1/2/5 × 10^n step that gives about five ticks. */
function tickStep(maxMiB: number): number {
  const raw = maxMiB / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5]) if (factor * magnitude >= raw) return factor * magnitude;
  return 10 * magnitude;
}

interface Group {
  label: string;
  title: string;
  detail: string;
  result: PackageResult;
  solution: boolean;
}

function bySizeDescending(a: PackageResult, b: PackageResult): number {
  const left = a.peakRssBytes ?? -1;
  const right = b.peakRssBytes ?? -1;
  if (left !== right) return right - left;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function detailText(result: PackageResult): string {
  const compiler = `TS ${result.compiler.version}${result.compiler.native ? ' (native)' : ''}`;
  return result.status === 'ok' ? compiler : `${compiler} · ${result.status}`;
}

function groupsOf(report: BenchReport): Group[] {
  const groups: Group[] = [...report.packages].sort(bySizeDescending).map((result) => ({
    label: shortened(result.name),
    title: `${result.name} (${result.dir})`,
    detail: detailText(result),
    result,
    solution: false,
  }));
  if (report.solution) {
    groups.push({
      label: 'Solution build',
      title: report.solution.task,
      detail: detailText(report.solution),
      result: report.solution,
      solution: true,
    });
  }
  return groups;
}

function groupLines(group: Group, top: number, axisMaxMiB: number): string[] {
  const { result } = group;
  const middle = top + GROUP_H / 2;
  const lines = [`<g class="package">`, `<title>${escapeXml(group.title)}</title>`];
  if (group.solution) {
    lines.push(`<line x1="16" y1="${px(top - GROUP_GAP / 2)}" x2="${WIDTH - 16}" y2="${px(top - GROUP_GAP / 2)}" stroke="#999999" stroke-dasharray="4 3"/>`);
  }
  lines.push(
    `<text x="${LABEL_RIGHT}" y="${px(middle - 2)}" text-anchor="end" font-size="12" font-weight="bold" fill="#222222">${escapeXml(group.label)}</text>`,
    `<text x="${LABEL_RIGHT}" y="${px(middle + 11)}" text-anchor="end" font-size="10" fill="#666666">${escapeXml(group.detail)}</text>`,
  );
  BARS.forEach((bar, index) => {
    const y = top + index * (BAR_H + BAR_GAP);
    const textY = px(y + BAR_H - 1);
    const { bytes, suffix } = barValue(result, bar);
    if (bytes === null && bar.heap && result.compiler.native) {
      lines.push(`<text x="${PLOT_X + 4}" y="${textY}" font-size="10" font-style="italic" fill="#666666">n/a (native)</text>`);
      return;
    }
    if (bytes === null) {
      lines.push(`<text x="${PLOT_X + 4}" y="${textY}" font-size="10" font-style="italic" fill="#666666">not measured</text>`);
      return;
    }
    const width = (bytes / MiB / axisMaxMiB) * PLOT_W;
    lines.push(
      `<rect class="bar ${bar.className}" x="${PLOT_X}" y="${px(y)}" width="${px(width)}" height="${BAR_H}" fill="${bar.color}"/>`,
      `<text x="${px(PLOT_X + width + 5)}" y="${textY}" font-size="10" fill="#222222">${escapeXml(mibText(bytes) + suffix)}</text>`,
    );
  });
  lines.push('</g>');
  return lines;
}

/** A self-contained chart of the bench report for a README: no scripts, no fonts, no links. */
/** The runs the bars are medians of: each package's own, fewer than asked where the bench was stopped before the rest. */
function runsText(report: BenchReport): string {
  const asked = report.options.runs;
  const counts = [...report.packages, ...(report.solution ? [report.solution] : [])].map((result) => result.runs.length);
  if (counts.length === 0) return `${asked} run${asked === 1 ? '' : 's'} (median)`;
  const low = Math.min(...counts);
  const high = Math.max(...counts);
  return `${low === high ? low : `${low}–${high}`} run${high === 1 ? '' : 's'} (median)${low < asked ? ` of ${asked} asked` : ''}`;
}

export function renderSvgReport(report: BenchReport): string {
  if (report.variants) return renderVariantSvg(report, report.variants.list);
  const groups = groupsOf(report);
  let maxBytes = 0;
  for (const { result } of groups) {
    for (const bar of BARS) {
      maxBytes = Math.max(maxBytes, barValue(result, bar).bytes ?? 0);
    }
  }
  const axis = axisOf(maxBytes);
  const { axisMaxMiB } = axis;
  const plotBottom = PLOT_TOP + Math.max(1, groups.length) * (GROUP_H + GROUP_GAP);
  const height = plotBottom + 44;
  const env = report.environment;
  const subtitle = [
    report.generatedAt,
    `Node ${env.node}`,
    `${env.cpu.count} CPU${env.cpu.count === 1 ? '' : 's'}`,
    `memory limit ${formatBytes(env.memoryLimit.bytes)}`,
    runsText(report),
  ].join(' · ');

  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" role="img">`,
    '<title>memtune bench: peak memory per package</title>',
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="28" font-size="16" font-weight="bold" fill="#222222">memtune bench: peak memory per package</text>`,
    `<text x="16" y="47" font-size="11" fill="#666666">${escapeXml(subtitle)}</text>`,
  ];
  BARS.forEach((bar, index) => {
    const x = PLOT_X + index * 130;
    lines.push(`<rect x="${x}" y="62" width="12" height="12" fill="${bar.color}"/>`, `<text x="${x + 17}" y="72" font-size="11" fill="#222222">${bar.label}</text>`);
  });
  lines.push(...axisLines(axis, PLOT_TOP, plotBottom, 'MiB'));
  if (groups.length === 0) {
    lines.push(`<text x="${PLOT_X + 4}" y="${PLOT_TOP + 20}" font-size="12" fill="#666666">No package was measured.</text>`);
  }
  groups.forEach((group, index) => {
    lines.push(...groupLines(group, PLOT_TOP + GROUP_GAP / 2 + index * (GROUP_H + GROUP_GAP), axisMaxMiB));
  });
  lines.push('</svg>');
  return `${lines.join('\n')}\n`;
}

/** The MiB axis: a round step and a maximum that holds the largest bar. */
function axisOf(maxBytes: number): { step: number; axisMaxMiB: number } {
  const step = maxBytes > 0 ? tickStep(maxBytes / MiB) : 100;
  return { step, axisMaxMiB: Math.max(step, Math.ceil(maxBytes / MiB / step) * step) };
}

/** Grid lines with their tick labels, the axis line and its label. */
function axisLines({ step, axisMaxMiB }: { step: number; axisMaxMiB: number }, plotTop: number, plotBottom: number, label: string): string[] {
  const lines: string[] = [];
  for (let tick = 0; tick <= axisMaxMiB + step / 1e6; tick += step) {
    const x = px(PLOT_X + (tick / axisMaxMiB) * PLOT_W);
    lines.push(
      `<line x1="${x}" y1="${plotTop - 6}" x2="${x}" y2="${plotBottom}" stroke="${tick === 0 ? '#444444' : '#e2e2e2'}"/>`,
      `<text x="${x}" y="${plotBottom + 16}" text-anchor="middle" font-size="10" fill="#444444">${escapeXml(String(Math.round(tick * 100) / 100))}</text>`,
    );
  }
  lines.push(
    `<line x1="${PLOT_X}" y1="${plotBottom}" x2="${PLOT_X + PLOT_W}" y2="${plotBottom}" stroke="#444444"/>`,
    `<text x="${PLOT_X + PLOT_W / 2}" y="${plotBottom + 34}" text-anchor="middle" font-size="11" fill="#444444">${escapeXml(label)}</text>`,
  );
  return lines;
}

/** One colour per variant, in the order given (then again from the start). */
const VARIANT_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

/**
 * With --variant: peak RSS per package, one bar per variant (the figure every compiler has, JS and native
 * alike), grouped per package, each labelled with its ratio to the first variant.
 */
function renderVariantSvg(report: BenchReport, list: VariantSpec[]): string {
  const first = list[0]!.name;
  const packages = report.packages.filter((result) => result.variant === first).sort(bySizeDescending);
  const resultOf = (reference: PackageResult, variant: string) =>
    report.packages.find((result) => result.variant === variant && result.name === reference.name && result.dir === reference.dir);
  const maxBytes = Math.max(0, ...report.packages.map((result) => result.peakRssBytes ?? 0));
  const axis = axisOf(maxBytes);
  const { axisMaxMiB } = axis;
  const groupH = list.length * BAR_H + (list.length - 1) * BAR_GAP;
  const legendRows = Math.ceil(list.length / 4);
  const plotTop = PLOT_TOP + (legendRows - 1) * 18;
  const plotBottom = plotTop + Math.max(1, packages.length) * (groupH + GROUP_GAP);
  const height = plotBottom + 44;
  const env = report.environment;
  const subtitle = [report.generatedAt, `Node ${env.node}`, `${env.cpu.count} CPU${env.cpu.count === 1 ? '' : 's'}`, runsText(report), `ratios to ${first}`].join(' · ');
  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" role="img">`,
    '<title>memtune bench: peak RSS per package and variant</title>',
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="28" font-size="16" font-weight="bold" fill="#222222">memtune bench: peak RSS per package and variant</text>`,
    `<text x="16" y="47" font-size="11" fill="#666666">${escapeXml(subtitle)}</text>`,
  ];
  list.forEach((variant, index) => {
    const x = PLOT_X + (index % 4) * 130;
    const y = 62 + Math.floor(index / 4) * 18;
    lines.push(
      `<rect class="legend" x="${x}" y="${y}" width="12" height="12" fill="${VARIANT_COLORS[index % VARIANT_COLORS.length]}"/>`,
      `<text x="${x + 17}" y="${y + 10}" font-size="11" fill="#222222">${escapeXml(shortened(variant.name))}</text>`,
    );
  });
  lines.push(...axisLines(axis, plotTop, plotBottom, 'peak RSS, MiB'));
  if (packages.length === 0) lines.push(`<text x="${PLOT_X + 4}" y="${plotTop + 20}" font-size="12" fill="#666666">No package was measured.</text>`);
  packages.forEach((reference, row) => {
    const top = plotTop + GROUP_GAP / 2 + row * (groupH + GROUP_GAP);
    lines.push(
      '<g class="package">',
      `<title>${escapeXml(`${reference.name} (${reference.dir})`)}</title>`,
      `<text x="${LABEL_RIGHT}" y="${px(top + groupH / 2 + 4)}" text-anchor="end" font-size="12" font-weight="bold" fill="#222222">${escapeXml(shortened(reference.name))}</text>`,
    );
    list.forEach((variant, index) => {
      const result = resultOf(reference, variant.name);
      const y = top + index * (BAR_H + BAR_GAP);
      const bytes = result?.peakRssBytes ?? null;
      if (bytes === null) {
        lines.push(`<text x="${PLOT_X + 4}" y="${px(y + BAR_H - 1)}" font-size="10" font-style="italic" fill="#666666">${escapeXml(variant.name)}: not measured</text>`);
        return;
      }
      const width = (bytes / MiB / axisMaxMiB) * PLOT_W;
      const ratio = report.variants?.comparisons.find(
        (c) => c.field === 'peakRssBytes' && c.variant === variant.name && c.package === reference.name && c.dir === reference.dir,
      )?.ratio;
      const label = `${mibText(bytes)}${ratio ? ` ×${ratio.median.toFixed(2)}` : ''}${result!.status === 'ok' ? '' : ` · ${result!.status}`}`;
      lines.push(
        `<rect class="bar variant" data-variant="${escapeXml(variant.name)}" x="${PLOT_X}" y="${px(y)}" width="${px(width)}" height="${BAR_H}" fill="${VARIANT_COLORS[index % VARIANT_COLORS.length]}"/>`,
        `<text x="${px(PLOT_X + width + 5)}" y="${px(y + BAR_H - 1)}" font-size="10" fill="#222222">${escapeXml(label)}</text>`,
      );
    });
    lines.push('</g>');
  });
  lines.push('</svg>');
  return `${lines.join('\n')}\n`;
}
