#!/usr/bin/env node
// CommonJS (bin/package.json): on Node 20 an ES module entry costs about 10 ms of loader set-up before any of our code.
// `memtune run` starts before every script: it loads its one bundled file (loadRun); the other commands load the
// compiled dist/cli.js and, from there, only their own modules.
const argv = process.argv.slice(2);
const run = argv[0] === 'run' ? loadRun() : undefined;
if (run) run.main(argv.slice(1), { beforeStart: run.saveCodeCache });
else import('../dist/cli.js').then((cli) => cli.main(argv));

/**
 * dist/bundle/run.cjs (src/run/entry.ts says why one bundled file), compiled with the V8 code cache an earlier run
 * left beside it. V8 compiles a function when it first runs and a run calls most of the bundle once, so a cache made
 * after a run spares most of the compiling. The file is named by the bundle's hash (its first line: V8 checks only
 * the source's length), the V8 version and the architecture; V8 refuses one made under other flags. It is written
 * when missing or refused, right before the command starts (a process that execs never exits), to a temporary file
 * renamed into place, so a reader sees a whole cache or none; where it cannot be written, every run compiles.
 * Undefined when there is no bundle.
 */
function loadRun() {
  const { readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const { Script } = require('node:vm');
  const dir = join(__dirname, '..', 'dist', 'bundle');
  const file = join(dir, 'run.cjs');
  let source;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    // A build by tsc -b alone has no bundle: run goes through dist/cli.js, as every command did before.
    return undefined;
  }
  const name = `run-${source.slice(3, source.indexOf('\n'))}-${process.versions.v8}-${process.arch}`;
  const cacheFile = join(dir, `${name}.cache`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require('node:module').createRequire(file), module, file, dir);
  const saveCodeCache = () => {
    if (cachedData !== undefined && !script.cachedDataRejected) return;
    // Ends in .cache too: npm pack and the next build drop one a killed run left behind.
    const temporary = join(dir, `${name}.${process.pid}.tmp.cache`);
    try {
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
    } catch {
      rmSync(temporary, { force: true });
    }
  };
  return { main: module.exports.main, saveCodeCache };
}
