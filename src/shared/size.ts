import { UsageError, quote } from './errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const BINARY_UNITS: Record<string, number> = { b: 1, kib: KiB, mib: MiB, gib: GiB, tib: 1024 * GiB };

/**
 * Parses a byte count written as plain bytes (`2147483648`) or with a binary unit (`2GiB`, `512MiB`).
 * Decimal units (`2GB`) are refused on purpose: users mean different things by them.
 * Returns undefined when the text is not a size; callers build the message that names their input.
 */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1 : BINARY_UNITS[unit];
  if (factor === undefined) return undefined;
  const bytes = Number(match[1]) * factor;
  if (!Number.isFinite(bytes) || bytes <= 0) return undefined;
  if (unit === '' && !Number.isInteger(bytes)) return undefined;
  return Math.floor(bytes);
}

export function parseMemoryLimitEnv(text: string, name = 'MEMTUNE_MEMORY_LIMIT'): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) {
    throw new UsageError(
      `memtune: ${name}=${quote(text)} is not a memory size.\n` +
        `Write bytes (2147483648) or a binary unit: KiB, MiB, GiB, TiB (e.g. ${name}=2GiB).`,
    );
  }
  return bytes;
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
