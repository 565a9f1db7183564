import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from './server.js';

const server = createServer();
let base = '';

before(async () => {
  // Port 0 on loopback: the OS picks a free port, nothing is reachable from outside.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('POST /users validates the body and creates a user', async () => {
  const created = await fetch(`${base}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Ada Lovelace', email: 'ada@example.org' }),
  });
  assert.equal(created.status, 201);
  assert.deepEqual(await created.json(), { name: 'Ada Lovelace', email: 'ada@example.org', id: 'ada-lovelace-1', role: 'member' });

  const rejected = await fetch(`${base}/users`, { method: 'POST', body: JSON.stringify({ name: '', email: 'nope' }) });
  assert.equal(rejected.status, 422);
  const body = (await rejected.json()) as { details: { path: string }[] };
  assert.deepEqual(body.details.map((d) => d.path), ['name', 'email']);
});
