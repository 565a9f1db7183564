export * from './schema.js';
export * from './types.js';
export * from './paths.js';
