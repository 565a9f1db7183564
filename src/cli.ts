import { settle } from './shared/effects/settle.js';
import { UsageError } from './shared/errors.js';

/** A command module: parses its own arguments, prints, and returns the exit code. */
export interface Command {
  run(argv: string[]): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

// Loaded on demand, so a command pays only for itself. The bin sends `memtune run` to its bundle (src/run/entry.ts)
// without this file: run starts before every script.
const COMMANDS: Record<string, CommandEntry> = {
  run: { summary: 'run a command with a memory profile: memtune run <profile> -- <command>', load: () => import('./run/command.js') },
  doctor: { summary: 'check Node, .node-options, heap and tsconfig against the machine', load: () => import('./doctor/command.js') },
  bench: { summary: "measure each package's compiler peak heap, retained heap and peak RSS", load: () => import('./bench/command.js') },
  init: {
    summary: 'adopt memtune: hand-made memory flags into profiles, tsconfig presets, turbo and CI wiring (a diff; --write applies)',
    load: () => import('./init/command.js'),
  },
  docker: { summary: 'render the Dockerfile template for this repo', load: () => import('./docker/command.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return ['Usage: memtune <command> [options]', '', 'Commands:', ...lines, '', 'memtune <command> --help shows the options of a command.'].join('\n');
}

export async function main(argv: string[]): Promise<void> {
  await settle(() => dispatch(argv));
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    throw new UsageError({
      message: `unknown command ${JSON.stringify(name)}; the commands are ${Object.keys(COMMANDS).join(', ')}.`,
      fix: 'Run memtune --help to see what each does.',
    });
  }
  const command = await entry.load();
  return command.run(rest);
}
