import type { Problem } from '../shared/errors.js';
import { REFUSED_REASONS, flagKey, type FlagSetting } from './node-options.js';

/** The flags one node binary accepts in NODE_OPTIONS (`process.allowedNodeEnvironmentFlags` of that binary). */
export interface AllowedNodeFlags {
  /** The node binary the set belongs to, for messages. */
  node: string;
  version: string;
  has(flag: string): boolean;
}

export function allowedFlagsOf(node: string, version: string, flags: Iterable<string>): AllowedNodeFlags {
  const set = new Set<string>();
  for (const flag of flags) set.add(flagKey(flag));
  return { node, version, has: (flag) => set.has(flagKey(flag)) };
}

/** One message per flag that the node running the command would refuse in NODE_OPTIONS, naming where it came from and why. */
export function nodeFlagProblems(flags: FlagSetting[], allowed: AllowedNodeFlags): Problem[] {
  const problems: Problem[] = [];
  for (const flag of flags) {
    if (allowed.has(flag.name)) continue;
    const key = flagKey(flag.name);
    const reason = REFUSED_REASONS[key] ?? 'node does not know it, or refuses it there (only the flags in process.allowedNodeEnvironmentFlags may be).';
    problems.push({ where: flag.origin.label, message: `${key} is not allowed in NODE_OPTIONS by node ${allowed.version} (${allowed.node}): ${reason}` });
  }
  return problems;
}
