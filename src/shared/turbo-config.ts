import { parseJsonc } from './jsonc.js';

/**
 * What memtune needs of a parsed turbo.json: whether its tasks see memtune's variables, and a concurrency the user
 * chose there. Pure, so `memtune run` (the warning) and `memtune doctor` (a check) read it the same way.
 */

/** The variables a nested `memtune run` in a turbo task reads from the outer one. */
export const NESTED_RUN_VARS = ['MEMTUNE_TASK_LIMITS', 'MEMTUNE_MEMORY_LIMIT', 'MEMTUNE_NODE_OPTIONS'] as const;

/** The line to add to turbo.json; turbo 2.11 accepts the wildcard in `globalPassThroughEnv`. */
export const PASS_THROUGH_FIX = 'Add "globalPassThroughEnv": ["MEMTUNE_*"] to turbo.json.';

interface TaskConfig {
  env?: unknown;
  passThroughEnv?: unknown;
}

interface TurboConfig {
  envMode?: unknown;
  globalEnv?: unknown;
  globalPassThroughEnv?: unknown;
  concurrency?: unknown;
  tasks?: Record<string, TaskConfig>;
  /** turbo 1.x's name for `tasks`. */
  pipeline?: Record<string, TaskConfig>;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** turbo's env patterns: `*` is any run of characters, `!NAME` takes a name out again. */
function passes(patterns: string[], name: string): boolean {
  const matches = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(name);
  return patterns.some((pattern) => !pattern.startsWith('!') && matches(pattern)) && !patterns.some((pattern) => pattern.startsWith('!') && matches(pattern.slice(1)));
}

/** The task definitions that apply to a task name: `name` itself and `pkg#name`. */
function definitionsOf(config: TurboConfig, task: string): TaskConfig[] {
  const tasks = { ...(config.pipeline ?? {}), ...(config.tasks ?? {}) };
  return Object.entries(tasks)
    .filter(([key]) => key === task || key.endsWith(`#${task}`))
    .map(([, definition]) => (typeof definition === 'object' && definition !== null ? definition : {}));
}

/**
 * The variables of `names` that turbo would not hand to every one of `tasks` (all defined tasks when none are
 * named): in strict env mode (turbo 2's default) only `globalPassThroughEnv`, `globalEnv` and the task's own
 * `passThroughEnv`/`env` get through. Empty in loose mode (`envMode: "loose"` or `--env-mode=loose`).
 */
export function missingPassThrough(config: unknown, options: { tasks?: string[]; names?: readonly string[]; envMode?: string } = {}): string[] {
  const turbo = (typeof config === 'object' && config !== null ? config : {}) as TurboConfig;
  if ((options.envMode ?? turbo.envMode) === 'loose') return [];
  const global = [...strings(turbo.globalPassThroughEnv), ...strings(turbo.globalEnv)];
  const tasks = options.tasks ?? Object.keys({ ...(turbo.pipeline ?? {}), ...(turbo.tasks ?? {}) }).map((key) => key.split('#').pop()!);
  const names = options.names ?? NESTED_RUN_VARS;
  return names.filter((name) => {
    if (passes(global, name)) return false;
    if (tasks.length === 0) return true;
    return tasks.some((task) => {
      const definitions = definitionsOf(turbo, task);
      return definitions.length === 0 || definitions.some((definition) => !passes([...strings(definition.passThroughEnv), ...strings(definition.env)], name));
    });
  });
}

/** `concurrency` in turbo.json (a number or `50%`), or undefined when the file leaves it to turbo. */
export function configuredConcurrency(config: unknown): string | undefined {
  const value = typeof config === 'object' && config !== null ? (config as TurboConfig).concurrency : undefined;
  return typeof value === 'number' || typeof value === 'string' ? String(value) : undefined;
}

/** turbo.json(c) text as turbo reads it: comments and trailing commas allowed. */
export function parseTurboJson(text: string): unknown {
  return parseJsonc(text);
}
