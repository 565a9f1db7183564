#!/usr/bin/env node
import { createRequire } from 'node:module';

// `memtune run` starts before every script: it loads its one bundled file (src/run/entry.ts says why); the other
// commands load the compiled dist/cli.js and, from there, only their own modules.
const argv = process.argv.slice(2);
if (argv[0] === 'run') createRequire(import.meta.url)('../dist/bundle/run.cjs').main(argv.slice(1));
else import('../dist/cli.js').then((cli) => cli.main(argv));
