export { createServer } from './server.js';
export type { Order, OrderInput, User, UserInput } from './routes.js';
