import { describe, formatPath, isPlainObject, truncate } from '@example/util';
import type { Simplify } from './types.js';

export type PathSegment = string | number;

export interface Issue {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: readonly Issue[] };

export class ValidationError extends Error {
  readonly issues: readonly Issue[];
  constructor(issues: readonly Issue[]) {
    super(issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; '));
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

type Check<T> = (value: unknown, path: readonly PathSegment[], issues: Issue[]) => T;

/** A runtime validator whose static type is its output type `T`. */
export class Schema<T> {
  /** Phantom field: carries `T` for `Infer` without existing at runtime. */
  declare readonly _output: T;
  readonly kind: string;
  readonly check: Check<T>;

  constructor(kind: string, check: Check<T>) {
    this.kind = kind;
    this.check = check;
  }

  safeParse(input: unknown): Result<T> {
    const issues: Issue[] = [];
    const value = this.check(input, [], issues);
    return issues.length === 0 ? { ok: true, value } : { ok: false, issues };
  }

  parse(input: unknown): T {
    const result = this.safeParse(input);
    if (!result.ok) throw new ValidationError(result.issues);
    return result.value;
  }

  optional(): OptionalSchema<T> {
    return new OptionalSchema(this);
  }

  nullable(): Schema<T | null> {
    return new Schema(`${this.kind} | null`, (value, path, issues) => (value === null ? null : this.check(value, path, issues)));
  }

  array(): Schema<T[]> {
    return array(this);
  }

  refine(predicate: (value: T) => boolean, message: string): Schema<T> {
    return new Schema(this.kind, (value, path, issues) => {
      const before = issues.length;
      const out = this.check(value, path, issues);
      if (issues.length === before && !predicate(out)) issues.push({ path, message });
      return out;
    });
  }

  transform<U>(fn: (value: T) => U): Schema<U> {
    return new Schema(this.kind, (value, path, issues) => {
      const before = issues.length;
      const out = this.check(value, path, issues);
      return issues.length === before ? fn(out) : (undefined as U);
    });
  }

  default(fallback: Exclude<T, undefined>): Schema<Exclude<T, undefined>> {
    return new Schema(this.kind, (value, path, issues) =>
      value === undefined ? fallback : (this.check(value, path, issues) as Exclude<T, undefined>),
    );
  }
}

/** Marks an object key as optional (`key?: T`) in the inferred type. */
export class OptionalSchema<T> extends Schema<T | undefined> {
  readonly inner: Schema<T>;
  constructor(inner: Schema<T>) {
    super(`${inner.kind}?`, (value, path, issues) => (value === undefined ? undefined : inner.check(value, path, issues)));
    this.inner = inner;
  }
}

export type AnySchema = Schema<any>;
export type Infer<S> = S extends Schema<infer T> ? T : never;
export type Shape = { readonly [key: string]: AnySchema };

type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<any> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;

export type InferShape<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

function fail<T>(issues: Issue[], path: readonly PathSegment[], message: string): T {
  issues.push({ path, message });
  return undefined as T;
}

function typed<T>(kind: string, guard: (value: unknown) => value is T): Schema<T> {
  return new Schema(kind, (value, path, issues) =>
    guard(value) ? value : fail(issues, path, `expected ${kind}, got ${describe(value)}`),
  );
}

export function string(options: { min?: number; max?: number; pattern?: RegExp } = {}): Schema<string> {
  return typed('string', (v): v is string => typeof v === 'string')
    .refine((v) => options.min === undefined || v.length >= options.min, `must have at least ${options.min} characters`)
    .refine((v) => options.max === undefined || v.length <= options.max, `must have at most ${options.max} characters`)
    .refine((v) => options.pattern === undefined || options.pattern.test(v), `must match ${options.pattern}`);
}

export function number(options: { min?: number; max?: number; int?: boolean } = {}): Schema<number> {
  return typed('number', (v): v is number => typeof v === 'number' && Number.isFinite(v))
    .refine((v) => !options.int || Number.isInteger(v), 'must be an integer')
    .refine((v) => options.min === undefined || v >= options.min, `must be >= ${options.min}`)
    .refine((v) => options.max === undefined || v <= options.max, `must be <= ${options.max}`);
}

export function boolean(): Schema<boolean> {
  return typed('boolean', (v): v is boolean => typeof v === 'boolean');
}

export function unknown(): Schema<unknown> {
  return new Schema('unknown', (value) => value);
}

export function literal<const V extends string | number | boolean | null>(expected: V): Schema<V> {
  return new Schema(JSON.stringify(expected), (value, path, issues) =>
    value === expected ? (value as V) : fail(issues, path, `expected ${JSON.stringify(expected)}, got ${truncate(JSON.stringify(value) ?? describe(value), 40)}`),
  );
}

export function enumeration<const V extends readonly [string, ...string[]]>(values: V): Schema<V[number]> {
  return new Schema(values.join(' | '), (value, path, issues) =>
    typeof value === 'string' && values.includes(value)
      ? (value as V[number])
      : fail(issues, path, `expected one of ${values.join(', ')}`),
  );
}

export function array<S extends AnySchema>(item: S, options: { min?: number; max?: number } = {}): Schema<Infer<S>[]> {
  return new Schema(`${item.kind}[]`, (value, path, issues) => {
    if (!Array.isArray(value)) return fail(issues, path, `expected array, got ${describe(value)}`);
    if (options.min !== undefined && value.length < options.min) fail(issues, path, `must have at least ${options.min} items`);
    if (options.max !== undefined && value.length > options.max) fail(issues, path, `must have at most ${options.max} items`);
    return value.map((element, index) => item.check(element, [...path, index], issues) as Infer<S>);
  });
}

export function tuple<const S extends readonly AnySchema[]>(items: S): Schema<{ -readonly [K in keyof S]: Infer<S[K]> }> {
  type Out = { -readonly [K in keyof S]: Infer<S[K]> };
  return new Schema(`[${items.map((s) => s.kind).join(', ')}]`, (value, path, issues) => {
    if (!Array.isArray(value) || value.length !== items.length) {
      return fail<Out>(issues, path, `expected a tuple of ${items.length}, got ${describe(value)}`);
    }
    return items.map((schema, index) => schema.check(value[index], [...path, index], issues)) as Out;
  });
}

export function record<S extends AnySchema>(values: S): Schema<Record<string, Infer<S>>> {
  return new Schema(`record<${values.kind}>`, (value, path, issues) => {
    if (!isPlainObject(value)) return fail(issues, path, `expected object, got ${describe(value)}`);
    const out: Record<string, Infer<S>> = {};
    for (const [key, element] of Object.entries(value)) out[key] = values.check(element, [...path, key], issues) as Infer<S>;
    return out;
  });
}

/** An object schema that keeps its shape, so it can be extended, picked and made partial. */
export class ObjectSchema<S extends Shape> extends Schema<InferShape<S>> {
  readonly shape: S;
  constructor(shape: S, strict = false) {
    super('object', (value, path, issues) => {
      if (!isPlainObject(value)) return fail(issues, path, `expected object, got ${describe(value)}`);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(shape)) {
        const result = shape[key]!.check(value[key], [...path, key], issues);
        if (result !== undefined) out[key] = result;
      }
      if (strict) {
        for (const key of Object.keys(value)) if (!(key in shape)) fail(issues, [...path, key], 'unknown key');
      }
      return out as InferShape<S>;
    });
    this.shape = shape;
  }

  extend<E extends Shape>(extra: E): ObjectSchema<Simplify<Omit<S, keyof E> & E>> {
    return new ObjectSchema({ ...this.shape, ...extra } as Simplify<Omit<S, keyof E> & E>);
  }

  pick<const K extends keyof S & string>(keys: readonly K[]): ObjectSchema<Pick<S, K>> {
    const out = {} as Pick<S, K>;
    for (const key of keys) out[key] = this.shape[key];
    return new ObjectSchema(out);
  }

  omit<const K extends keyof S & string>(keys: readonly K[]): ObjectSchema<Omit<S, K>> {
    const out: Record<string, AnySchema> = { ...this.shape };
    for (const key of keys) delete out[key];
    return new ObjectSchema(out as Omit<S, K>);
  }

  partial(): ObjectSchema<{ [K in keyof S]: OptionalSchema<Infer<S[K]>> }> {
    const out: Record<string, AnySchema> = {};
    for (const [key, schema] of Object.entries(this.shape)) out[key] = schema instanceof OptionalSchema ? schema : schema.optional();
    return new ObjectSchema(out as { [K in keyof S]: OptionalSchema<Infer<S[K]>> });
  }

  strict(): ObjectSchema<S> {
    return new ObjectSchema(this.shape, true);
  }
}

export function object<const S extends Shape>(shape: S): ObjectSchema<S> {
  return new ObjectSchema(shape);
}

export function union<const S extends readonly [AnySchema, ...AnySchema[]]>(...members: S): Schema<Infer<S[number]>> {
  return new Schema(members.map((m) => m.kind).join(' | '), (value, path, issues) => {
    const collected: Issue[] = [];
    for (const member of members) {
      const attempt: Issue[] = [];
      const out = member.check(value, path, attempt);
      if (attempt.length === 0) return out as Infer<S[number]>;
      collected.push(...attempt);
    }
    return fail(issues, path, `no union member matched (${collected.map((i) => i.message).join(' / ')})`);
  });
}

type DiscriminatedOutput<K extends string, S extends readonly ObjectSchema<Shape>[]> = {
  [I in keyof S]: S[I] extends ObjectSchema<infer Sh> ? (Sh[K] extends Schema<any> ? InferShape<Sh> : never) : never;
}[number];

/** A union picked by one literal key, e.g. `type: "card" | "invoice"`: errors point into the matching branch. */
export function discriminatedUnion<K extends string, const S extends readonly [ObjectSchema<Shape>, ...ObjectSchema<Shape>[]]>(
  key: K,
  members: S,
): Schema<DiscriminatedOutput<K, S>> {
  return new Schema(`union on ${key}`, (value, path, issues) => {
    if (!isPlainObject(value)) return fail(issues, path, `expected object, got ${describe(value)}`);
    for (const member of members) {
      const tag = member.shape[key];
      if (tag && tag.safeParse(value[key]).ok) return member.check(value, path, issues) as DiscriminatedOutput<K, S>;
    }
    return fail(issues, [...path, key], `unknown ${key} ${truncate(String(value[key]), 40)}`);
  });
}

export function intersection<A extends AnySchema, B extends AnySchema>(a: A, b: B): Schema<Simplify<Infer<A> & Infer<B>>> {
  return new Schema(`${a.kind} & ${b.kind}`, (value, path, issues) => {
    const left = a.check(value, path, issues) as object;
    const right = b.check(value, path, issues) as object;
    return { ...left, ...right } as Simplify<Infer<A> & Infer<B>>;
  });
}

export function lazy<T>(get: () => Schema<T>): Schema<T> {
  return new Schema('lazy', (value, path, issues) => get().check(value, path, issues));
}
