import { UsageError, quote } from './errors.js';
import { MiB, formatBytes, percentOfMiB } from './size.js';

export interface HeapRule {
  percent: number;
  minMiB: number | null;
  maxMiB: number | null;
}

export interface StepRule {
  /** Applies when the memory limit is below this many MiB; the first matching row wins. */
  belowMiB: number;
  value: number;
}

export interface Profile {
  name: string;
  description: string;
  heap: HeapRule;
  /** Further Node flags, written as in `.node-options`. */
  nodeFlags: string[];
  go: { memlimitPercent: number; gogc: number | null } | null;
  tsc: { checkers?: StepRule[]; builders?: StepRule[] } | null;
}

export type Profiles = Record<string, Profile>;

/** Checks the shape of the profile data, so a bad edit fails at load with the profile named. */
export function parseProfiles(data: Record<string, unknown>, where: string): Profiles {
  const profiles: Profiles = {};
  for (const [name, raw] of Object.entries(data)) {
    if (name.startsWith('$')) continue;
    const fail = (what: string): never => {
      throw new UsageError({ where, message: `profile ${quote(name)} ${what}.`, fix: 'Fix the profile: memtune checks profiles.json when it starts.' });
    };
    if (typeof raw !== 'object' || raw === null) fail('is not an object');
    const value = raw as Partial<Profile>;
    if (typeof value.description !== 'string' || value.description === '') fail('needs a description');
    const heap = value.heap;
    if (!heap || !(heap.percent > 0 && heap.percent <= 100)) fail('heap.percent must be in 1..100');
    if (heap!.minMiB !== null && heap!.maxMiB !== null && heap!.minMiB > heap!.maxMiB) fail('heap.minMiB is above heap.maxMiB');
    if (!Array.isArray(value.nodeFlags)) fail('nodeFlags must be an array');
    profiles[name] = {
      name,
      description: value.description!,
      heap: heap!,
      nodeFlags: value.nodeFlags!,
      go: value.go ?? null,
      tsc: value.tsc ?? null,
    };
  }
  return profiles;
}

export function resolveProfile(name: string, profiles: Profiles): Profile {
  const profile = Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (!profile) {
    throw new UsageError({
      message: `unknown profile ${quote(name)}; the profiles are ${Object.keys(profiles).join(', ')}.`,
      fix: 'Run memtune run --help to see what each is for.',
    });
  }
  return profile;
}

/** The heap (MiB) a profile gives for a memory limit: its share, held between its floor and ceiling. */
export function profileHeapMiB(rule: HeapRule, limitBytes: number): number {
  let mib = percentOfMiB(limitBytes, rule.percent);
  if (rule.minMiB !== null) mib = Math.max(mib, rule.minMiB);
  if (rule.maxMiB !== null) mib = Math.min(mib, rule.maxMiB);
  return mib;
}

/** Why `profileHeapMiB` gives what it gives: `50% of 7.0 GiB (floor 256 MiB, ceiling 16384 MiB)`. */
export function profileHeapBasis(rule: HeapRule, limitBytes: number): string {
  const bounds = [rule.minMiB !== null ? `floor ${rule.minMiB} MiB` : '', rule.maxMiB !== null ? `ceiling ${rule.maxMiB} MiB` : ''].filter(Boolean).join(', ');
  return `${rule.percent}% of ${formatBytes(limitBytes)}${bounds ? ` (${bounds})` : ''}`;
}

export function stepValue(rules: StepRule[] | undefined, limitBytes: number): StepRule | undefined {
  const mib = limitBytes / MiB;
  return rules?.find((rule) => mib < rule.belowMiB);
}
