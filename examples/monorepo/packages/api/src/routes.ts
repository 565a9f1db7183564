import * as s from '@example/schema';
import type { Infer } from '@example/schema';
import { kebabCase, round, sum } from '@example/util';

export const userInput = s.object({
  name: s.string({ min: 1, max: 80 }),
  email: s.string({ pattern: /^[^@\s]+@[^@\s]+$/ }),
  role: s.enumeration(['admin', 'member', 'viewer']).optional(),
});

export const orderInput = s.object({
  userId: s.string({ min: 1 }),
  items: s.array(
    s.object({
      sku: s.string({ pattern: /^[A-Z]{3}-\d{4}$/ }),
      quantity: s.number({ int: true, min: 1, max: 99 }),
      unitPrice: s.number({ min: 0 }),
    }),
    { min: 1, max: 50 },
  ),
  payment: s.discriminatedUnion('method', [
    s.object({ method: s.literal('card'), token: s.string({ min: 8 }) }),
    s.object({ method: s.literal('invoice'), dueDays: s.number({ int: true, min: 7, max: 60 }) }),
  ]),
});

export type UserInput = Infer<typeof userInput>;
export type OrderInput = Infer<typeof orderInput>;
export type User = UserInput & { id: string; role: NonNullable<UserInput['role']> };
export type Order = OrderInput & { id: string; total: number };

/** In-memory storage: enough for an example service. */
export class Store {
  readonly users = new Map<string, User>();
  readonly orders = new Map<string, Order>();
  #next = 1;

  addUser(input: UserInput): User {
    const id = `${kebabCase(input.name)}-${this.#next++}`;
    const user: User = { ...input, id, role: input.role ?? 'member' };
    this.users.set(id, user);
    return user;
  }

  addOrder(input: OrderInput): Order {
    const id = `order-${this.#next++}`;
    const total = round(sum(input.items.map((item) => item.quantity * item.unitPrice)), 2);
    const order: Order = { ...input, id, total };
    this.orders.set(id, order);
    return order;
  }
}
