/**
 * `memtune run` on its own, without cli.ts and the other commands. It starts before every script, so
 * `npm run build` bundles this file and what it imports into one CommonJS file, dist/bundle/run.cjs
 * (scripts/bundle-run.ts), which the bin loads for `run`: one file to read and compile instead of a dozen
 * ES modules, and Node's built-ins through require(), which unlike an ES import builds no module facade.
 */
export { main } from './command.js';
