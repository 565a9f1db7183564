import { quote } from '../shared/errors.js';
import type { Profiles } from '../shared/profiles.js';
import { flagKey, isRepeatable, nodeOptionsFileError, scanNodeOptionsFile } from '../run/node-options.js';
import type { CarriedFlag, ScriptRewrite } from './scripts.js';

/** What a rewritten script puts into `.node-options`. */
export type SectionScript = Pick<ScriptRewrite, 'name' | 'original' | 'profile' | 'flags'>;

export interface SectionFlag {
  section: string;
  /** The script it came from. */
  script: string;
  /** The line as written to the file, `--max-old-space-size=4096`. */
  flag: string;
}

export interface NodeOptionsSections {
  text: string;
  added: SectionFlag[];
  /** Sections that did not exist before. */
  created: string[];
  /** Flags not written: the section already has it, or another value (`conflict`: the first is kept), or no line can hold it. */
  skipped: Array<SectionFlag & { reason: string; conflict: boolean }>;
}

/**
 * `.node-options` with each script's flags under its profile's section, after a `# was:` comment with the script
 * as it was. Every existing line stays as it is; a missing section is added at the end with a comment saying what it
 * is for. A flag the section already sets (any spelling) is not written again; another value for it is a conflict,
 * reported, and the first value stays. A file memtune run would refuse is refused here too, with its `file:line`.
 */
export function nodeOptionsWithScripts(before: string | undefined, path: string, scripts: readonly SectionScript[], profiles: Profiles): NodeOptionsSections {
  const names = Object.keys(profiles);
  const text = before ?? '';
  const { file, problems } = scanNodeOptionsFile(text, path, names);
  if (problems.length > 0) throw nodeOptionsFileError(path, problems);
  const added: SectionFlag[] = [];
  const skipped: NodeOptionsSections['skipped'] = [];
  /** Per section, what it sets so far: the file's flags, then those written for earlier scripts. */
  const present = new Map<string, Array<{ key: string; value: string | undefined; flag: string; from: string }>>();
  const blocks = new Map<string, string[]>();
  for (const script of scripts) {
    const section = script.profile;
    if (!present.has(section)) {
      present.set(
        section,
        file.flags.filter((flag) => flag.section === section).map((flag) => ({ key: flagKey(flag.name), value: flag.value, flag: lineOf(flag), from: flag.origin.label })),
      );
    }
    const seen = present.get(section)!;
    const lines: string[] = [];
    for (const flag of script.flags) {
      const line = lineOf(flag);
      const entry = { section, script: script.name, flag: line };
      if (!writable(line, flag, path, names)) {
        skipped.push({ ...entry, reason: 'a .node-options line holds one flag without spaces or #: set it in the script instead', conflict: false });
        continue;
      }
      const key = flagKey(flag.name);
      const same = seen.find((other) => other.key === key && (other.value === flag.value || !isRepeatable(flag.name)));
      if (same && same.value === flag.value) {
        skipped.push({ ...entry, reason: `[${section}] already has ${same.flag} (${same.from})`, conflict: false });
        continue;
      }
      if (same) {
        skipped.push({
          ...entry,
          reason: `[${section}] already sets ${same.flag} (${same.from}); that one is kept, so the ${quote(script.name)} script now gets it too`,
          conflict: true,
        });
        continue;
      }
      seen.push({ key, value: flag.value, flag: line, from: `the ${quote(script.name)} script` });
      if (flag.basis) lines.push(`# ${line}: ${flag.basis}`);
      lines.push(line);
      added.push(entry);
    }
    if (lines.length === 0) continue;
    blocks.set(section, [...(blocks.get(section) ?? []), `# was: ${quote(script.name)}: ${quote(script.original)}`, ...lines]);
  }
  return {
    text: withBlocks(text, file.sections, blocks, profiles),
    added,
    created: [...blocks.keys()].filter((name) => !file.sections.some((entry) => entry.name === name)),
    skipped,
  };
}

function lineOf(flag: Pick<CarriedFlag, 'name' | 'value'>): string {
  return flag.value === undefined ? flag.name : `${flag.name}=${flag.value}`;
}

/** The line reads back as the same flag: no white space or `#` in a value turns it into something else. */
function writable(line: string, flag: CarriedFlag, path: string, names: readonly string[]): boolean {
  const { file, problems } = scanNodeOptionsFile(line, path, names);
  const read = file.flags[0];
  return problems.length === 0 && file.flags.length === 1 && read?.name === flag.name && read.value === flag.value;
}

/** Inserts each block after the last line with content of its section (the bottom one first), new sections at the end. */
function withBlocks(text: string, sections: ReadonlyArray<{ name: string; line: number }>, blocks: Map<string, string[]>, profiles: Profiles): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text === '' ? [] : text.split('\n');
  const inserts: Array<{ at: number; lines: string[] }> = [];
  const appended: string[] = [];
  for (const [name, block] of blocks) {
    const header = sections.filter((entry) => entry.name === name).at(-1);
    if (!header) {
      appended.push('', `[${name}]`, `# memtune run ${name} (${profiles[name]!.description}): these flags come after the profile's own`, ...block);
      continue;
    }
    const next = sections.find((entry) => entry.line > header.line)?.line ?? lines.length + 1;
    let at = header.line;
    for (let index = next - 2; index >= header.line; index--) {
      if (lines[index]!.replace(/(^|\s)#.*$/, '').trim() !== '') {
        at = index + 1;
        break;
      }
    }
    inserts.push({ at, lines: block });
  }
  const cr = eol === '\r\n' ? '\r' : '';
  for (const insert of inserts.sort((a, b) => b.at - a.at)) lines.splice(insert.at, 0, ...insert.lines.map((line) => line + cr));
  let result = lines.join('\n');
  if (appended.length === 0) return result;
  if (result === '') appended.shift();
  else if (!result.endsWith('\n')) result += eol;
  else if (result.trim() === '' || /\n\r?\n$/.test(result)) appended.shift();
  return result + appended.join(eol) + eol;
}
