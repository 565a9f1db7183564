#!/usr/bin/env node
// CommonJS (bin/package.json): on Node 20 an ES module entry costs about 10 ms of loader set-up before any of our code.
// `memtune run` starts before every script: it loads its one bundled file (src/run/entry.ts says why); the other
// commands load the compiled dist/cli.js and, from there, only their own modules.
const argv = process.argv.slice(2);
if (argv[0] === 'run') require('../dist/bundle/run.cjs').main(argv.slice(1));
else import('../dist/cli.js').then((cli) => cli.main(argv));
