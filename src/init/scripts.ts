import { quote } from '../shared/errors.js';
import type { Profile, Profiles } from '../shared/profiles.js';
import { formatBytes, toMiB } from '../shared/size.js';
import type { AllowedNodeFlags } from '../run/node-flags.js';
import { REFUSED_REASONS, SIZE_FLAGS, flagKey, formatFlag, heapSizeProblem, isRepeatable, parseHeapSize, splitFlag, tokenizeNodeOptions } from '../run/node-options.js';
import { type ShellToken, type ShellWord, shellTokens } from './shell-line.js';

/** What the effects layer knows about the package a script belongs to. */
export interface ScriptContext {
  profiles: Profiles;
  /** The flags the node that runs the scripts accepts in NODE_OPTIONS. */
  allowed: AllowedNodeFlags;
  /** The package's `tsc` is TypeScript 7 or later: the native compiler, which V8 heap flags do not reach. */
  nativeCompiler?: boolean;
  /** Whether the command (its words, as the rewritten script runs it) runs code that calls `global.gc()`. */
  callsGc?: (command: readonly string[]) => boolean;
  /** `--relative`: fixed heap sizes become a share of this memory limit. */
  relative?: { bytes: number; detail: string };
}

/** A flag that moves into the profile's `.node-options` section. */
export interface CarriedFlag {
  name: string;
  value?: string;
  /** How a fixed size became a share (`--relative`): `4096 MiB is 50% of 8 GiB (cgroup)`. */
  basis?: string;
}

export interface DroppedFlag {
  /** As the script wrote it. */
  flag: string;
  reason: string;
  /** What takes its place: the kept spelling, the profile's own sizing, or nothing. */
  replacement: string;
}

export type ScriptPlan =
  /** Nothing to do (no memory settings, or already `memtune run`): no reason. With a reason: memory settings that no profile fits. */
  | { kind: 'unchanged'; reason?: string }
  /** Memory settings in a line memtune does not take apart: left as it is, listed with the reason. */
  | { kind: 'unparsable'; reason: string }
  | ScriptRewrite;

export interface ScriptRewrite {
  kind: 'rewrite';
  name: string;
  /** The script as it was. */
  original: string;
  profile: string;
  /** Why this profile: `named "build" and runs tsc -b`. */
  why: string;
  /** The new script: `memtune run <profile> -- <command>`, other variables kept in front. */
  script: string;
  flags: CarriedFlag[];
  dropped: DroppedFlag[];
  notes: string[];
}

/** Memory flags: what makes a script worth rewriting, and what moves off a node command line into the profile. */
const MEMORY_FLAGS = new Set([
  ...Object.keys(SIZE_FLAGS),
  ...Object.keys(REFUSED_REASONS).filter((key) => key !== '--trace-gc'),
  '--expose-gc',
  '--heapsnapshot-near-heap-limit',
  '--min-semi-space-size',
  '--max-heap-size',
  '--initial-heap-size',
]);
const MEMORY_FLAG_TEXT =
  /--(?:max|min)[-_](?:old|semi)[-_]space[-_]size|--expose[-_]gc|--optimize[-_]for[-_]size|--gc[-_]interval|--(?:max|initial)[-_]heap[-_]size|--heapsnapshot[-_]near[-_]heap[-_]limit/;
const MEMORY_TEXT = new RegExp(`\\bNODE_OPTIONS\\b|${MEMORY_FLAG_TEXT.source}`);
/** Node options whose value is the next word when written without `=`. */
const NODE_VALUE_FLAGS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--title', '--input-type']);
/** After these, node runs code from the command line or its test runner: no script file follows. */
const NODE_NO_SCRIPT = new Set(['-e', '--eval', '-p', '--print', '--test', '-c', '--check']);
const OPERATOR_NAMES: Record<string, string> = {
  '|': 'a pipeline (|)',
  '&&': 'a chain of commands (&&)',
  '||': 'a chain of commands (||)',
  ';': 'a list of commands (;)',
  '&': 'a background job (&)',
};

const ONLY_ALLOWED = 'only the flags in process.allowedNodeEnvironmentFlags may be there';

/** Why a planning step gave up: the script stays as it is. */
class Unparsable extends Error {}

interface Assignment {
  key: string;
  word: ShellWord;
}

/**
 * How one npm script becomes `memtune run <profile> -- <command>`, its memory flags moved into the profile's
 * `.node-options` section, or why it stays as it is.
 */
export function planScriptRewrite(name: string, script: string, context: ScriptContext): ScriptPlan {
  if (!MEMORY_TEXT.test(script)) return { kind: 'unchanged' };
  const lexed = shellTokens(script);
  if ('problem' in lexed) return { kind: 'unparsable', reason: `${lexed.problem}: memtune rewrites only a single command` };
  try {
    return planCommand(name, script, simpleCommand(lexed.tokens), context);
  } catch (error) {
    if (error instanceof Unparsable) return { kind: 'unparsable', reason: error.message };
    throw error;
  }
}

interface SimpleCommand {
  /** `export` assignments before the command, and the operator that follows them (`;` or `&&`). */
  exported: Assignment[];
  separator: string | undefined;
  /** Assignments the shell makes before the command. */
  shell: Assignment[];
  /** `cross-env` or `env` and the assignments made through it. */
  launcher: { word: ShellWord; assignments: Assignment[] } | undefined;
  command: ShellWord[];
}

/** One command, optionally behind `export NODE_OPTIONS=…;` or `export NODE_OPTIONS=… &&`. */
function simpleCommand(tokens: ShellToken[]): SimpleCommand {
  const segments: ShellWord[][] = [[]];
  const operators: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'word') segments.at(-1)!.push(token);
    else {
      operators.push(token.op);
      segments.push([]);
    }
  }
  if (segments.at(-1)!.length === 0 && operators.at(-1) === ';') {
    segments.pop();
    operators.pop();
  }
  let exported: Assignment[] = [];
  let separator: string | undefined;
  const first = segments[0]!;
  if (segments.length === 2 && first[0]?.raw === 'export' && (operators[0] === ';' || operators[0] === '&&')) {
    exported = first.slice(1).map((word) => {
      const assignment = assignmentOf(word);
      if (!assignment) throw new Unparsable(`export ${quote(word.raw)} is not an assignment`);
      return assignment;
    });
    if (!exported.some((assignment) => assignment.key === 'NODE_OPTIONS')) throw new Unparsable(`${OPERATOR_NAMES[operators[0]!]}: memtune rewrites only a single command`);
    separator = operators[0];
    segments.shift();
    operators.shift();
  }
  if (first[0]?.raw === 'set' && first.some((word) => word.value.startsWith('NODE_OPTIONS='))) {
    throw new Unparsable(
      'set NODE_OPTIONS=… is Windows cmd syntax (under sh, set changes no variable): write memtune run <profile> -- … by hand, which sets the flags on every platform',
    );
  }
  if (operators.length > 0) throw new Unparsable(`${OPERATOR_NAMES[operators[0]!]}: memtune rewrites only a single command, or one behind export NODE_OPTIONS=…;`);
  const words = segments[0]!;
  const shell = leadingAssignments(words);
  let rest = words.slice(shell.length);
  let launcher: SimpleCommand['launcher'];
  const program = rest[0]?.raw;
  if (program === 'cross-env-shell') {
    throw new Unparsable('cross-env-shell runs its command through a shell, and memtune run starts commands without one: rewrite it by hand');
  }
  if (program === 'cross-env' || program === 'env') {
    const assignments = leadingAssignments(rest.slice(1));
    if (program === 'env' && rest[1]?.value.startsWith('-')) throw new Unparsable(`env with options (${rest[1].raw}): memtune rewrites only env NAME=value … command`);
    launcher = { word: rest[0]!, assignments };
    rest = rest.slice(1 + assignments.length);
  }
  // A lone `export` sets variables for the commands after it, and there are none.
  if (rest.length === 0 || rest[0]!.raw === 'export') throw new Unparsable('there is no command after the variables');
  return { exported, separator, shell, launcher, command: rest };
}

function leadingAssignments(words: ShellWord[]): Assignment[] {
  const found: Assignment[] = [];
  for (const word of words) {
    const assignment = assignmentOf(word);
    if (!assignment) break;
    found.push(assignment);
  }
  return found;
}

/** `NAME=value` with NAME written plainly (a quoted name is a command word to the shell). */
function assignmentOf(word: ShellWord): Assignment | undefined {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(word.raw);
  return match ? { key: match[1]!, word } : undefined;
}

/** A flag as the script gave it, and where. */
interface FoundFlag {
  name: string;
  value?: string | undefined;
  text: string;
}

function planCommand(name: string, original: string, parsed: SimpleCommand, context: ScriptContext): ScriptPlan {
  const notes: string[] = [];
  const found: FoundFlag[] = [];
  const all = [...parsed.exported, ...parsed.shell, ...(parsed.launcher?.assignments ?? [])];
  let previous: Assignment | undefined;
  for (const assignment of all.filter((entry) => entry.key === 'NODE_OPTIONS')) {
    // A later NODE_OPTIONS= replaces an earlier one, unless it adds to it with $NODE_OPTIONS.
    if (previous && !assignment.word.vars.includes('NODE_OPTIONS')) {
      notes.push(`${previous.word.raw} is replaced by ${assignment.word.raw} later on the line: the command never saw it, so its flags are not carried.`);
      found.length = 0;
    }
    found.push(...nodeOptionsFlags(assignment.word, 'NODE_OPTIONS=', notes));
    previous = assignment;
  }
  let command = parsed.command;
  const program = command[0]!;
  if (program.vars.length > 0) throw new Unparsable(`the command is a variable (${program.raw}) memtune cannot resolve`);
  if (program.value === 'memtune') {
    if (found.length === 0) return { kind: 'unchanged' };
    throw new Unparsable('NODE_OPTIONS in front of memtune run wins over its profile: move the flags into .node-options by hand');
  }
  if (program.value === 'npx') {
    const inherited = found.length;
    command = npxCommand(command, found, notes);
    if (inherited > 0 && command !== parsed.command)
      throw new Unparsable('NODE_OPTIONS and npx --node-options both: npx replaces the first for the command it runs; rewrite it by hand');
  }
  let commandFlags: FoundFlag[] = [];
  if (program.value === 'node') ({ command, flags: commandFlags } = nodeCommand(command, context.allowed, notes));
  const words = command.map((word) => word.value);
  // Also inside a quoted command (nodemon --exec "node --max-old-space-size=… app.js").
  const left = words[0] === 'node' ? [] : command.slice(1).filter((word) => MEMORY_FLAG_TEXT.test(word.value));
  if (left.length > 0 && found.length === 0 && commandFlags.length === 0) {
    // Nothing would move: memtune run around it would claim a profile that the command's own setting overrides.
    throw new Unparsable(`its memory settings are inside the command (${shown(left)}), which memtune does not take apart: move them into .node-options by hand`);
  }
  if (left.length > 0) {
    notes.push(
      `${shown(left)} stays on the ${command[0]!.raw} command line, as it was: memtune moves only NODE_OPTIONS and node's own flags; where ${command[0]!.raw} hands it to node, it wins over the profile.`,
    );
  }
  const choice = chooseProfile(name, words, context.profiles);
  if (!choice) {
    return {
      kind: 'unchanged',
      reason: `it sets memory flags, but neither its name nor ${quote(shown(command))} says which profile fits (${Object.keys(context.profiles).join(', ')}): rewrite it as memtune run <profile> -- … yourself`,
    };
  }
  const profile = context.profiles[choice.profile]!;
  const { flags, dropped } = classifyFlags([...found, ...commandFlags], words, profile, context);
  const kept = all.filter((entry) => entry.key !== 'NODE_OPTIONS');
  return {
    kind: 'rewrite',
    name,
    original,
    profile: profile.name,
    why: choice.why,
    script: rewrittenScript(parsed, kept, `memtune run ${profile.name} -- ${command.map((word) => word.raw).join(' ')}`),
    flags,
    dropped,
    notes,
  };
}

/**
 * The flags of a `NODE_OPTIONS=…` word (or npx's `--node-options=…`), each as the script spells it; `$NODE_OPTIONS`
 * in it is the inherited value, which memtune run keeps.
 */
function nodeOptionsFlags(word: ShellWord, prefix: string, notes: string[]): FoundFlag[] {
  const others = word.vars.filter((name) => name !== 'NODE_OPTIONS');
  if (others.length > 0) {
    throw new Unparsable(`NODE_OPTIONS uses $${others[0]}, which memtune cannot resolve: a .node-options file has no variables`);
  }
  let text = word.value.slice(prefix.length);
  if (word.vars.length > 0) {
    text = text.replace(/\$\{NODE_OPTIONS\}|\$NODE_OPTIONS/g, ' ');
    notes.push('NODE_OPTIONS added to the inherited NODE_OPTIONS: memtune run keeps that one too, after its .node-options (so it wins).');
  }
  // As node reads NODE_OPTIONS: a word without a dash is the value of the flag before it (--require x).
  const flags: FoundFlag[] = [];
  for (const token of tokenizeNodeOptions(text)) {
    const last = flags.at(-1);
    if (token.startsWith('-') || !last || last.value !== undefined) flags.push({ ...splitFlag(token), text: token });
    else {
      last.value = token;
      last.text += ` ${token}`;
      if (flagKey(last.name) in SIZE_FLAGS) notes.push(spacedSize(last));
    }
  }
  return flags;
}

/** npx's options that take the next word as their value. */
const NPX_VALUE_OPTIONS = new Set(['-p', '--package', '-c', '--call']);

/** `npx --node-options=…` replaces NODE_OPTIONS for the command, the profile's flags with it: they go to the profile instead. */
function npxCommand(command: ShellWord[], found: FoundFlag[], notes: string[]): ShellWord[] {
  const kept: ShellWord[] = [command[0]!];
  const taken: string[] = [];
  let i = 1;
  for (; i < command.length && command[i]!.value.startsWith('-') && command[i]!.value !== '--'; i++) {
    const word = command[i]!;
    if (word.value.startsWith('--node-options=')) {
      found.push(...nodeOptionsFlags(word, '--node-options=', notes));
      taken.push(word.raw);
    } else if (word.value === '--node-options' && i + 1 < command.length) {
      found.push(...nodeOptionsFlags(command[++i]!, '', notes));
      taken.push(`${word.raw} ${command[i]!.raw}`);
    } else {
      kept.push(word);
      if (NPX_VALUE_OPTIONS.has(word.value) && i + 1 < command.length) kept.push(command[++i]!);
    }
  }
  if (taken.length === 0) return command;
  notes.push(`npx ${taken.join(' ')} replaced NODE_OPTIONS for the command, so the profile's flags would not reach it: its flags go to .node-options instead.`);
  return [...kept, ...command.slice(i)];
}

/** Flags that act on the one process they are given to: in NODE_OPTIONS every node process the command starts takes them. */
const PER_PROCESS = /^--(?:inspect|cpu-prof|heap-prof|prof$|title$)/;

/**
 * `node [flags] script …`: memory flags node accepts in NODE_OPTIONS leave the command line for the profile, other
 * flags stay with node. A script in `node_modules/.bin/` (or TypeScript's own `bin/tsc`) becomes that bin, run the
 * way memtune run finds it, when node's other flags can go to the profile as well without acting differently.
 */
function nodeCommand(command: ShellWord[], allowed: AllowedNodeFlags, notes: string[]): { command: ShellWord[]; flags: FoundFlag[] } {
  const flags: FoundFlag[] = [];
  const stays: Array<{ flag: FoundFlag; words: ShellWord[] }> = [];
  let i = 1;
  let noScript = false;
  for (; i < command.length; i++) {
    const word = command[i]!;
    if (!word.value.startsWith('-')) break;
    if (word.vars.length > 0) throw new Unparsable(`node's flag ${word.raw} uses a variable memtune cannot resolve`);
    const flag = splitFlag(word.value);
    const key = flagKey(flag.name);
    const words = [word];
    if (flag.value === undefined && i + 1 < command.length) {
      const next = command[i + 1]!;
      if (NODE_VALUE_FLAGS.has(flag.name) || (key in SIZE_FLAGS && /^\d+%?$/.test(next.value))) {
        words.push(next);
        flag.value = next.value;
        i++;
      }
    }
    const found = { ...flag, text: words.map((entry) => entry.raw).join(' ') };
    if (key in SIZE_FLAGS && words.length > 1) notes.push(spacedSize(found));
    // A flag node refuses in NODE_OPTIONS (--optimize-for-size) works only here: it stays.
    if (MEMORY_FLAGS.has(key) && (allowed.has(flag.name) || key === '--max-old-space-size-percentage')) flags.push(found);
    else stays.push({ flag: found, words });
    if (NODE_NO_SCRIPT.has(key)) {
      noScript = true;
      i++;
      break;
    }
  }
  const script = command[i];
  const bin = script && !noScript ? binOf(script.value) : undefined;
  const held = stays.filter(({ flag }) => !allowed.has(flag.name) || PER_PROCESS.test(flagKey(flag.name)));
  const why = (flag: FoundFlag) =>
    allowed.has(flag.name)
      ? `${flag.text} (in NODE_OPTIONS it would reach every node process the command starts)`
      : `${flag.text} (node ${allowed.version} refuses it in NODE_OPTIONS)`;
  if (bin && held.length > 0) notes.push(`node ${script!.raw} stays as it is, since node's ${held.map(({ flag }) => why(flag)).join(', ')} must stay on its command line.`);
  else
    for (const { flag } of held)
      if (MEMORY_FLAGS.has(flagKey(flag.name))) notes.push(`${flag.text} stays on node's command line: node ${allowed.version} refuses it in NODE_OPTIONS.`);
  if (!script || !bin || held.length > 0) return { command: [command[0]!, ...stays.flatMap(({ words }) => words), ...command.slice(i)], flags };
  flags.push(...stays.map(({ flag }) => flag));
  notes.push(`node ${script.raw} runs as ${bin}, which memtune run finds in node_modules/.bin.`);
  const binWord: ShellWord = { kind: 'word', raw: bin, value: bin, vars: [] };
  return { command: [binWord, ...command.slice(i + 1)], flags };
}

/** V8 takes a size only after `=`: given `--max-old-space-size 4096`, node did not start (exit 9). */
function spacedSize(flag: FoundFlag): string {
  return `node refuses ${flag.text} (a V8 flag takes its value after =, not after a space: the script did not start); carried as ${flag.name}=${flag.value}.`;
}

/** `node_modules/.bin/tsc` and `node_modules/typescript/bin/tsc` are `tsc`. */
function binOf(path: string): string | undefined {
  const match = /^(?:\.\/)?node_modules\/(?:\.bin\/([\w.-]+)|typescript\/bin\/(tsc|tsserver))$/.exec(path);
  return match ? (match[1] ?? match[2]) : undefined;
}

function rewrittenScript(parsed: SimpleCommand, kept: Assignment[], run: string): string {
  const raw = (list: Assignment[]) => list.map((entry) => entry.word.raw);
  const exported = raw(kept.filter((entry) => parsed.exported.includes(entry)));
  const shell = raw(kept.filter((entry) => parsed.shell.includes(entry)));
  const launched = raw(kept.filter((entry) => parsed.launcher?.assignments.includes(entry)));
  // memtune run starts its command without a shell, so variables stay in front of it, set the way they were.
  const line = [...shell, ...(launched.length > 0 ? [parsed.launcher!.word.raw, ...launched] : []), run].join(' ');
  if (exported.length === 0) return line;
  return `export ${exported.join(' ')}${parsed.separator === ';' ? ';' : ' &&'} ${line}`;
}

function shown(command: ShellWord[]): string {
  return command.map((word) => word.raw).join(' ');
}

/** What a command says about its profile; `strong` evidence wins over the script's name, weak evidence does not. */
interface Evidence {
  profile: string;
  what: string;
  strong: boolean;
}

const TEST_RUNNERS = new Set(['vitest', 'jest', 'mocha', 'ava', 'tap', 'c8', 'nyc']);
const COMPILERS = new Set(['tsc', 'tsgo', 'tsc6', 'vue-tsc']);
const BUNDLERS = new Set(['vite', 'webpack', 'rollup', 'esbuild', 'tsup', 'next', 'nest', 'parcel', 'rspack', 'astro', 'nuxt', 'remix', 'svelte-kit']);
const RUNNERS = new Set(['npx', 'bunx']);

function commandEvidence(words: readonly string[]): Evidence | undefined {
  let rest = [...words];
  if (RUNNERS.has(rest[0]!)) {
    rest = rest.slice(1);
    while (rest[0]?.startsWith('-')) rest.shift();
  } else if (['pnpm', 'yarn'].includes(rest[0]!) && rest[1] === 'exec') rest = rest.slice(2);
  const [program = '', ...args] = rest;
  const has = (...names: string[]) => args.some((arg) => names.includes(arg.split('=')[0]!));
  if (COMPILERS.has(program)) {
    if (has('-w', '--watch')) return { profile: 'dev', what: 'a compiler in watch mode', strong: true };
    if (has('--noEmit') && !args.includes('--noEmit=false')) return { profile: 'typecheck', what: 'a type check', strong: true };
    // A plain tsc or tsc -b may emit or check only (noEmit in tsconfig): the name decides when it says.
    return { profile: 'build', what: 'a compiler', strong: false };
  }
  if (TEST_RUNNERS.has(program) || (program === 'node' && has('--test')) || (program === 'playwright' && args[0] === 'test')) {
    return { profile: 'test', what: 'a test runner', strong: true };
  }
  if (has('--watch', '-w') || args[0] === 'watch' || ['nodemon', 'ts-node-dev', 'tsnd'].includes(program)) {
    return { profile: 'dev', what: 'watch mode', strong: true };
  }
  if (BUNDLERS.has(program)) {
    const sub = args.find((arg) => !arg.startsWith('-'));
    if (sub === 'build') return { profile: 'build', what: 'a build', strong: true };
    if (sub === 'dev' || sub === 'serve' || (program === 'vite' && sub === undefined)) return { profile: 'dev', what: 'a dev server', strong: true };
    if (sub === 'start' || sub === 'preview') return { profile: 'start', what: 'a server', strong: true };
    if (['webpack', 'rollup', 'esbuild', 'tsup', 'parcel', 'rspack'].includes(program)) return { profile: 'build', what: 'a bundler', strong: true };
    return undefined;
  }
  if (program === 'node') {
    const at = args.findIndex((arg) => !arg.startsWith('-'));
    const script = args[at];
    // node node_modules/.bin/tsc runs tsc, node node_modules/jest/bin/jest.js jest.
    const bin = binOf(script ?? '') ?? /^(?:\.\/)?node_modules\/(?:@[\w.-]+\/)?([\w.-]+)\/(?:dist\/)?bin\//.exec(script ?? '')?.[1];
    if (bin) return commandEvidence([bin, ...args.slice(at + 1)]);
    if (script && /^(?:\.\/)?(?:dist|build|lib|out)\//.test(script)) return { profile: 'start', what: 'node on built code', strong: false };
  }
  return undefined;
}

const NAME_RULES: Array<[RegExp, string]> = [
  [/^(?:type-?check|types|check-types|tsc:check|check:types?|typecheck:.*|lint:types)$/i, 'typecheck'],
  [/:(?:dev|watch)$/i, 'dev'],
  [/^(?:build|compile)(?::.*)?$/i, 'build'],
  [/^(?:test|tests|e2e)(?::.*)?$/i, 'test'],
  [/^(?:dev|watch)(?::.*)?$/i, 'dev'],
  [/^(?:start|serve|prod)(?::.*)?$/i, 'start'],
];

function nameEvidence(name: string): string | undefined {
  return NAME_RULES.find(([pattern]) => pattern.test(name))?.[1];
}

/** The command says what runs, so it wins over the name, except where it could be either (a plain tsc). */
function chooseProfile(name: string, words: readonly string[], profiles: Profiles): { profile: string; why: string } | undefined {
  const byName = nameEvidence(name);
  const byCommand = commandEvidence(words);
  const named = `named ${quote(name)}`;
  const runs = `runs ${words.join(' ')}`;
  let choice: { profile: string; why: string } | undefined;
  if (byCommand && byName === byCommand.profile) choice = { profile: byName, why: `${named} and ${runs}` };
  else if (byCommand && (byCommand.strong || !byName)) {
    choice = { profile: byCommand.profile, why: `${runs} (${byCommand.what})${byName ? `, which wins over its name (${byName})` : ''}` };
  } else if (byName) choice = { profile: byName, why: byCommand ? `${named}; ${runs}, which could be either` : named };
  return choice && Object.hasOwn(profiles, choice.profile) ? choice : undefined;
}

/**
 * The flags that move into the profile and those that do not, by the rules memtune run applies: node must accept
 * it in NODE_OPTIONS, one value per flag (the last, as node reads them), sizes it can read.
 */
function classifyFlags(found: FoundFlag[], command: readonly string[], profile: Profile, context: ScriptContext): { flags: CarriedFlag[]; dropped: DroppedFlag[] } {
  const dropped: DroppedFlag[] = [];
  const sizing = `nothing: memtune run ${profile.name} sizes the heap from the memory limit (${profile.heap.percent}%)`;
  const native = context.nativeCompiler === true && ['tsc', 'tsgo'].includes(command[0]!);
  const candidates: FoundFlag[] = [];
  for (const flag of found) {
    const key = flagKey(flag.name);
    if (key === '--max-old-space-size-percentage' && flag.value && parseHeapSize(`${flag.value}%`, true)) {
      const replaced = { name: '--max-old-space-size', value: `${flag.value}%`, text: flag.text };
      dropped.push({ flag: flag.text, reason: REFUSED_REASONS[key]!, replacement: `${formatFlag(replaced)}, carried` });
      candidates.push(replaced);
      continue;
    }
    if (!context.allowed.has(flag.name)) {
      const reason = REFUSED_REASONS[key] ?? `node ${context.allowed.version} does not accept it in NODE_OPTIONS (${ONLY_ALLOWED}).`;
      dropped.push({ flag: flag.text, reason: `not allowed in NODE_OPTIONS: ${reason}`, replacement: MEMORY_FLAGS.has(key) ? sizing : 'nothing' });
      continue;
    }
    const sizeProblem = heapSizeProblem(flag.name, flag.value);
    if (sizeProblem) {
      dropped.push({ flag: flag.text, reason: sizeProblem, replacement: sizing });
      continue;
    }
    if (key in SIZE_FLAGS && native) {
      const go = profile.go ? `GOMEMLIMIT, ${profile.go.memlimitPercent}% of the memory limit (the ${profile.name} profile)` : 'nothing';
      dropped.push({ flag: flag.text, reason: `${command[0]} is the native compiler (TypeScript 7): V8 heap flags reach only its small node launcher.`, replacement: go });
      continue;
    }
    if (key === '--expose-gc' && !knownGcCaller(command) && !context.callsGc?.(command)) {
      const snapshot = profile.nodeFlags.some((text) => text.startsWith('--heapsnapshot-near-heap-limit'));
      dropped.push({
        flag: flag.text,
        reason: `global.gc is only for code that calls it; nothing in ${command.join(' ')} does.`,
        replacement: snapshot ? `nothing: the ${profile.name} profile writes a heap snapshot when the heap runs out` : 'nothing',
      });
      continue;
    }
    candidates.push(flag);
  }
  return { flags: oneValueEach(candidates, dropped).map((flag) => carried(flag, context)), dropped };
}

/** jest --logHeapUsage calls gc() before it reads each test file's heap, where --expose-gc gives it one. */
function knownGcCaller(command: readonly string[]): boolean {
  return command.includes('--logHeapUsage') && command.some((word) => /(?:^|\/)jest(?:\.js)?$/.test(word));
}

/** Duplicates dropped: the same value twice (any spelling) keeps the first; two values keep the last, as node does. */
function oneValueEach(flags: FoundFlag[], dropped: DroppedFlag[]): FoundFlag[] {
  const kept: FoundFlag[] = [];
  for (const flag of flags) {
    const key = flagKey(flag.name);
    const same = kept.find((other) => flagKey(other.name) === key && other.value === flag.value);
    if (same) {
      const spelling = same.name === flag.name ? 'given twice' : `the same flag as ${same.text}, in another spelling`;
      dropped.push({ flag: flag.text, reason: `${spelling}.`, replacement: `${same.text}, kept` });
      continue;
    }
    const earlier = isRepeatable(flag.name) ? -1 : kept.findIndex((other) => flagKey(other.name) === key);
    if (earlier >= 0) {
      const before = kept[earlier]!;
      dropped.push({ flag: before.text, reason: `${key} is set twice with different values; node uses the last.`, replacement: `${flag.text}, kept` });
      kept.splice(earlier, 1);
    }
    kept.push(flag);
  }
  return kept;
}

/** With `--relative`, a fixed old-space size becomes the nearest whole percent of the memory limit (1% to 100%). */
function carried(flag: FoundFlag, context: ScriptContext): CarriedFlag {
  // -r becomes --require: the .node-options line reads as what node is given.
  const name = flag.name.startsWith('--') ? flag.name : flagKey(flag.name);
  const result: CarriedFlag = flag.value === undefined ? { name } : { name, value: flag.value };
  const limit = context.relative;
  const size = flag.value === undefined ? undefined : parseHeapSize(flag.value, true);
  if (!limit || !SIZE_FLAGS[flagKey(flag.name)]?.percent || !size || !('mib' in size)) return result;
  const exact = (size.mib / toMiB(limit.bytes)) * 100;
  const percent = Math.min(100, Math.max(1, Math.round(exact)));
  const above = exact > 100 ? ', above the limit: capped' : '';
  return { ...result, value: `${percent}%`, basis: `${size.mib} MiB is ${exact.toFixed(1)}% of the ${formatBytes(limit.bytes)} memory limit (${limit.detail})${above}` };
}
