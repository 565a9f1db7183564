import { deltaText } from './markdown.js';
import { endedText } from './report.js';
import type { BenchReport, RunStatus } from '../types.js';

/**
 * What a bench tells GitHub Actions: `::error` workflow commands for what failed or regressed, and the step
 * outputs. Pure: command.ts decides where the lines go (stderr, $GITHUB_OUTPUT).
 */

/** The statuses that become an annotation: the compiler did not finish, or could not read the tsconfig. */
export const ANNOTATED_STATUSES: readonly RunStatus[] = ['oom', 'timeout', 'killed', 'crashed', 'config-error'];

/** A workflow command's message, escaped as GitHub's runner reads it back. */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** A workflow command's property value (`file=`, `title=`): also `:` and `,`, which end it. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

export interface Annotation {
  /** Relative to the workspace root, with `/`. */
  file: string;
  message: string;
}

/** `::error file=<file>,title=memtune::<message>`. */
export function errorCommand(annotation: Annotation): string {
  return `::error file=${escapeProperty(annotation.file)},title=memtune::${escapeData(annotation.message)}`;
}

/**
 * The tsconfig a measured task read, relative to the workspace root: the one after `tsc -p` (a project of a
 * solution-style package, e.g. tsconfig.app.json), else the package's tsconfig.json (`--script`, the solution build).
 */
export function tsconfigPath(dir: string, task: string): string {
  const file = /^tsc -p (.+?) --noEmit\b/.exec(task)?.[1] ?? 'tsconfig.json';
  const base = dir.replaceAll('\\', '/').replace(/\/+$/, '');
  return base === '' || base === '.' ? file : `${base}/${file}`;
}

/** One annotation per package (and the solution build) that ended oom, timeout, killed, crashed or config-error, and per regression. */
export function githubAnnotations(report: BenchReport): Annotation[] {
  const results = [...report.packages, ...(report.solution ? [report.solution] : [])];
  const broken = results.filter((pkg) => ANNOTATED_STATUSES.includes(pkg.status)).map((pkg) => ({ file: tsconfigPath(pkg.dir, pkg.task), message: endedText(pkg) }));
  const regressed = (report.baseline?.packages ?? [])
    .filter((pkg) => pkg.deltas.some((delta) => delta.over))
    .map((pkg) => ({
      file: tsconfigPath(pkg.dir, pkg.task),
      message: `${pkg.name} (${pkg.dir}) regressed against ${report.baseline?.file}: ${pkg.deltas
        .filter((delta) => delta.over)
        .map(deltaText)
        .join(', ')}.`,
    }));
  return [...broken, ...regressed];
}

/**
 * One `name=value` line of $GITHUB_OUTPUT; a value with a line break takes GitHub's `name<<DELIMITER` form,
 * with a delimiter the value does not contain.
 */
export function outputLine(name: string, value: string): string {
  if (!/[\r\n]/.test(value)) return `${name}=${value}`;
  let delimiter = 'MEMTUNE_EOF';
  while (value.includes(delimiter)) delimiter += '_';
  return `${name}<<${delimiter}\n${value}\n${delimiter}`;
}

/** The step outputs: the recommended concurrency (empty when there is none), whether a figure regressed, the report's path. */
export function githubOutputs(report: BenchReport, reportPath: string): string[] {
  const regressed = report.baseline?.packages.some((pkg) => pkg.deltas.some((delta) => delta.over)) ?? false;
  return [
    outputLine('concurrency', report.recommendations.concurrency ? String(report.recommendations.concurrency.value) : ''),
    outputLine('regressed', String(regressed)),
    outputLine('report', reportPath),
  ];
}
