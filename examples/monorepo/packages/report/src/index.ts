import { formatBytes, groupBy, mean, padEnd, padStart, percentile, round, sortBy, truncate } from '@example/util';

export interface Measurement {
  readonly package: string;
  readonly task: string;
  readonly peakBytes: number;
  readonly seconds: number;
}

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  readonly align?: 'left' | 'right';
  readonly max?: number;
}

/** Renders rows as a fixed-width text table. */
export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => truncate(column.value(row), column.max ?? 40)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)));
  const render = (line: readonly string[]) =>
    line
      .map((cell, i) => (columns[i]!.align === 'right' ? padStart(cell, widths[i]!) : padEnd(cell, widths[i]!)))
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.header)), render(widths.map((w) => '-'.repeat(w))), ...cells.map(render)].join('\n');
}

/** One line per task: how many packages, the median and the worst peak. */
export function summarize(measurements: readonly Measurement[]): string {
  const byTask = groupBy(measurements, (m) => m.task);
  const rows = sortBy(Object.entries(byTask), ([task]) => task).map(([task, list]) => {
    const peaks = list.map((m) => m.peakBytes);
    const worst = sortBy(list, (m) => -m.peakBytes)[0]!;
    return { task, count: list.length, median: percentile(peaks, 50) ?? 0, worst, seconds: mean(list.map((m) => m.seconds)) ?? 0 };
  });
  return table(rows, [
    { header: 'task', value: (r) => r.task },
    { header: 'packages', value: (r) => String(r.count), align: 'right' },
    { header: 'median peak', value: (r) => formatBytes(r.median), align: 'right' },
    { header: 'worst', value: (r) => `${r.worst.package} (${formatBytes(r.worst.peakBytes)})` },
    { header: 'mean s', value: (r) => round(r.seconds, 1).toFixed(1), align: 'right' },
  ]);
}

export function toMarkdown(measurements: readonly Measurement[]): string {
  const lines = ['| package | task | peak | seconds |', '| --- | --- | ---: | ---: |'];
  for (const m of sortBy(measurements, (x) => `${x.package} ${x.task}`)) {
    lines.push(`| ${m.package} | ${m.task} | ${formatBytes(m.peakBytes)} | ${round(m.seconds, 2)} |`);
  }
  return lines.join('\n');
}
