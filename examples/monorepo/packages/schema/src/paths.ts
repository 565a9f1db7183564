import type { Primitive } from './types.js';

type Join<Prefix extends string, Key extends string | number> = Prefix extends '' ? `${Key}` : `${Prefix}.${Key}`;

type PrevDepth = [never, 0, 1, 2, 3, 4, 5, 6, 7];

/** Every dotted path into `T` ("customer.address.city", "items.0.sku"), up to `Depth` levels. */
export type Paths<T, Prefix extends string = '', Depth extends number = 6> = [Depth] extends [never]
  ? never
  : T extends Primitive | Date
    ? never
    : T extends ReadonlyArray<infer E>
      ? Join<Prefix, number> | Paths<E, Join<Prefix, number>, PrevDepth[Depth]>
      : {
          [K in keyof T & (string | number)]-?:
            | Join<Prefix, K>
            | Paths<NonNullable<T[K]>, Join<Prefix, K>, PrevDepth[Depth]>;
        }[keyof T & (string | number)];

/** The type found at a dotted path of `T`. */
export type PathValue<T, P extends string> = T extends undefined
  ? undefined
  : P extends `${infer Head}.${infer Rest}`
    ? T extends ReadonlyArray<infer E>
      ? Head extends `${number}`
        ? PathValue<E, Rest> | undefined
        : never
      : Head extends keyof T
        ? PathValue<T[Head], Rest>
        : never
    : T extends ReadonlyArray<infer E>
      ? P extends `${number}`
        ? E | undefined
        : never
      : P extends keyof T
        ? T[P]
        : never;

/** Reads a dotted path at runtime, typed by `PathValue`. */
export function get<T, P extends Paths<T> & string>(value: T, path: P): PathValue<T, P> {
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (current === null || current === undefined) return undefined as PathValue<T, P>;
    current = (current as Record<string, unknown>)[segment];
  }
  return current as PathValue<T, P>;
}
