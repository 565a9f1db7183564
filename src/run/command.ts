import { parseCommandArgs } from '../shared/parse-command-args.js';
import { loadProfiles } from '../shared/effects/load-profiles.js';
import { settle } from '../shared/effects/settle.js';
import { UsageError, formatWarning, quote } from '../shared/errors.js';
import { resolveProfile, type Profiles } from '../shared/profiles.js';
import { formatBytes } from '../shared/size.js';
import { prepareRun, startRun } from './effects/session.js';
import type { StartOptions } from './effects/spawn-command.js';
import { formatFlag, parseNodeOptionsEnv, type NodeOptionsFile } from './node-options.js';
import type { ResolvedRun } from './resolve-run.js';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  print: { type: 'boolean' },
  explain: { type: 'boolean' },
  dotenv: { type: 'string', multiple: true },
  'override-env': { type: 'boolean' },
  'node-option': { type: 'string', multiple: true },
  spawn: { type: 'boolean' },
  report: { type: 'string', multiple: true },
} as const;

function usage(profiles: Profiles): string {
  const width = Math.max(...Object.keys(profiles).map((name) => name.length));
  return [
    'Usage: memtune run <profile> [options] -- <command> [args...]',
    '',
    'Starts <command> with NODE_OPTIONS (and GOMEMLIMIT/GOGC for native compilers) sized from the memory limit.',
    '',
    'Profiles:',
    ...Object.values(profiles).map((profile) => `  ${profile.name.padEnd(width)}  ${profile.description}`),
    '',
    'Options:',
    '  --print              print the resolved environment as KEY=VALUE lines and exit 0; nothing is started',
    '  --explain            show where each value comes from (preset, file:line, environment, flag) and exit 0',
    '  --node-option=FLAG   add a Node flag, after every other source (repeatable), e.g. --node-option=--max-old-space-size=70%',
    '  --dotenv=PATH        load variables from a dotenv file after ./.env (repeatable); a missing file is an error',
    '  --override-env       let .env files replace variables already in the environment',
    '  --spawn              stay resident and forward signals even where process.execve could replace memtune',
    '  --report=FILE        for `-- turbo run <tasks>`: a memtune bench report with the peaks to size TURBO_CONCURRENCY from',
    '                       (repeatable; default MEMTUNE_REPORT, else .memtune/memtune-report.json and .memtune/*/memtune-report.json,',
    "                       and each task's package's .memtune/memtune-report.json)",
    '',
    'Merge order, later wins: preset < repo .node-options < package .node-options < NODE_OPTIONS in the environment < --node-option.',
    'MEMTUNE_MEMORY_LIMIT (bytes or 2GiB) overrides the detected memory limit. See docs/run.md.',
  ].join('\n');
}

/**
 * Where a command written without its `--` starts in memtune's own arguments: the first word after the
 * profile that is neither one of memtune's options nor an option's value. -1 when there is none.
 */
function misplacedCommandAt(own: string[]): number {
  let words = 0;
  for (let index = 0; index < own.length; index++) {
    const token = own[index]!;
    if (!token.startsWith('-') || token === '-') {
      if (++words === 2) return index;
      continue;
    }
    const name = token.startsWith('--') ? token.slice(2).split('=')[0]! : undefined;
    const option = name === undefined ? undefined : OPTIONS[name as keyof typeof OPTIONS];
    if (option?.type === 'string' && !token.includes('=')) index++;
  }
  return -1;
}

/** What the caller of `memtune run` hooks into: the bin writes its code cache right before the command starts. */
export type RunHooks = Pick<StartOptions, 'beforeStart'>;

/** `memtune run` as the bin's bundle (src/run/entry.ts) starts it, without cli.ts. */
export function main(argv: string[], hooks: RunHooks = {}): Promise<void> {
  return settle(() => run(argv, hooks));
}

export async function run(argv: string[], hooks: RunHooks = {}): Promise<number> {
  const separator = argv.indexOf('--');
  const own = separator < 0 ? argv : argv.slice(0, separator);
  const command = separator < 0 ? [] : argv.slice(separator + 1);
  const misplaced = misplacedCommandAt(own);
  if (misplaced >= 0) {
    // parseArgs would stop at the command's own options with advice about `--` that does not fit memtune.
    throw new UsageError({
      message: `${quote(own[misplaced]!)} comes before --; the command goes after it.`,
      fix: `Write: memtune run ${[...own.slice(0, misplaced), '--', ...own.slice(misplaced), ...command].join(' ')}`,
    });
  }
  const { values, positionals } = parseCommandArgs(
    { args: own, options: OPTIONS, allowPositionals: true, strict: true },
    'Run memtune run --help for the options; the command and its arguments go after --.',
  );
  const profiles = loadProfiles();
  if (values.help) {
    process.stdout.write(`${usage(profiles)}\n`);
    return 0;
  }
  const [profileName] = positionals;
  if (profileName === undefined) {
    throw new UsageError({ message: `memtune run needs a profile; the profiles are ${Object.keys(profiles).join(', ')}.`, fix: 'Write: memtune run build -- tsc -b' });
  }
  const profile = resolveProfile(profileName, profiles);
  const [commandName] = command;
  const dryRun = values.print === true || values.explain === true;
  if (commandName === undefined && !dryRun) {
    throw new UsageError({
      message: 'no command after --.',
      fix: `Write: memtune run ${profileName} -- <command> [args...], e.g. memtune run ${profileName} -- node dist/main.js`,
    });
  }

  const cliFlags = (values['node-option'] ?? []).flatMap((text) => parseNodeOptionsEnv(text, { kind: 'flag', label: `--node-option=${text}` }));
  const prepared = prepareRun({
    profile,
    profileNames: Object.keys(profiles),
    command,
    cwd: process.cwd(),
    dotenv: values.dotenv ?? [],
    overrideEnv: values['override-env'] === true,
    cliFlags,
    reports: values.report ?? [],
    explain: values.explain === true,
  });
  const { result, limit, files, envOrigins, turbo } = prepared;
  for (const warning of [...result.warnings, ...(turbo?.warnings ?? [])]) process.stderr.write(`${formatWarning(warning)}\n`);
  if (values.report && !turbo) process.stderr.write(`${formatWarning({ where: '--report', message: 'read only for a command that is turbo running tasks; ignored.' })}\n`);

  if (values.explain) {
    process.stdout.write(
      `${explain(result, { profile: profile.name, limit: `${formatBytes(limit.bytes)} from ${limit.detail}`, files, envOrigins, command, turbo: turbo?.explain ?? [] })}\n`,
    );
    return 0;
  }
  if (values.print) {
    // memtune's own variables, then the names .env files set: their values (tokens, passwords) never reach a CI log.
    const own = new Set(result.env.map((setting) => setting.key));
    const lines = [
      ...[...result.env, ...(turbo?.env ?? [])].map((setting) => `${setting.key}=${setting.value}`),
      ...Object.entries(envOrigins)
        .filter(([key]) => !own.has(key))
        .map(([key, file]) => `${key}=<hidden: from ${file}>`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }

  const exit = await startRun(prepared, { execve: values.spawn !== true, notice: (notice) => process.stderr.write(`${formatWarning(notice)}\n`), ...hooks });
  if (exit.error) process.stderr.write(`memtune: ${exit.error}\n`);
  else if (exit.signal) process.stderr.write(`${failure(command, exit.signal, result)}\n`);
  else if (exit.code !== 0)
    process.stderr.write(`memtune: ${quote(command.join(' '))} exited with code ${exit.code} (profile ${profile.name}, NODE_OPTIONS=${exit.nodeOptions}).\n`);
  return exit.code;
}

function failure(command: string[], signal: NodeJS.Signals, result: ResolvedRun): string {
  const hint =
    signal === 'SIGABRT'
      ? `V8 aborts this way when the heap limit (--max-old-space-size=${result.heapMiB}) is reached: raise it in .node-options or measure with memtune bench.`
      : signal === 'SIGKILL'
        ? "SIGKILL usually comes from the system's or the container's out-of-memory killer: the memory limit, not the heap flag, was reached."
        : '';
  return `memtune: ${quote(command.join(' '))} ended by ${signal}.${hint ? `\n${hint}` : ''}`;
}

function explain(
  result: ResolvedRun,
  context: { profile: string; limit: string; files: NodeOptionsFile[]; envOrigins: Record<string, string>; command: string[]; turbo: string[] },
): string {
  const lines = [`profile: ${context.profile}`, `memory limit: ${context.limit}`];
  lines.push(`.node-options read: ${context.files.length > 0 ? context.files.map((file) => file.path).join(', ') : 'none'}`);
  lines.push('NODE_OPTIONS:');
  const width = Math.max(0, ...result.nodeOptions.map((flag) => formatFlag(flag).length));
  for (const flag of result.nodeOptions) lines.push(`  ${formatFlag(flag).padEnd(width)}  ${flag.origin.label}`);
  for (const { flag, by } of result.overridden) lines.push(`  (${formatFlag(flag)} from ${flag.origin.label} replaced by ${by.origin.label})`);
  for (const setting of result.env) {
    if (setting.key !== 'NODE_OPTIONS') lines.push(`${setting.key}=${setting.value}  ${setting.origin.label}`);
  }
  for (const [key, file] of Object.entries(context.envOrigins)) lines.push(`${key}: from ${file}`);
  if (context.command.length > 0) lines.push(`command: ${[...context.command.slice(0, 1), ...result.args].join(' ')}`);
  for (const added of result.addedArgs) lines.push(`  added ${added.arg}: ${added.origin.label} (not added when the command sets it)`);
  lines.push(...context.turbo);
  for (const note of result.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
