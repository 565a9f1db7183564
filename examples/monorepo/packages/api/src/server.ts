import http from 'node:http';
import { ValidationError, type Schema } from '@example/schema';
import { formatPath, truncate } from '@example/util';
import { orderInput, Store, userInput } from './routes.js';

const MAX_BODY_BYTES = 64 * 1024;

class HttpError extends Error {
  readonly status: number;
  readonly details: unknown;
  constructor(status: number, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

async function readJson<T>(request: http.IncomingMessage, schema: Schema<T>): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `invalid JSON: ${truncate(String(error), 80)}`);
  }
  try {
    return schema.parse(body);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new HttpError(
        422,
        'validation failed',
        error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
      );
    }
    throw error;
  }
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** The HTTP service: GET /health, POST /users, POST /orders, GET /orders/:id. Call `.listen()` on the result. */
export function createServer(store = new Store()): http.Server {
  return http.createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = `${request.method ?? 'GET'} ${url.pathname}`;
    try {
      if (route === 'GET /health') return send(response, 200, { ok: true, users: store.users.size, orders: store.orders.size });
      if (route === 'POST /users') return send(response, 201, store.addUser(await readJson(request, userInput)));
      if (route === 'POST /orders') {
        const input = await readJson(request, orderInput);
        if (!store.users.has(input.userId)) throw new HttpError(404, `unknown user ${truncate(input.userId, 40)}`);
        return send(response, 201, store.addOrder(input));
      }
      const match = /^GET \/orders\/([\w-]+)$/.exec(route);
      if (match) {
        const order = store.orders.get(match[1]!);
        return order ? send(response, 200, order) : send(response, 404, { error: 'not found' });
      }
      send(response, 404, { error: `no route for ${route}` });
    } catch (error) {
      if (error instanceof HttpError) return send(response, error.status, { error: error.message, details: error.details });
      console.error(error);
      send(response, 500, { error: 'internal error' });
    }
  });
}
