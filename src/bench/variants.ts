import { UsageError, quote } from '../shared/errors.js';
import { median } from '../shared/median.js';
import { finished, UNSTEADY_SHARE } from './stats.js';
import type { PackageResult, RunFigures, Spread, SummaryField, VariantComparison, VariantSpec } from './types.js';

/** A variant's name: it goes into file names (the generated tsconfig) and journal keys. */
export const VARIANT_NAME = /^[A-Za-z0-9][\w.-]*$/;

const PARTS = ['tsconfig', 'compiler', 'profile'] as const;
type Part = (typeof PARTS)[number];

const SYNTAX_FIX =
  'Write --variant NAME=SPEC, SPEC empty (the packages as they are) or parts joined by commas: tsconfig:FILE, compiler:typescript@X.Y.Z or compiler:PATH, profile:NAME (e.g. --variant base= --variant nolib=tsconfig:skip-lib-check.json).';

/**
 * `--variant NAME=SPEC` as given, each checked for its syntax only (files, compilers and profiles are looked up
 * later): paths and the compiler stay as written. At least two: one variant has nothing to be compared with.
 */
export function parseVariants(given: readonly string[]): VariantSpec[] {
  const variants = given.map(parseVariant);
  const seen = new Set<string>();
  for (const variant of variants) {
    if (seen.has(variant.name)) {
      throw new UsageError({ where: `--variant ${quote(variant.name)}`, message: 'is given twice: each variant needs a name of its own.', fix: 'Rename one of them.' });
    }
    seen.add(variant.name);
  }
  if (variants.length === 1) {
    throw new UsageError({
      where: `--variant ${quote(given[0]!)}`,
      message: 'is the only variant: a variant is compared with the first one given, so one alone compares nothing.',
      fix: 'Add the configuration to compare with first, e.g. --variant base= (the packages as they are).',
    });
  }
  return variants;
}

function parseVariant(text: string): VariantSpec {
  const where = `--variant ${quote(text)}`;
  const equals = text.indexOf('=');
  if (equals < 0) throw new UsageError({ where, message: 'has no "=": it is NAME=SPEC.', fix: SYNTAX_FIX });
  const name = text.slice(0, equals);
  const spec = text.slice(equals + 1);
  if (!VARIANT_NAME.test(name)) {
    throw new UsageError({
      where,
      message: `${quote(name)} is not a variant name: letters, digits, "_", "." and "-", starting with a letter or digit.`,
      fix: 'Write e.g. --variant ts6=compiler:typescript@6.0.3',
    });
  }
  const parts: Record<Part, string | null> = { tsconfig: null, compiler: null, profile: null };
  if (spec.trim() !== '') {
    for (const raw of spec.split(',')) {
      const part = raw.trim();
      const colon = part.indexOf(':');
      const key = colon < 0 ? part : part.slice(0, colon);
      const value = colon < 0 ? '' : part.slice(colon + 1).trim();
      if (!(PARTS as readonly string[]).includes(key)) {
        throw new UsageError({ where, message: `${quote(part)} is not a part of a variant; the parts are ${PARTS.map((p) => `${p}:`).join(', ')}.`, fix: SYNTAX_FIX });
      }
      if (value === '') throw new UsageError({ where, message: `${quote(part)} names no ${key}.`, fix: SYNTAX_FIX });
      if (parts[key as Part] !== null) throw new UsageError({ where, message: `gives ${key}: twice.`, fix: 'Give each part once.' });
      parts[key as Part] = value;
    }
  }
  return { name, spec, ...parts };
}

/** `typescript@6.0.3`, `@typescript/typescript6@6.0.3`: an installed package by name and exact version; anything else is a path. */
export function compilerByVersion(text: string): { name: string; version: string } | undefined {
  const match = /^((?:@[\w.-]+\/)?[\w.-]+)@(\d+\.\d+\.\d+(?:[-+][\w.+-]*)?)$/.exec(text);
  return match ? { name: match[1]!, version: match[2]! } : undefined;
}

/** The first line of every tsconfig a bench generates: how a later bench knows one a killed bench left behind. */
const GENERATED_MARK = '// memtune bench --variant';

/** Whether a file's text is one a bench wrote (left by a bench that was killed): it may be written over. */
export function isGeneratedConfig(text: string): boolean {
  return text.startsWith(GENERATED_MARK);
}

/**
 * The tsconfig a variant's check runs on, written beside the package's own: `${configDir}` in a shared base
 * and the default `typeRoots` resolve from the directory of the config that is checked, so beside it they
 * mean what they mean for the package. `extends` (an array: TS 5.0 and later) takes the package's tsconfig and
 * then the overlay, whose options win; `references` are not inherited through `extends`, so they are repeated.
 * Paths are relative to the generated file, as `extends` needs them (`./`, `../`).
 */
export function variantConfigText(variant: string, packageConfig: string, overlay: string, references: readonly string[]): string {
  const config = { extends: [packageConfig, overlay], ...(references.length > 0 ? { references: references.map((path) => ({ path })) } : {}) };
  return `${GENERATED_MARK} ${variant}: written for the bench and removed when it ends.\n${JSON.stringify(config, null, 2)}\n`;
}

/** The generated tsconfig's file name beside `tsconfig.app.json`: `tsconfig.app.memtune-variant.NAME.json`. */
export function variantConfigName(tsconfigBase: string, variant: string): string {
  return `${tsconfigBase.replace(/\.json$/, '')}.memtune-variant.${variant}.json`;
}

/**
 * The figures a variant is compared on. Not the retained heap: it depends on where full GCs fall and moved
 * severalfold between runs of an unchanged package, so a ratio of it says nothing about a setting.
 */
export const VARIANT_FIELDS = ['peakRssBytes', 'peakHeapUsedBytes', 'goHeapPeakBytes', 'wallMs', 'cpuMs', 'gcMs'] as const satisfies readonly SummaryField[];

/** median/min/max of ratios, unrounded (spreadOf rounds a median to whole units, right for bytes, wrong for 1.07). */
export function ratioSpread(values: readonly number[]): Spread {
  const middle = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: middle, min, max, unsteady: max - middle > UNSTEADY_SHARE * middle || middle - min > UNSTEADY_SHARE * middle };
}

function pairedRatios(runs: readonly RunFigures[], reference: readonly RunFigures[], field: SummaryField): number[] {
  const ratios: number[] = [];
  for (let index = 0; index < Math.min(runs.length, reference.length); index++) {
    const run = runs[index]!;
    const base = reference[index]!;
    const value = run[field];
    const baseValue = base[field];
    if (!finished(run.status) || !finished(base.status) || value === null || baseValue === null || baseValue <= 0) continue;
    ratios.push(value / baseValue);
  }
  return ratios;
}

/**
 * Each package's figures under every variant after the first against the first: the runs paired in their
 * order (run i of a variant ran right after run i of the first, so the drift of the machine between them is
 * small), one ratio per pair that both finished. A figure neither has, or with no finished pair, is left out.
 */
export function compareVariants(packages: readonly PackageResult[], list: readonly VariantSpec[]): VariantComparison[] {
  const first = list[0]?.name;
  const comparisons: VariantComparison[] = [];
  // Not by task: a variant's profile shows in it (`memtune run build -- tsc …`), and it is still the same package's check.
  const same = (a: PackageResult, b: PackageResult) => a.name === b.name && a.dir === b.dir;
  for (const reference of packages.filter((pkg) => pkg.variant === first)) {
    for (const variant of list.slice(1)) {
      const result = packages.find((pkg) => pkg.variant === variant.name && same(pkg, reference));
      if (!result) continue;
      for (const field of VARIANT_FIELDS) {
        const value = result[field];
        const base = reference[field];
        const ratios = pairedRatios(result.runs, reference.runs, field);
        if (value === null || base === null || ratios.length === 0) continue;
        comparisons.push({ package: result.name, dir: result.dir, variant: variant.name, field, value, reference: base, ratio: ratioSpread(ratios) });
      }
    }
  }
  return comparisons;
}

/** The run order within one package: run i of every variant before run i + 1 of any (A B A B), so machine drift cancels. */
export function interleaved<T extends { run: number }>(jobsPerVariant: readonly T[][]): T[] {
  const runs = [...new Set(jobsPerVariant.flat().map((job) => job.run))].sort((a, b) => a - b);
  return runs.flatMap((run) => jobsPerVariant.flatMap((jobs) => jobs.filter((job) => job.run === run)));
}
