import { type Notice, UsageError, quote } from '../shared/errors.js';
import type { PackageManifest } from '../shared/workspace-package.js';

export interface StartCommand {
  /** Node flags of the start script, before the entry file (heap flags removed). */
  nodeFlags: string[];
  entry: string;
  args: string[];
  source: string;
}

const HEAP_FLAG = /^--max[-_]old[-_]space[-_]size(?:[-_]percentage)?(?:=|$)/;
/** Node flags whose value is the next word when not written with `=`. */
const FLAGS_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--title', '--input-type']);

/**
 * The entry of a start script written as `node [flags] FILE [args]`, optionally behind `memtune run start --`.
 * Returns undefined for anything else (a shell line, another program), which the caller reports.
 */
export function parseStartScript(script: string): { nodeFlags: string[]; entry: string; args: string[]; dropped: string[] } | undefined {
  if (/["'`$;&|<>(){}\\]/.test(script)) return undefined;
  let words = script.trim().split(/\s+/);
  if (words[0] === 'memtune' && words[1] === 'run') {
    const dashes = words.indexOf('--');
    if (dashes < 0) return undefined;
    words = words.slice(dashes + 1);
  }
  if (words[0] !== 'node') return undefined;
  const nodeFlags: string[] = [];
  const dropped: string[] = [];
  let i = 1;
  for (; i < words.length && words[i]!.startsWith('-'); i++) {
    const word = words[i]!;
    const takesValue = FLAGS_WITH_VALUE.has(word) && i + 1 < words.length;
    const flag = takesValue ? [word, words[++i]!] : [word];
    if (HEAP_FLAG.test(word)) {
      if (!word.includes('=') && i + 1 < words.length && /^\d/.test(words[i + 1]!)) flag.push(words[++i]!);
      dropped.push(flag.join(' '));
    } else {
      nodeFlags.push(...flag);
    }
  }
  const entry = words[i];
  if (entry === undefined) return undefined;
  return { nodeFlags, entry, args: words.slice(i + 1), dropped };
}

export function resolveStartCommand(manifest: PackageManifest, where: string): { start: StartCommand; warnings: Notice[] } {
  const warnings: Notice[] = [];
  const script = manifest.scripts?.start;
  if (script !== undefined) {
    const parsed = parseStartScript(script);
    if (!parsed) {
      throw new UsageError({
        message: `the start script of ${where} is ${quote(script)}; memtune docker needs it to start node on a file, so the image can size that node's heap.`,
        fix: 'Write it as "start": "node dist/server.js" (or "memtune run start -- node dist/server.js").',
      });
    }
    if (parsed.dropped.length > 0) {
      warnings.push({
        message: `the start script of ${where} sets ${parsed.dropped.map(quote).join(', ')}; the image leaves that out and sizes the heap from the container's limit instead.`,
        fix: 'Remove it from the script so that both start the same way.',
      });
    }
    return { start: { nodeFlags: parsed.nodeFlags, entry: parsed.entry, args: parsed.args, source: `the start script of ${where}` }, warnings };
  }
  if (typeof manifest.main === 'string' && manifest.main !== '') {
    return { start: { nodeFlags: [], entry: manifest.main, args: [], source: `"main" of ${where}` }, warnings };
  }
  throw new UsageError({
    message: `${where} has neither a start script nor a "main"; memtune docker cannot tell which file the container starts.`,
    fix: 'Add one: npm pkg set scripts.start="node dist/server.js"',
  });
}
