import { UsageError, quote } from './errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const BINARY_UNITS: Record<string, number> = { b: 1, kib: KiB, mib: MiB, gib: GiB, tib: 1024 * GiB };

/** A non-negative decimal as users write sizes and shares: `512`, `1.5`. */
const NUMBER = String.raw`\d+(?:\.\d+)?`;
const SIZE = new RegExp(String.raw`^\s*(${NUMBER})\s*([a-z]*)\s*$`, 'i');
const PERCENT = new RegExp(String.raw`^\s*(${NUMBER})\s*%\s*$`);
const PERCENT_SIGN_OPTIONAL = new RegExp(String.raw`^\s*(${NUMBER})\s*%?\s*$`);

/**
 * Parses a byte count written as plain bytes (`2147483648`) or with a binary unit (`2GiB`, `512MiB`).
 * Decimal units (`2GB`) are refused on purpose: users mean different things by them.
 * Returns undefined when the text is not a size; callers build the message that names their input.
 */
export function parseByteSize(text: string): number | undefined {
  const size = readByteSize(text);
  return typeof size === 'number' ? size : undefined;
}

/** The byte count, or why the text is not one: a size above 2^53 bytes (8 PiB) is a typo, not a machine. */
function readByteSize(text: string): number | 'not-a-size' | 'zero' | 'too-large' {
  const match = SIZE.exec(text);
  if (!match) return 'not-a-size';
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1 : BINARY_UNITS[unit];
  if (factor === undefined) return 'not-a-size';
  const bytes = Number(match[1]) * factor;
  if (unit === '' && !Number.isInteger(bytes)) return 'not-a-size';
  if (bytes === 0) return 'zero';
  if (!(bytes <= Number.MAX_SAFE_INTEGER)) return 'too-large';
  return Math.floor(bytes);
}

export function parseMemoryLimitEnv(text: string, name = 'MEMTUNE_MEMORY_LIMIT'): number {
  const size = readByteSize(text);
  if (typeof size === 'number') return size;
  const messages = { 'not-a-size': 'not a memory size.', zero: 'zero is not a memory limit.', 'too-large': 'too large for a memory limit (above 8 PiB).' };
  throw new UsageError({
    where: `${name}=${quote(text)}`,
    message: messages[size],
    fix: `Write bytes (2147483648) or a binary unit: KiB, MiB, GiB, TiB (e.g. ${name}=2GiB).`,
  });
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(bytes % GiB === 0 ? 0 : 1)} GiB`;
  if (bytes >= MiB) return `${Math.round(bytes / MiB)} MiB`;
  if (bytes >= KiB) return `${Math.round(bytes / KiB)} KiB`;
  return `${bytes} B`;
}

export function toMiB(bytes: number): number {
  return Math.floor(bytes / MiB);
}

/**
 * A share written as `60%` (white space allowed around it; decimals too), or also as a bare `60` with
 * `signOptional`. Returns the number before the sign, undefined when the text is not one; callers check
 * the range and build the message that names their input.
 */
export function parsePercent(text: string, options: { signOptional?: boolean } = {}): number | undefined {
  const match = (options.signOptional ? PERCENT_SIGN_OPTIONAL : PERCENT).exec(text);
  return match ? Number(match[1]) : undefined;
}

/** `percent` % of `bytes`, in whole MiB (rounded down): how a share of the memory limit becomes a heap size. */
export function percentOfMiB(bytes: number, percent: number): number {
  return Math.floor((bytes * percent) / 100 / MiB);
}
