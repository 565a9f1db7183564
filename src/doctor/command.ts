import { parseCommandArgs } from '../shared/parse-command-args.js';
import { diagnose, type Finding } from './effects/checks.js';
import { allowedFlagsOfThisNode } from '../run/effects/spawn-command.js';
import { loadProfiles } from '../shared/effects/load-profiles.js';
import { endQuietlyWhenStdoutCloses } from '../shared/effects/stdout.js';

const USAGE = [
  'Usage: memtune doctor [--json]',
  '',
  'Checks, without running anything: the Node version against .nvmrc and engines, NODE_OPTIONS already set,',
  '.node-options, the heap of every profile against the memory limit, the TypeScript compilers in the workspace',
  'and tsconfig options that do nothing for CLI builds. Exits 1 when any finding is an error, 2 when there is',
  'no package.json here or above.',
  '',
  'Options:',
  '  --json   print {"ok": boolean, "findings": [{severity, check, message, where?}]} for machines',
].join('\n');

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    { args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true },
    'Run memtune doctor --help for the options.',
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  endQuietlyWhenStdoutCloses();
  // The flags are those of the node running doctor: run doctor with the node your scripts use.
  const findings = await diagnose({ cwd: process.cwd(), env: process.env, nodeVersion: process.version, allowed: allowedFlagsOfThisNode(), profiles: loadProfiles() });
  const ok = !findings.some((finding) => finding.severity === 'error');
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ok, findings }, null, 2)}\n`);
  } else {
    process.stdout.write(`${findings.map(format).join('\n')}\n`);
    const count = (severity: Finding['severity']) => findings.filter((finding) => finding.severity === severity).length;
    process.stdout.write(`\n${count('error')} errors, ${count('warning')} warnings\n`);
  }
  return ok ? 0 : 1;
}

function format(finding: Finding): string {
  const where = finding.where && !finding.message.startsWith(finding.where) ? ` (${finding.where})` : '';
  return `${finding.severity.padEnd(7)} ${finding.check.padEnd(17)} ${finding.message}${where}`;
}
