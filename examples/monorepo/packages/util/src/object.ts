export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function pick<T extends object, const K extends keyof T>(object: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) out[key] = object[key];
  return out;
}

export function omit<T extends object, const K extends keyof T>(object: T, keys: readonly K[]): Omit<T, K> {
  const out = { ...object };
  for (const key of keys) delete out[key];
  return out;
}

/** Describes a runtime value's type for error messages: `null`, `array`, `object`, `string`, ... */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
