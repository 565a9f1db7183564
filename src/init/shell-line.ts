/** A word of a shell line: `raw` as written (to put back unchanged), `value` with its quotes and escapes removed. */
export interface ShellWord {
  kind: 'word';
  raw: string;
  value: string;
  /** Variables the shell would expand in it (`$HEAP`, `${HEAP}`), by name. */
  vars: string[];
}

/** What separates commands: `;` (a new line too), `&&`, `||`, `|`, `&`. */
export interface ShellOperator {
  kind: 'operator';
  op: string;
}

export type ShellToken = ShellWord | ShellOperator;

/**
 * The words and operators of an npm script as sh reads it, or why memtune will not take it apart: a subshell,
 * a command substitution, a redirection, a comment or a quote without its pair. Globs and `$VAR` are kept in
 * `raw`, since the shell that runs the rewritten line still expands them.
 */
export function shellTokens(line: string): { tokens: ShellToken[] } | { problem: string } {
  const tokens: ShellToken[] = [];
  let word: ShellWord | undefined;
  let start = 0;
  const begin = (at: number): ShellWord => {
    if (!word) {
      word = { kind: 'word', raw: '', value: '', vars: [] };
      start = at;
    }
    return word;
  };
  const end = (at: number) => {
    if (!word) return;
    word.raw = line.slice(start, at);
    tokens.push(word);
    word = undefined;
  };
  /** Reads a `$NAME` or `${NAME}` at `at`; returns the index after it, or `at` when it is a plain `$`. */
  const variable = (at: number, into: ShellWord): number | { problem: string } => {
    const next = line[at + 1];
    if (next === '(') return { problem: 'a command substitution $( … )' };
    const braced = next === '{' ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(line.slice(at)) : /^\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/.exec(line.slice(at));
    if (next === '{' && !braced) return { problem: `a parameter expansion it cannot read (${line.slice(at, at + 12)}…)` };
    if (!braced) return at;
    into.vars.push(braced[1]!);
    into.value += braced[0];
    return at + braced[0].length;
  };
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === ' ' || char === '\t') {
      end(i);
    } else if (char === '\n' || char === ';') {
      end(i);
      tokens.push({ kind: 'operator', op: ';' });
    } else if (char === '&' || char === '|') {
      end(i);
      const op = line[i + 1] === char ? char + char : char;
      tokens.push({ kind: 'operator', op });
      i += op.length - 1;
    } else if (char === '(' || char === ')') {
      return { problem: 'a subshell ( … )' };
    } else if (char === '<' || char === '>') {
      return { problem: 'a redirection (< or >)' };
    } else if (char === '`') {
      return { problem: 'a command substitution ` … `' };
    } else if (char === '#' && !word) {
      return { problem: 'a comment (#)' };
    } else if (char === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return { problem: 'a single quote without its pair' };
      begin(i).value += line.slice(i + 1, close);
      i = close;
    } else if (char === '"') {
      const into = begin(i);
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const inner = line[j]!;
        // A backslash before a newline joins the lines: both go.
        if (inner === '\\' && line[j + 1] === '\n') j++;
        else if (inner === '\\' && j + 1 < line.length && '$`"\\'.includes(line[j + 1]!)) into.value += line[++j];
        else if (inner === '`') return { problem: 'a command substitution ` … `' };
        else if (inner === '$') {
          const after = variable(j, into);
          if (typeof after === 'object') return after;
          if (after === j) into.value += inner;
          else j = after - 1;
        } else into.value += inner;
      }
      if (j >= line.length) return { problem: 'a double quote without its pair' };
      i = j;
    } else if (char === '\\' && line[i + 1] === '\n') {
      // A line continuation: sh removes it before it reads words, so it neither ends nor starts one.
      i++;
    } else if (char === '\\') {
      if (i + 1 >= line.length) return { problem: 'a backslash at the end of the line' };
      begin(i).value += line[++i];
    } else if (char === '$') {
      const into = begin(i);
      const after = variable(i, into);
      if (typeof after === 'object') return after;
      if (after === i) into.value += char;
      else i = after - 1;
    } else {
      begin(i).value += char;
    }
  }
  end(line.length);
  return { tokens };
}
