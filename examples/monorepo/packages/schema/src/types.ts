/** Flattens intersections so hovers and errors show one object type. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type Primitive = string | number | boolean | bigint | symbol | null | undefined;

export type DeepReadonly<T> = T extends Primitive | ((...args: never[]) => unknown)
  ? T
  : T extends ReadonlyArray<infer E>
    ? ReadonlyArray<DeepReadonly<E>>
    : { readonly [K in keyof T]: DeepReadonly<T[K]> };

export type DeepPartial<T> = T extends Primitive | ((...args: never[]) => unknown)
  ? T
  : T extends ReadonlyArray<infer E>
    ? Array<DeepPartial<E>>
    : { [K in keyof T]?: DeepPartial<T[K]> };

/** Homomorphic over arrays and tuples: `[number, number] | undefined` stays a tuple. */
export type DeepRequired<T> = T extends Primitive | ((...args: never[]) => unknown)
  ? Exclude<T, undefined>
  : { [K in keyof T]-?: DeepRequired<T[K]> };

/** Union of the members of `U` turned into an intersection. */
export type UnionToIntersection<U> = (U extends unknown ? (arg: U) => void : never) extends (arg: infer I) => void
  ? I
  : never;

/** `true` when A and B are the same type (used by the type-level assertions in the tests). */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export type Expect<T extends true> = T;
