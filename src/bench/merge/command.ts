import { resolve } from 'node:path';
import { parseCommandArgs } from '../../shared/parse-command-args.js';
import { endQuietlyWhenStdoutCloses } from '../../shared/effects/stdout.js';
import { UsageError, errorCode } from '../../shared/errors.js';
import { comparableBaseline, compareWithBaseline, maxGrowthWithoutBaseline, parseMaxGrowth } from '../baseline.js';
import { DEFAULT_OPTIONS } from '../journal.js';
import { mergeReports } from '../merge.js';
import { readMergeInput } from '../effects/merge-inputs.js';
import { ensureWritable, readBaseline, refusePseudoFilesystem, shownPath, writeReport } from '../effects/session.js';
import { printOutcome, updateBaseline } from '../command.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  out: { type: 'string' },
  'allow-mixed': { type: 'boolean' },
  'allow-missing-shards': { type: 'boolean' },
  baseline: { type: 'string' },
  'max-growth': { type: 'string' },
  'update-baseline': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const USAGE = [
  'Usage: memtune bench merge <report|dir>... --out DIR [options]',
  '',
  'Merges the reports of shards or of single packages into one report: each input is a memtune-report.json',
  "or a directory holding one (a shard's .memtune). Packages and skipped packages are put together, the",
  'recommendations made again over all of them, the environment and options taken from the first input',
  '(its compilers those of all inputs, its runs the fewest of any).',
  '',
  'Options:',
  '  --out=DIR           where the merged memtune-report.json, .md, .svg and memtune-benchmark.json go (required)',
  '  --allow-mixed       merge reports from different Node majors, or a package measured with different compilers;',
  '                      the merged report lists what differs under merged.mixed and in its notes',
  '  --allow-missing-shards  merge the shard reports of a --shard i/n split with some shards missing; the merged report',
  '                      names them in its notes (without it, a missing shard is refused: its CI job made no report)',
  '  --baseline=FILE     compare with an earlier memtune-report.json as memtune bench --baseline does; exit 1 on a regression',
  '  --max-growth=N%     how much a figure may grow over the baseline (default 10%)',
  "  --update-baseline=FILE  after the merge, write the merged report to FILE as the next baseline (the exit code stays the gate's)",
  '  --json              print the report JSON on stdout instead of the Markdown',
  '',
  'Refuses (exit 2, nothing written): no input, an input that is not a report, one report given twice, two reports',
  'holding the same package (directory, task and variant), two --solution builds, different schema versions, shard',
  'reports of different --shard splits or split by different baselines, and without --allow-missing-shards a shard',
  'of a split missing, without --allow-mixed different Node majors or compilers. Exits 1 when a merged package ran',
  'out of memory, timed out, was killed or crashed, or a figure regressed against --baseline. See docs/bench.md.',
].join('\n');

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true }, 'Run memtune bench merge --help for the options.');
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  endQuietlyWhenStdoutCloses();
  const cwd = process.cwd();
  if (values['max-growth'] !== undefined && values.baseline === undefined) {
    throw maxGrowthWithoutBaseline();
  }
  const maxGrowth = values['max-growth'] === undefined ? DEFAULT_OPTIONS.maxGrowth : parseMaxGrowth(values['max-growth']);
  const inputs = positionals.map((given) => readMergeInput(given, cwd));
  const report = mergeReports(inputs, {
    allowMixed: values['allow-mixed'] === true,
    allowMissingShards: values['allow-missing-shards'] === true,
    generatedAt: new Date().toISOString(),
  });
  if (values.out === undefined) {
    throw new UsageError({ message: 'bench merge needs --out: the directory the merged report goes to.', fix: 'Add e.g. --out .memtune-merged' });
  }
  if (values['update-baseline'] !== undefined && report.variants !== undefined) {
    throw new UsageError({
      message: '--update-baseline cannot take reports of --variant benches: a baseline has one result per package, and these have one per package and variant.',
      fix: 'Drop --update-baseline, or merge the reports of a bench without --variant.',
    });
  }
  if (values.baseline !== undefined) {
    const file = resolve(cwd, values.baseline);
    const shown = shownPath(cwd, file);
    const baseline = readBaseline(file, shown);
    const all = [...report.packages, ...(report.solution ? [report.solution] : [])];
    const warnings = comparableBaseline(baseline, shown, all, { environment: report.environment, runs: report.options.runs });
    for (const warning of warnings) process.stderr.write(`memtune: warning: ${warning}\n`);
    report.baseline = compareWithBaseline(report, baseline, shown, maxGrowth, warnings);
  }
  const out = resolve(cwd, values.out);
  refusePseudoFilesystem(out, values.out);
  ensureWritable(out, values.out);
  writeReport(
    out,
    report,
    (file, error) => new UsageError({ where: shownPath(cwd, file), message: `cannot be written (${errorCode(error)}).`, fix: `Make ${values.out} writable, then merge again.` }),
  );
  const outcome = { report, out, interrupted: false, plannedRuns: 0, finishedRuns: 0, resumeCommand: '' };
  const code = printOutcome(outcome, values.json ? 'json' : 'markdown', cwd, undefined);
  return values['update-baseline'] === undefined ? code : updateBaseline(report, values['update-baseline'], cwd, code);
}
