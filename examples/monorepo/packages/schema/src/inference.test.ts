/// <reference types="node" />
// Compile-time checks of the inferred types (each `Expect<Equals<...>>` fails the build when inference
// changes) plus a few runtime checks. This file is what makes `schema` heavier to type-check than `util`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as s from './index.js';
import type { DeepPartial, DeepReadonly, DeepRequired, Equals, Expect, Infer, PathValue, Paths, UnionToIntersection } from './index.js';

const money = s.object({ amount: s.number({ min: 0 }), currency: s.enumeration(['EUR', 'USD', 'GBP']) });
const address = s.object({
  street: s.string({ min: 1 }),
  city: s.string(),
  postcode: s.string({ pattern: /^[0-9A-Z -]{3,10}$/ }),
  country: s.literal('DE').optional(),
  geo: s.tuple([s.number(), s.number()]).optional(),
});
const customer = s.object({
  id: s.string(),
  name: s.string(),
  email: s.string().optional(),
  vip: s.boolean().default(false),
  tags: s.array(s.string()),
  address,
  billing: address.nullable().optional(),
});
const lineItem = s.object({
  sku: s.string({ pattern: /^[A-Z]{3}-\d{4}$/ }),
  quantity: s.number({ int: true, min: 1 }),
  price: money,
  attributes: s.record(s.union(s.string(), s.number(), s.boolean())).optional(),
});
const payment = s.discriminatedUnion('type', [
  s.object({ type: s.literal('card'), last4: s.string({ min: 4, max: 4 }), expires: s.tuple([s.number(), s.number()]) }),
  s.object({ type: s.literal('invoice'), dueDays: s.number({ int: true }) }),
  s.object({ type: s.literal('voucher'), code: s.string(), remaining: money.optional() }),
]);
const order = s.object({
  id: s.string(),
  status: s.enumeration(['draft', 'placed', 'shipped', 'cancelled']),
  customer,
  items: s.array(lineItem, { min: 1 }),
  payment,
  notes: s.array(s.object({ at: s.number(), text: s.string() })).optional(),
  meta: s.record(s.unknown()),
});

type Money = Infer<typeof money>;
type Address = Infer<typeof address>;
type Customer = Infer<typeof customer>;
type LineItem = Infer<typeof lineItem>;
type Payment = Infer<typeof payment>;
type Order = Infer<typeof order>;

interface Category {
  name: string;
  children: Category[];
}
const category: s.Schema<Category> = s.lazy(() => s.object({ name: s.string(), children: s.array(category) }));

const patch = order.pick(['status', 'notes']).partial();
const customerInput = customer.omit(['id']).extend({ password: s.string({ min: 12 }) });
const stamped = s.intersection(money, s.object({ at: s.number() }));
const priced = lineItem.transform((item) => ({ ...item, total: item.quantity * item.price.amount }));

export type Assertions = [
  Expect<Equals<Money, { amount: number; currency: 'EUR' | 'USD' | 'GBP' }>>,
  Expect<Equals<Address['country'], 'DE' | undefined>>,
  Expect<Equals<Address['geo'], [number, number] | undefined>>,
  Expect<Equals<Customer['vip'], boolean>>,
  Expect<Equals<Customer['email'], string | undefined>>,
  Expect<Equals<Customer['billing'], Address | null | undefined>>,
  Expect<Equals<LineItem['attributes'], Record<string, string | number | boolean> | undefined>>,
  Expect<Equals<Payment['type'], 'card' | 'invoice' | 'voucher'>>,
  Expect<Equals<Extract<Payment, { type: 'card' }>['expires'], [number, number]>>,
  Expect<Equals<Extract<Payment, { type: 'voucher' }>['remaining'], Money | undefined>>,
  Expect<Equals<Order['status'], 'draft' | 'placed' | 'shipped' | 'cancelled'>>,
  Expect<Equals<Order['items'], LineItem[]>>,
  Expect<Equals<Order['meta'], Record<string, unknown>>>,
  Expect<Equals<Infer<typeof patch>, { status?: Order['status'] | undefined; notes?: Order['notes'] | undefined }>>,
  Expect<Equals<Infer<typeof customerInput>['password'], string>>,
  Expect<Equals<'id' extends keyof Infer<typeof customerInput> ? true : false, false>>,
  Expect<Equals<Infer<typeof stamped>, { amount: number; currency: Money['currency']; at: number }>>,
  Expect<Equals<Infer<typeof priced>['total'], number>>,
  Expect<Equals<Infer<typeof category>['children'][number]['children'], Category[]>>,
  Expect<Equals<PathValue<Order, 'customer.address.city'>, string>>,
  Expect<Equals<PathValue<Order, 'items.0.price.currency'>, Money['currency'] | undefined>>,
  Expect<Equals<PathValue<Order, 'payment.type'>, Payment['type']>>,
  Expect<'customer.address.postcode' extends Paths<Order> ? true : false>,
  Expect<'items.3.attributes' extends Paths<Order> ? true : false>,
  Expect<Equals<'customer.nope' extends Paths<Order> ? true : false, false>>,
  Expect<Equals<DeepReadonly<Order>['items'][number]['price']['amount'], number>>,
  Expect<Equals<DeepPartial<Order>['customer'], DeepPartial<Customer> | undefined>>,
  Expect<Equals<DeepRequired<Customer>['address']['geo'], [number, number]>>,
  Expect<Equals<UnionToIntersection<{ a: 1 } | { b: 2 }>, { a: 1 } & { b: 2 }>>,
  Expect<Equals<Infer<ReturnType<typeof s.tuple<[s.Schema<string>, s.Schema<boolean>]>>>, [string, boolean]>>,
];

const sample = {
  id: 'o-1',
  status: 'placed',
  customer: {
    id: 'c-1',
    name: 'Ada',
    tags: ['beta'],
    address: { street: 'Main 1', city: 'Berlin', postcode: '10115', country: 'DE', geo: [52.5, 13.4] },
  },
  items: [{ sku: 'ABC-1234', quantity: 2, price: { amount: 9.5, currency: 'EUR' } }],
  payment: { type: 'card', last4: '4242', expires: [12, 2030] },
  meta: { source: 'test' },
} satisfies DeepPartial<Order>;

test('parses a valid order and fills defaults', () => {
  const parsed = order.parse(sample);
  assert.equal(parsed.customer.vip, false);
  assert.equal(s.get(parsed, 'customer.address.city'), 'Berlin');
  assert.equal(s.get(parsed, 'items.0.sku'), 'ABC-1234');
  if (parsed.payment.type === 'card') assert.equal(parsed.payment.last4, '4242');
});

test('reports every issue with its path', () => {
  const result = order.safeParse({ ...sample, status: 'lost', items: [{ sku: 'x', quantity: 0, price: { amount: -1, currency: 'EUR' } }] });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.issues.map((issue) => issue.path.join('.')),
    ['status', 'items.0.sku', 'items.0.quantity', 'items.0.price.amount'],
  );
});

test('strict objects, discriminated unions and lazy schemas', () => {
  assert.throws(() => money.strict().parse({ amount: 1, currency: 'EUR', extra: true }), s.ValidationError);
  assert.equal(payment.safeParse({ type: 'cash' }).ok, false);
  assert.deepEqual(category.parse({ name: 'a', children: [{ name: 'b', children: [] }] }).children[0]?.name, 'b');
  assert.equal(priced.parse({ sku: 'ABC-0001', quantity: 3, price: { amount: 2, currency: 'USD' } }).total, 6);
});
