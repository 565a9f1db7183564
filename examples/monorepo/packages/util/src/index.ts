export * from './string.js';
export * from './number.js';
export * from './array.js';
export * from './object.js';
